"""The indexing step, the one way chunks reach the index: chunk -> label -> embed -> replace.

Ingest, reindex and the tests all write through `Indexer.index_transcript`, so what is searched is
always what the product derives: its chunking, its speakers' roles, its metadata fields.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.config import ChunkingSettings
from pipeline.indexing.chunking import Chunk, chunk_transcript
from pipeline.indexing.embed import Embedder
from pipeline.indexing.roles import embedding_texts, label_chunks, question_before
from pipeline.indexing.store import Store
from pipeline.transcripts import Transcript


def embed_chunks(chunks: list[Chunk], embedder: Embedder) -> np.ndarray:
    """Each chunk's vector, an answer's carrying the question before it (embedding.question):
    `text` embeds question and answer as one text; `vector` adds question_weight x the question's
    own vector to the answer's (it measured better with all-mpnet-base-v2, docs/benchmarks.md)."""
    settings = embedder.settings
    if settings.question == "text":
        return embedder.encode(embedding_texts(chunks))
    vectors = embedder.encode([c.text for c in chunks])
    mixed = vectors.copy()
    for i in range(len(chunks)):
        if question_before(chunks, i) is not None:
            mixed[i] = vectors[i] + settings.question_weight * vectors[i - 1]
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


class Indexer:
    """Writes transcripts' chunks into one store with one embedding model."""

    def __init__(self, store: Store, embedder: Embedder, chunking: ChunkingSettings):
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self._model_checked = False

    def check_model(self) -> None:
        """Before the first write: a changed model must not add its vectors to another model's."""
        if not self._model_checked:
            self.store.check_embedding_model(self.embedder.model_name, self.embedder.dimension)
            self._model_checked = True

    def index_transcript(
        self, transcript: Transcript, *, meta: dict[str, Any] | None = None, replaces: tuple[str, ...] = ()
    ) -> int:
        """Write one transcript's chunks in place of its earlier ones (and of the recordings it
        `replaces`: earlier content of the same file); returns how many chunks were written."""
        chunks = label_chunks(chunk_transcript(transcript, self.chunking), transcript, meta or {})
        vectors = embed_chunks(chunks, self.embedder)
        self.check_model()
        self.store.replace_recording(transcript.recording_id, chunks, vectors, replaces=replaces)
        return len(chunks)
