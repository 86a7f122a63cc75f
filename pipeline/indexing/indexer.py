"""The indexing step, the one way chunks reach the index: chunk -> label -> embed -> replace.

Ingest, reindex and the tests all write through `Indexer.index_transcript`, so what is searched is
always what the product derives: its chunking, its speakers' roles, its metadata fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.config import ChunkingSettings
from pipeline.indexing.chunking import chunk_transcript
from pipeline.indexing.embed import Embedder
from pipeline.indexing.roles import embedding_texts, label_chunks
from pipeline.indexing.store import Store
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.indexing.voices import Identity


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
        self,
        transcript: Transcript,
        *,
        meta: dict[str, Any] | None = None,
        replaces: tuple[str, ...] = (),
        identities: dict[str, Identity] | None = None,
    ) -> int:
        """Write one transcript's chunks in place of its earlier ones (and of the recordings it
        `replaces`: earlier content of the same file); returns how many chunks were written.
        `identities`: the named voices heard in it (pipeline/indexing/voices.py)."""
        chunks = label_chunks(chunk_transcript(transcript, self.chunking), transcript, meta or {}, identities)
        vectors = self.embedder.encode(embedding_texts(chunks))
        self.check_model()
        self.store.replace_recording(transcript.recording_id, chunks, vectors, replaces=replaces)
        return len(chunks)
