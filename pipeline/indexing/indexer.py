"""The indexing step, the one way chunks reach the index: chunk -> label -> embed -> replace.

Ingest, reindex and the tests all write through `Indexer.index_transcript`, so what is searched is
always what the product derives: its chunking, its speakers' roles, its metadata fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import ChunkingSettings
from pipeline.indexing.chunking import Chunk, chunk_transcript
from pipeline.indexing.embed import Embedder
from pipeline.indexing.recipe import recipe_of
from pipeline.indexing.roles import embedding_texts, label_chunks, question_before
from pipeline.indexing.store import Store
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.indexing.identities import Identity


@dataclass
class ToIndex:
    """One transcript to write, with its metadata and the earlier recordings its chunks replace."""

    transcript: Transcript
    meta: dict[str, Any] = field(default_factory=dict)
    replaces: tuple[str, ...] = ()
    # The named voices heard in it (pipeline/indexing/identities/).
    identities: dict[str, Identity] | None = None


def embed_chunks(chunked: Sequence[list[Chunk]], embedder: Embedder) -> np.ndarray:
    """The vectors of several recordings' chunks, in order, encoded in one call; an answer's vector
    carries the question before it (embedding.question): `text` embeds question and answer as one
    text; `vector` adds question_weight x the question's own vector to the answer's (it measured
    better with all-mpnet-base-v2, docs/benchmarks.md)."""
    settings = embedder.settings
    if settings.question == "text":
        return embedder.encode_documents([text for chunks in chunked for text in embedding_texts(chunks)])
    vectors = embedder.encode_documents([c.text for chunks in chunked for c in chunks])
    mixed = vectors.copy()
    at = 0
    for chunks in chunked:
        for i in range(len(chunks)):
            if question_before(chunks, i) is not None:
                mixed[at + i] = vectors[at + i] + settings.question_weight * vectors[at + i - 1]
        at += len(chunks)
    if not len(mixed):
        return mixed
    normalised: np.ndarray = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return normalised.astype(np.float32)


class Indexer:
    """Writes transcripts' chunks into one store with one embedding model."""

    def __init__(self, store: Store, embedder: Embedder, chunking: ChunkingSettings):
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self._model_checked = False

    def check_model(self) -> None:
        """Before the first write: vectors of a changed recipe (model, question mode, ...) must not
        join another recipe's; an empty index records this one."""
        if not self._model_checked:
            self.store.check_recipe(recipe_of(self.embedder), record=True)
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
        `identities`: the named voices heard in it (pipeline/indexing/identities/)."""
        return next(self.index_transcripts([ToIndex(transcript, meta or {}, replaces, identities)]))

    def index_transcripts(self, items: Sequence[ToIndex]) -> Iterator[int]:
        """index_transcript for several transcripts, their chunks embedded in one call: many short
        recordings cost one encoder pass, not one each. Each recording is written as the iterator
        reaches it (yielding its chunk count), so the caller records it before the next is written."""
        chunked = [label_chunks(chunk_transcript(i.transcript, self.chunking), i.transcript, i.meta, i.identities) for i in items]
        vectors = embed_chunks(chunked, self.embedder)
        self.check_model()
        at = 0
        for item, chunks in zip(items, chunked):
            recording_id = item.transcript.recording_id
            self.store.replace_recording(recording_id, chunks, vectors[at : at + len(chunks)], replaces=item.replaces)
            at += len(chunks)
            yield len(chunks)
