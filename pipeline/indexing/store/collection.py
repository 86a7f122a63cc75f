"""The Store: the chunks' reads and writes, over one Chroma collection and its keyword index."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Settings
from pipeline.crash import crash_point
from pipeline.errors import IndexMissingError
from pipeline.indexing import recipe as recipes
from pipeline.indexing.chunking import Chunk
from pipeline.indexing.keyword_index import KeywordIndex
from pipeline.indexing.recipe import EmbeddingRecipe
from pipeline.indexing.store import client as chroma
from pipeline.indexing.store import schema
from pipeline.indexing.store.generations import KeywordSync
from pipeline.indexing.store.schema import Where

# Rows read per call: one get of 100k chunks fails in Chroma's SQLite ("too many SQL variables").
PAGE = 5000


@dataclass
class StoredChunk:
    chunk: Chunk
    distance: float


class Store:
    """A persistent Chroma collection under `<data dir>/index` (or in a Chroma server), with the
    BM25 keyword index beside it. Vectors are always given explicitly: Chroma's default embedding
    function would try to download a model. Rebuildable from transcripts/ at any time."""

    def __init__(self, index_dir: Path, collection: str, *, create: bool = True, client: Any = None, where: str | None = None):
        """A local persistent collection under `index_dir`, or, given `client`, one in a Chroma
        server. create=False (searches, status, eval) changes nothing on disk and refuses a
        missing index."""
        self.index_dir = index_dir
        self.where = where or str(index_dir)  # named in error messages: the folder or the server URL
        server = client is not None
        if client is None:
            if not create and not index_dir.is_dir():
                raise IndexMissingError(f"{index_dir}: no index yet; run `heard ingest FOLDER` first")
            client = chroma.local_client(index_dir)
        self._collection = chroma.ChromaCollection(client, collection, self.where, create=create)
        self._sync = KeywordSync(self._collection, index_dir, writable=create, server=server, chunks=self.all_chunks)

    def close(self) -> None:
        """Let go of the Chroma client. A Store opened afterwards reads the index from disk afresh:
        a long-lived one does not see chunks that another process (a nightly ingest) wrote."""
        self._collection.close()
        self._sync.close()

    # The keyword index (pipeline/indexing/store/generations.py) ----------------------------------

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 keyword index beside the collection, kept in step by every write below
        (read-only when the store was opened with create=False)."""
        return self._sync.keywords

    def keyword_problem(self) -> str | None:
        """Why searches cannot use the keyword index, or None (see KeywordSync.problem)."""
        return self._sync.problem()

    def searchable_keywords(self) -> KeywordIndex:
        """The keyword index a search may use; never rebuilt here (see KeywordSync.searchable)."""
        return self._sync.searchable()

    def repair_keywords(self) -> bool:
        """Ingest's: rebuild the keyword index when it differs from the collection; True if it did."""
        return self._sync.repair()

    def rebuild_keywords(self) -> list[Chunk]:
        """Rebuild the keyword index from the collection's chunks; returns them."""
        return self._sync.rebuild()

    # The embedding recipe (pipeline/indexing/recipe.py) --------------------------------------

    def recipe(self) -> EmbeddingRecipe:
        """The recipe the collection's vectors were made with, as recorded (unknown fields None)."""
        return schema.recipe_from_metadata(self._collection.metadata())

    def set_recipe(self, recipe: EmbeddingRecipe) -> None:
        """Record `recipe` as the one the collection's vectors were made with."""
        self._collection.update_metadata(schema.recipe_metadata(recipe))

    def check_recipe(self, configured: EmbeddingRecipe, *, record: bool = False) -> None:
        """Refuse to mix vectors of two recipes in one collection, or to search one with another
        recipe's vectors (ConfigError naming what differs). With `record` (before a write), an
        empty collection is given `configured` whole, and one recorded in part (built before heard
        recorded the recipe) has its unknown fields filled in."""
        stored = self._collection.metadata()
        built = schema.recipe_from_metadata(stored)
        count = self.count()
        if count:
            recipes.check_recipe(self.where, built, configured)
        if not record:
            return
        wanted = built.filled_from(configured) if count else configured
        if wanted != built or schema.RECIPE not in stored:
            self.set_recipe(wanted)

    def set_measured(self, measured: dict[str, float]) -> None:
        """Record figures measured on the collection's vectors with its recipe (pipeline/indexing/spread.py)."""
        self.set_recipe(dataclasses.replace(self.recipe(), measured=measured))

    def vector_sample(self, size: int) -> np.ndarray:
        """The vectors of up to `size` live chunks drawn at random (the same ones for the same index)."""
        ids = sorted(self.ids_where(None))
        if len(ids) > size:
            picked = np.random.default_rng(0).choice(len(ids), size=size, replace=False)
            ids = [ids[i] for i in sorted(picked.tolist())]
        rows = [
            np.asarray(e, dtype=np.float32)
            for first in range(0, len(ids), PAGE)
            for e in self._collection.get(ids=ids[first : first + PAGE], include=["embeddings"])["embeddings"]
        ]
        return np.stack(rows) if rows else np.zeros((0, self.recipe().dimension or 0), dtype=np.float32)

    # Reads ----------------------------------------------------------------------------------

    def count(self) -> int:
        """Rows in the collection: its live chunks, and superseded ones while a replacement runs."""
        return self._collection.count()

    def chunk_ids(self, recording_id: str) -> set[str]:
        return set(self._collection.get(where=schema.of_recording(recording_id))["ids"])

    def recording_id_at(self, path: str) -> str | None:
        """The id of the indexed recording whose file is `path` (as ingested), or None."""
        found = self._collection.get(where=schema.at_path(path), limit=1, include=["metadatas"])
        return str(found["metadatas"][0]["recording_id"]) if found["ids"] else None

    def has_recording(self, recording_id: str) -> bool:
        return bool(self._collection.get(where=schema.of_recording(recording_id), limit=1)["ids"])

    def _pages(self, where: Where | None, include: list[str], *, superseded: bool = False) -> Iterator[dict[str, Any]]:
        """Every row that matches `where` (live ones only, unless `superseded`), a page at a time."""
        clause = where if superseded else schema.live(where)
        read = 0
        while True:
            found = self._collection.get(where=clause, include=include, limit=PAGE, offset=read)
            read += len(found["ids"])
            yield found
            if len(found["ids"]) < PAGE:
                return

    def all_chunks(self, *, superseded: bool = False) -> list[Chunk]:
        """Every live chunk; with `superseded`, also those a replacement has hidden but not yet
        deleted (what is stored, as tests and diagnostics need it)."""
        return [
            schema.chunk_from_row(i, d, m)
            for found in self._pages(None, ["documents", "metadatas"], superseded=superseded)
            for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])
        ]

    def chunks_with_vectors(self, where: Where | None = None) -> tuple[list[Chunk], np.ndarray]:
        """Every live chunk that matches `where`, with its stored vector (rows in the same order)."""
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        for found in self._pages(where, ["documents", "metadatas", "embeddings"]):
            chunks += [schema.chunk_from_row(i, d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])]
            vectors += [np.asarray(e, dtype=np.float32) for e in found["embeddings"]]
        if not vectors:
            return chunks, np.zeros((0, self.recipe().dimension or 0), dtype=np.float32)
        return chunks, np.stack(vectors)

    def recording_chunks(self, recording_id: str) -> tuple[list[Chunk], np.ndarray]:
        """One recording's live chunks in their order in the recording, with their stored vectors."""
        chunks, vectors = self.chunks_with_vectors(schema.of_recording(recording_id))
        order = sorted(range(len(chunks)), key=lambda i: chunks[i].index)
        return [chunks[i] for i in order], vectors[order] if order else vectors

    def fingerprint_lines(self) -> list[str]:
        """One line per live chunk (id, text, metadata), sorted: equal lists mean an unchanged index,
        whatever order it was written in. Cheaper than the chunks themselves: no vectors."""
        lines = [
            f"{i}\t{d}\t{json.dumps(m, sort_keys=True)}\n"
            for found in self._pages(None, ["documents", "metadatas"])
            for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])
        ]
        return sorted(lines)

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        # By id without a where clause: any clause makes Chroma read every chunk's metadata
        # first (90 ms a search at 100k chunks); superseded chunks are dropped here instead.
        found = self._collection.get(ids=ids, include=["documents", "metadatas"])
        return {
            i: schema.chunk_from_row(i, d, m)
            for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])
            if not schema.is_superseded(m)
        }

    def ids_where(self, where: Where | None) -> set[str]:
        return set(self._collection.get(where=schema.live(where))["ids"])

    def recording_count(self, where: Where | None = None) -> int:
        """How many recordings have chunks that pass `where` (all of them: read from the keyword index)."""
        if where is None:
            return self.keywords.recording_count()
        return len({schema.recording_of(chunk_id) for chunk_id in self.ids_where(where)})

    def query(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[StoredChunk]:
        """The `k` live chunks nearest to `vector` that pass `where`, nearest first."""
        total = self.count()
        if total == 0:
            return []
        # Any where clause makes Chroma read every chunk's metadata before the vector search
        # (at 100k chunks: 1.0 s a query against 16 ms without, docs/benchmarks.md). Superseded
        # chunks exist only while a recording is being replaced, so unfiltered searches ask
        # without the clause and again with it only when a superseded chunk came back.
        asked = vector.tolist()
        found = self._collection.query(asked, min(k, total), schema.live(where) if where else None)
        if not where and any(schema.is_superseded(meta) for meta in found["metadatas"]):
            found = self._collection.query(asked, min(k, total), schema.live(None))
        return [
            StoredChunk(schema.chunk_from_row(i, d, m), float(distance))
            for i, d, m, distance in zip(found["ids"], found["documents"], found["metadatas"], found["distances"])
        ]

    # Writes: every write of a recording's chunks goes through replace_recording /
    # remove_recording / set_recording_path, so the keyword index stays in step with the collection.

    def replace_recording(
        self, recording_id: str, chunks: list[Chunk], vectors: np.ndarray, replaces: tuple[str, ...] = ()
    ) -> None:
        """Write a recording's chunks in place of its older ones and those of the recordings it
        `replaces` (earlier content of the same file), so that search sees the old set or the new
        one, never both and never neither.

        One upsert writes the new chunks and marks the old ones `superseded` (search skips those);
        a delete then drops them. Chunk ids are deterministic, so repeating this after a crash
        converges on the same index, and a crash between the two calls leaves only hidden leftovers
        that the rerun deletes.
        """
        generation = self._sync.begin_write()
        earlier = [other for other in replaces if other != recording_id]
        old_ids = self.chunk_ids(recording_id).union(*(self.chunk_ids(other) for other in earlier))
        stale = sorted(old_ids - {c.id for c in chunks})
        ids, embeddings = [c.id for c in chunks], vectors.tolist()
        documents, metadatas = [c.text for c in chunks], [schema.chunk_metadata(c) for c in chunks]
        if stale:
            old = self._collection.get(ids=stale, include=["embeddings", "documents", "metadatas"])
            ids += old["ids"]
            embeddings += [list(map(float, e)) for e in old["embeddings"]]
            documents += old["documents"]
            metadatas += [schema.superseded(m) for m in old["metadatas"]]
        if ids:
            self._collection.upsert(ids, embeddings, documents, metadatas)
        crash_point("store-written")
        if stale:
            self._collection.delete(stale)
        for other in earlier:
            self.keywords.remove_recording(other, generation=None)
        self.keywords.replace_recording(recording_id, chunks, generation=generation)

    def remove_recording(self, recording_id: str) -> int:
        """Delete a recording's chunks; returns how many there were."""
        ids = self.chunk_ids(recording_id)
        generation = self._sync.begin_write() if ids else None
        if ids:
            self._collection.delete(sorted(ids))
        self.keywords.remove_recording(recording_id, generation=generation)
        return len(ids)

    def set_recording_path(self, recording_id: str, path: str) -> None:
        """Point a moved or renamed recording's chunks at its new path."""
        found = self._collection.get(where=schema.of_recording(recording_id), include=["metadatas"])
        moved = [schema.moved(m, path) for m in found["metadatas"]]
        if moved != found["metadatas"]:
            self._collection.update(found["ids"], moved)


def open_store(settings: Settings, *, create: bool = True) -> Store:
    """The index `settings` name: a Chroma server when store.url is set, else `<data dir>/index`.

    A server lets several ingest machines write one index and searches run anywhere; each machine
    keeps its own data dir (transcripts/ and its lock), see README "Past one machine".
    """
    if not settings.store.url:
        return Store(settings.index_dir, settings.store.collection, create=create)
    return Store(
        settings.index_dir,
        settings.store.collection,
        create=create,
        client=chroma.http_client(settings.store.url, settings.store.token),
        where=settings.store.url,
    )


def open_store_for_writing(settings: Settings) -> Store:
    """The index `settings` name, which must exist already, opened writable: what re-indexes into an
    existing index without an ingest (naming a voice) uses. create=False opens the keyword index
    read-only, and create=True would make an empty index where there is none."""
    if not settings.store.url and not settings.index_dir.is_dir():
        raise IndexMissingError(f"{settings.index_dir}: no index yet; run `heard ingest FOLDER` first")
    return open_store(settings)
