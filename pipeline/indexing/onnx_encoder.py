"""Texts to vectors without torch: the embedding model exported once to ONNX, run by onnxruntime.

Importing sentence-transformers (torch, transformers, sklearn) takes seconds, more than a whole
search should. The same weights, exported to ONNX and run with onnxruntime (which chromadb already
installs) and `tokenizers`, give the same vectors (tests/test_onnx_encoder.py checks 1e-4 cosine)
and load in a fraction of a second. The export needs torch, so it runs once per model, at the first
ingest or search, into cache_dir(); after that neither ingest nor search imports torch.

Only models made of a Transformer, mean pooling and (optionally) normalization take this path;
any other model is encoded by sentence-transformers as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import EmbeddingSettings
from pipeline.files import atomic_path
from pipeline.indexing.embedding_models import resolve_embedding_model
from pipeline.indexing.model_files import weights_hash
from pipeline.model_cache import cache_dir
from pipeline.threads import onnx_session_options

_SUPPORTED_MODULES = {
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
}
ONNX_FILE = "model.onnx"


def model_folder(settings: EmbeddingSettings) -> Path | None:
    """The sentence-transformers folder this model loads from, if it is on disk and ONNX-able."""
    folder = Path(resolve_embedding_model(settings.model))
    if not (folder / "modules.json").is_file() or not (folder / "tokenizer.json").is_file():
        return None
    modules = json.loads((folder / "modules.json").read_text())
    if {m.get("type") for m in modules} - _SUPPORTED_MODULES:
        return None
    pooling = next((m for m in modules if m.get("type", "").endswith(".Pooling")), None)
    if pooling is None:
        return None
    config = json.loads((folder / pooling["path"] / "config.json").read_text())
    modes = [key for key, on in config.items() if key.startswith("pooling_mode") and on]
    # A model that pools without its prompt's tokens: sentence-transformers knows how, this path does not.
    prompt_pooled = config.get("include_prompt", True) is not False
    return folder if modes == ["pooling_mode_mean_tokens"] and prompt_pooled else None


def cached_export(folder: Path) -> Path:
    """Where the ONNX export of `folder` lives: keyed by its weights' hash and its config.json, so
    new weights re-export, and a copy of a model (another path, other prompts) reuses the export."""
    config = (folder / "config.json").read_bytes()
    key = hashlib.sha256(f"{weights_hash(folder)}|".encode() + config).hexdigest()[:16]
    return cache_dir() / "onnx" / key / ONNX_FILE


def ensure_export(settings: EmbeddingSettings) -> Path | None:
    """The ONNX file for this model, exporting it first if needed; None if the model cannot take it."""
    folder = model_folder(settings)
    if folder is None:
        return None
    target = cached_export(folder)
    if not target.is_file():
        _export(folder, target)
    return target


def _export(folder: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        # transformers' forward takes many keyword arguments; the exporter passes positionals.
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(folder)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
    # Written beside the target and renamed: a concurrent search never reads half a file.
    with atomic_path(target) as staging:
        import warnings

        # The tracer warns about shape checks in transformers' masking code; the test of equal vectors
        # over padded batches and long texts is what says the export is right.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(model),
                example,
                str(staging),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )


class OnnxEncoder:
    """Mean-pooled, unit-length vectors like sentence-transformers' encode, with onnxruntime."""

    def __init__(self, onnx_file: Path, folder: Path, *, threads: int):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnx_session_options(threads)
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_tokens(folder))
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)
        self.dimension = _dimension(folder)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        # Like sentence-transformers: batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for first in range(0, len(texts), batch_size):
            picked = order[first : first + batch_size]
            out[picked] = self._encode_batch([texts[i] for i in picked])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        outputs = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        hidden = np.asarray(outputs[0], dtype=np.float32)
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit


def _max_tokens(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length") or 512)
    return 512


def _dimension(folder: Path) -> int:
    config = json.loads((folder / "config.json").read_text())
    return int(config["hidden_size"])


def load(settings: EmbeddingSettings, *, threads: int) -> OnnxEncoder | None:
    """The ONNX encoder for this model (exported first if needed), or None if it cannot run as ONNX."""
    folder = model_folder(settings)
    if folder is None:
        return None
    try:
        exported = ensure_export(settings)
        return OnnxEncoder(exported, folder, threads=threads) if exported is not None else None
    except (OSError, ImportError):
        # A read-only cache or a missing `onnx` package: slower to start, same vectors.
        return None
