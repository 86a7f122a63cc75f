"""Text to vectors, batched and normalized for cosine search.

The model runs as ONNX (pipeline/onnx_encoder.py: same vectors, no torch, much faster to start)
unless embedding.runtime is sentence-transformers or the model has layers ONNX export does not cover.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline import threads
from pipeline.config import EmbeddingSettings
from pipeline.indexing.embedding_models import cannot_load, resolve_embedding_model


class Embedder:
    def __init__(self, settings: EmbeddingSettings, *, beside_whisper: bool = False):
        """`beside_whisper`: it runs while Whisper transcribes (ingest), so it takes one thread."""
        self.settings = settings
        self.model_name = settings.model
        self.threads = threads.embedding_threads(beside_whisper=beside_whisper)
        self._model: Any = None  # the ONNX encoder or a SentenceTransformer, loaded on first use

    def _load(self) -> Any:
        """The ONNX encoder, or a SentenceTransformer when the model cannot run as ONNX (or
        embedding.runtime says so); loaded once."""
        if self._model is None:
            threads.wait_passively()  # before torch or an OpenMP runtime loads (pipeline/threads.py)
        if self._model is None and self.settings.runtime == "onnx":
            from pipeline.indexing import onnx_encoder

            self._model = onnx_encoder.load(self.settings, threads=self.threads)
        if self._model is None:
            self._model = self._sentence_transformer()
        return self._model

    def _sentence_transformer(self) -> Any:
        import transformers
        from sentence_transformers import SentenceTransformer

        # Its per-load progress bar is noise in logs and cron mail.
        progress: Any = transformers.logging  # untyped
        progress.disable_progress_bar()

        threads.limit_torch(self.threads)
        device = self.settings.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        source = resolve_embedding_model(self.settings.model)
        try:
            return SentenceTransformer(source, device=device)
        except Exception as exc:  # hub and file errors have no common base
            raise cannot_load(self.settings.model, exc) from exc

    @property
    def dimension(self) -> int:
        model = self._load()
        if hasattr(model, "dimension"):
            return int(model.dimension)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        if hasattr(model, "dimension"):  # the ONNX encoder: already unit length
            return np.asarray(model.encode(texts, batch_size=self.settings.batch_size), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
