"""Text to vectors, batched and normalized for cosine search, with the model's prompts.

The model runs as ONNX (pipeline/onnx_encoder.py: same vectors, no torch, much faster to start)
unless embedding.runtime is sentence-transformers or the model has layers ONNX export does not cover.

Queries and documents (chunks, quoted sentences) are encoded with their own prompt where the model
asks for one (e5's "query: " / "passage: "; pipeline/indexing/model_files.py): `encode_queries` and
`encode_documents`, never a bare encode, so no caller can mix the two kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline import threads
from pipeline.config import EmbeddingSettings
from pipeline.indexing.embedding_models import cannot_load, check_hub, resolve_embedding_model
from pipeline.indexing.model_files import Prompts, configured_prompts, local_folder, weights_hash


class Embedder:
    def __init__(self, settings: EmbeddingSettings, *, beside_whisper: bool = False):
        """`beside_whisper`: it runs while Whisper transcribes (ingest), so it takes one thread."""
        self.settings = settings
        self.model_name = settings.model
        self.threads = threads.embedding_threads(beside_whisper=beside_whisper)
        self._model: Any = None  # the ONNX encoder or a SentenceTransformer, loaded on first use
        self._prompts: Prompts | None = None
        self._folder: Path | None = None

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
        if not Path(source).expanduser().exists() and self.folder is None:
            check_hub(source)  # a name to download: a hub that fails says so at once, in one line
        try:
            return SentenceTransformer(source, device=device)
        except Exception as exc:  # hub and file errors have no common base
            raise cannot_load(self.settings.model, exc) from exc

    @property
    def folder(self) -> Path | None:
        """The model's folder on disk (a hub model's once downloaded), or None."""
        if self._folder is None:
            self._folder = local_folder(self.settings.model)
        return self._folder

    @property
    def prompts(self) -> Prompts:
        """The query and document prompts (embedding.query_prompt / document_prompt, else the
        model's own); loads the model when its folder is not on disk yet (a hub download)."""
        if self._prompts is None:
            found = configured_prompts(self.settings, self.folder)
            if found is None:
                self._load()
                found = configured_prompts(self.settings, self.folder) or Prompts()
            self._prompts = found
        return self._prompts

    @property
    def weights(self) -> str | None:
        """A hash of the model's weight files (model_files.weights_hash); None when not on disk."""
        folder = self.folder
        return weights_hash(folder) if folder is not None else None

    @property
    def key(self) -> tuple[str, str]:
        """What makes this embedder's document vectors: caches of them are keyed on it."""
        return (self.model_name, self.prompts.document)

    @property
    def dimension(self) -> int:
        model = self._load()
        if hasattr(model, "dimension"):
            return int(model.dimension)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of search queries, one row per text, with the query prompt."""
        return self._encode(texts, self.prompts.query)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of what is searched (chunks, sentences), with the document prompt."""
        return self._encode(texts, self.prompts.document)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        if hasattr(model, "dimension"):  # the ONNX encoder: already unit length
            prompted = [prompt + text for text in texts]
            return np.asarray(model.encode(prompted, batch_size=self.settings.batch_size), dtype=np.float32)
        vectors = model.encode(
            texts,
            prompt=prompt or None,  # sentence-transformers leaves it out of the pooling where the model says so
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
