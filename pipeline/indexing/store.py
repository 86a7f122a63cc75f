"""The Chroma collection that holds chunk vectors; rebuildable from transcripts/ at any time."""

from __future__ import annotations

import contextlib
import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.crash import crash_point
from pipeline.errors import ConfigError, HeardError, IndexDamagedError, IndexMissingError, StorageError

if TYPE_CHECKING:
    from pipeline.indexing.keyword_index import KeywordIndex
from pipeline.indexing.chunking import Chunk


@dataclass
class StoredChunk:
    chunk: Chunk
    distance: float


class Store:
    """A persistent Chroma collection under `<data dir>/index`. Vectors are always given explicitly:
    Chroma's default embedding function would try to download a model."""

    def __init__(self, index_dir: Path, collection: str, *, create: bool = True, client=None, where: str | None = None):
        """A local persistent collection under `index_dir`, or, given `client`, one in a Chroma server."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.index_dir = index_dir
        self._keywords: KeywordIndex | None = None
        self._writable = create  # create=False: searches, status, eval; nothing on disk is changed
        self._server = client is not None
        self._memory_keywords: tuple[str | None, KeywordIndex] | None = None
        self.where = where or str(index_dir)  # named in error messages: the folder or the server URL
        if client is not None:
            self._client = client
        else:
            if not create and not index_dir.is_dir():
                raise IndexMissingError(f"{index_dir}: no index yet; run `heard ingest FOLDER` first")
            try:
                with _chroma_errors(index_dir):
                    self._client = chromadb.PersistentClient(
                        path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False)
                    )
            except BaseException:
                # Chroma caches the half-started client for this path; the next attempt must start afresh.
                forget_cached_client(index_dir)
                raise
        if create:
            with _chroma_errors(index_dir):
                self._collection = self._client.get_or_create_collection(
                    collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
        else:
            try:
                self._collection = self._client.get_collection(collection, embedding_function=None)
            except Exception as exc:  # chromadb raises NotFoundError or ValueError by version
                raise IndexMissingError(
                    f"{self.where}: no collection '{collection}' yet; run `heard ingest FOLDER` first"
                ) from exc

    def close(self) -> None:
        """Let go of the Chroma client. A Store opened afterwards reads the index from disk afresh:
        a long-lived one does not see chunks that another process (a nightly ingest) wrote."""
        self._client.close()
        if self._keywords is not None:
            self._keywords.close()
            self._keywords = None
        if self._memory_keywords is not None:
            self._memory_keywords[1].close()
            self._memory_keywords = None

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 keyword index beside the collection, kept in step by every write below (read-only
        when the store was opened with create=False)."""
        if self._keywords is None:
            from pipeline.indexing.keyword_index import KeywordIndex

            self._keywords = KeywordIndex(self.index_dir, writable=self._writable)
        return self._keywords

    # The keyword index and the collection hold the same chunks when they carry the same generation.
    # A write of chunks announces its new generation to the keyword index (`pending`), gives it to
    # the collection with the chunks, then writes the keyword rows with it in one transaction. So a
    # collection one generation ahead, the very one pending, is a write under way or interrupted
    # (kill -9): the keyword index lacks that recording's newest chunks and nothing else, searches
    # use it, and the next ingest rebuilds it. Any other difference (a restored or copied file, rows
    # lost) is damage, found without reading a single chunk.

    def collection_metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (the Collection object keeps what it was opened with)."""
        with _chroma_errors(self.where):
            return dict(self._client.get_collection(self._collection.name, embedding_function=None).metadata or {})

    def _begin_write(self) -> str:
        """A new generation, announced to the keyword index, then given to the collection."""
        import uuid

        generation = uuid.uuid4().hex
        self.keywords.announce(generation)
        with _chroma_errors(self.where):
            self._collection.modify(metadata={**self.collection_metadata(), GENERATION: generation})
        return generation

    def keyword_problem(self) -> str | None:
        """Why searches cannot use the keyword index (missing, unreadable, holding other chunks than
        the collection), or None. An interrupted write is not a problem for a search."""
        return self._keyword_mismatch(interrupted_ok=True)

    def _keyword_mismatch(self, *, interrupted_ok: bool) -> str | None:
        from pipeline.indexing.keyword_index import FILE_NAME

        path = self.index_dir / FILE_NAME
        if self._keywords is None and not path.is_file():
            if self.count() == 0:
                return None
            return f"{path}: the keyword index is damaged: the file is missing; run `heard reindex` to rebuild it"
        keywords = self.keywords  # IndexDamagedError when SQLite cannot read it
        generation = self.collection_metadata().get(GENERATION)
        if generation == keywords.generation and keywords.count() == self.count():
            return None
        if interrupted_ok and generation is not None and generation == keywords.pending:
            return None
        return (
            f"{path}: the keyword index is damaged: it does not hold what the index in {self.where} holds "
            "(a restored or copied file, or lost rows); run `heard reindex` to rebuild it"
        )

    def searchable_keywords(self) -> KeywordIndex:
        """The keyword index a search may use; never rebuilt here (a search may run read-only).

        A local one that does not match the collection is an error that says to run `heard reindex`.
        Beside a Chroma server it is this machine's cache, which other machines' writes leave
        behind: searches then use a copy in memory made from the server's chunks, and the next
        ingest or reindex on this machine brings the file up to date."""
        try:
            problem = self.keyword_problem()
        except IndexDamagedError:
            if not self._server:
                raise
            problem = "unreadable"
        if problem is None:
            return self.keywords
        if not self._server:
            raise IndexDamagedError(problem)
        from pipeline.indexing.keyword_index import KeywordIndex

        generation = self.collection_metadata().get(GENERATION)
        if self._memory_keywords is None or self._memory_keywords[0] != generation:
            memory = KeywordIndex(None)
            memory.rebuild(self.all_chunks(), generation=generation)
            self._memory_keywords = (generation, memory)
        return self._memory_keywords[1]

    def repair_keywords(self) -> bool:
        """Ingest's: rebuild the keyword index from the collection's chunks when the two differ
        (an interrupted write included); True if it did. A keyword file SQLite cannot read stays an
        error (IndexDamagedError): `heard reindex` replaces the whole index."""
        if self._keyword_mismatch(interrupted_ok=False) is None:
            return False
        generation = self.collection_metadata().get(GENERATION)
        if generation is None:
            generation = self._begin_write()
        self.keywords.rebuild(self.all_chunks(), generation=generation)
        return True

    @property
    def dimension(self) -> int | None:
        return (self._collection.metadata or {}).get("dimension")

    @property
    def embedding_model(self) -> str | None:
        return (self._collection.metadata or {}).get("embedding_model")

    def check_embedding_model(self, model: str, dimension: int | None, *, record: bool = True) -> None:
        """Refuse to mix vectors of two models in one collection, or to search one with another
        model's vectors; with `record`, an empty or unlabeled collection is labeled with this model."""
        metadata = self._collection.metadata or {}
        if self.count():
            check_model(self.where, metadata.get("embedding_model"), metadata.get("dimension"), model, dimension)
        if record and (metadata.get("embedding_model") != model or metadata.get("dimension") != dimension):
            self._collection.modify(metadata={**self.collection_metadata(), "embedding_model": model, "dimension": dimension})

    def count(self) -> int:
        with _chroma_errors(self.where):
            return self._collection.count()

    def chunk_ids(self, recording_id: str) -> set[str]:
        found = self._collection.get(where={"recording_id": recording_id}, include=[])
        return set(found["ids"])

    def recording_id_at(self, path: str) -> str | None:
        """The id of the indexed recording whose file is `path` (as ingested), or None."""
        with _chroma_errors(self.where):
            found = self._collection.get(where={"recording": path}, limit=1, include=["metadatas"])
        return str(found["metadatas"][0]["recording_id"]) if found["ids"] else None

    def has_recording(self, recording_id: str) -> bool:
        return bool(self._collection.get(where={"recording_id": recording_id}, limit=1, include=[])["ids"])

    # Every write of a recording's chunks goes through replace_recording / remove_recording /
    # set_recording_path: a second index (keywords) hooks in here and stays in step with this one.

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
        generation = self._begin_write()
        with _chroma_errors(self.where):
            old_ids = self.chunk_ids(recording_id)
            for earlier in replaces:
                if earlier != recording_id:
                    old_ids |= self.chunk_ids(earlier)
            stale = sorted(old_ids - {c.id for c in chunks})
            ids, embeddings = [c.id for c in chunks], vectors.tolist()
            documents, metadatas = [c.text for c in chunks], [_metadata(c) for c in chunks]
            if stale:
                old = self._collection.get(ids=stale, include=["embeddings", "documents", "metadatas"])
                ids += old["ids"]
                embeddings += [list(map(float, e)) for e in old["embeddings"]]
                documents += old["documents"]
                metadatas += [{**m, SUPERSEDED: True} for m in old["metadatas"]]
            if ids:
                self._collection.upsert(ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas)
            crash_point("store-written")
            if stale:
                self._collection.delete(ids=stale)
        for earlier in replaces:
            if earlier != recording_id:
                self.keywords.remove_recording(earlier, generation=None)
        self.keywords.replace_recording(recording_id, chunks, generation=generation)

    def remove_recording(self, recording_id: str) -> int:
        """Delete a recording's chunks; returns how many there were."""
        with _chroma_errors(self.where):
            ids = self.chunk_ids(recording_id)
        generation = self._begin_write() if ids else None
        if ids:
            with _chroma_errors(self.where):
                self._collection.delete(ids=sorted(ids))
        self.keywords.remove_recording(recording_id, generation=generation)
        return len(ids)

    def all_chunks(self, page: int = 5000) -> list[Chunk]:
        # In pages: one get of 100k chunks fails in Chroma's SQLite ("too many SQL variables").
        chunks: list[Chunk] = []
        with _chroma_errors(self.where):
            while True:
                found = self._collection.get(where=live(None), include=["documents", "metadatas"], limit=page, offset=len(chunks))
                chunks += [_chunk(i, d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])]
                if len(found["ids"]) < page:
                    return chunks

    def chunks_with_vectors(self, where: dict[str, Any] | None = None, page: int = 5000) -> tuple[list[Chunk], np.ndarray]:
        """Every live chunk that matches `where`, with its stored vector (rows in the same order)."""
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        with _chroma_errors(self.where):
            while True:
                found = self._collection.get(
                    where=live(where), include=["documents", "metadatas", "embeddings"], limit=page, offset=len(chunks)
                )
                chunks += [_chunk(i, d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])]
                vectors += [np.asarray(e, dtype=np.float32) for e in found["embeddings"]]
                if len(found["ids"]) < page:
                    return chunks, np.stack(vectors) if vectors else np.zeros((0, self.dimension or 0), dtype=np.float32)

    def fingerprint_lines(self, page: int = 5000) -> list[str]:
        """One line per live chunk (id, text, metadata), sorted: equal lists mean an unchanged index,
        whatever order it was written in. Cheaper than the chunks themselves: no vectors."""
        lines: list[str] = []
        with _chroma_errors(self.where):
            while True:
                found = self._collection.get(where=live(None), include=["documents", "metadatas"], limit=page, offset=len(lines))
                lines += [
                    f"{i}\t{d}\t{json.dumps(m, sort_keys=True)}\n"
                    for i, d, m in zip(found["ids"], found["documents"], found["metadatas"])
                ]
                if len(found["ids"]) < page:
                    return sorted(lines)

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        with _chroma_errors(self.where):
            # By id without a where clause: any clause makes Chroma read every chunk's metadata
            # first (90 ms a search at 100k chunks); superseded chunks are dropped here instead.
            found = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            i: _chunk(i, d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"]) if not m.get(SUPERSEDED)
        }

    def ids_where(self, where: dict[str, Any] | None) -> set[str]:
        with _chroma_errors(self.where):
            return set(self._collection.get(where=live(where), include=[])["ids"])

    def recording_count(self, where: dict[str, Any] | None = None) -> int:
        """How many recordings have chunks that pass `where` (all of them: read from the keyword index)."""
        if where is None:
            return self.keywords.recording_count()
        return len({chunk_id.rsplit(":", 1)[0] for chunk_id in self.ids_where(where)})

    def set_recording_path(self, recording_id: str, path: str) -> None:
        """Point a moved or renamed recording's chunks at its new path."""
        with _chroma_errors(self.where):
            found = self._collection.get(where={"recording_id": recording_id}, include=["metadatas"])
            if found["ids"] and any(m.get("recording") != path for m in found["metadatas"]):
                self._collection.update(ids=found["ids"], metadatas=[{**m, "recording": path} for m in found["metadatas"]])

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        total = self.count()
        if total == 0:
            return []
        with _chroma_errors(self.where):
            # Any where clause makes Chroma read every chunk's metadata before the vector search
            # (at 100k chunks: 1.0 s a query against 16 ms without, docs/benchmarks.md). Superseded
            # chunks exist only while a recording is being replaced, so unfiltered searches ask
            # without the clause and again with it only when a superseded chunk came back.
            result = self._collection.query(
                query_embeddings=[vector.tolist()],
                n_results=min(k, total),
                where=live(where) if where else None,
                include=["documents", "metadatas", "distances"],
            )
            if not where and any(meta.get(SUPERSEDED) for meta in result["metadatas"][0]):
                result = self._collection.query(
                    query_embeddings=[vector.tolist()],
                    n_results=min(k, total),
                    where=live(None),
                    include=["documents", "metadatas", "distances"],
                )
        return [
            StoredChunk(_chunk(chunk_id, doc, meta), float(dist))
            for chunk_id, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]


def check_model(where: str, built_model: str | None, built_dimension: int | None, model: str, dimension: int | None) -> None:
    """The one rule for an index and a model: vectors of one model, of one dimension. `None` is
    unknown and matches anything."""
    if built_model not in (None, model):
        raise ConfigError(
            f"{where}: the index holds vectors of '{built_model}' but embedding.model is '{model}'; run "
            "`heard reindex` to rebuild it with the new model, or change the setting back"
        )
    if None not in (built_dimension, dimension) and built_dimension != dimension:
        raise ConfigError(
            f"{where}: the index holds {built_dimension}-dimensional vectors but '{model}' makes {dimension}; run `heard reindex`"
        )


def open_store(settings, *, create: bool = True) -> Store:
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
        client=_http_client(settings.store.url, settings.store.token),
        where=settings.store.url,
    )


def open_store_for_writing(settings) -> Store:
    """The index `settings` name, which must exist already, opened writable: what re-indexes into an
    existing index without an ingest (naming a voice) uses. create=False opens the keyword index
    read-only, and create=True would make an empty index where there is none."""
    if not settings.store.url and not settings.index_dir.is_dir():
        raise IndexMissingError(f"{settings.index_dir}: no index yet; run `heard ingest FOLDER` first")
    return open_store(settings)


def _http_client(url: str, token: str | None):
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"store.url '{url}': expected http://host:port or https://host:port")
    # A bearer token suits a Chroma server started with token auth, or a proxy in front of one.
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            headers=headers,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:  # connection and HTTP errors have no common base across chromadb versions
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"store.url '{url}': cannot reach the Chroma server ({first_line}); is it running?") from exc


@contextlib.contextmanager
def _chroma_errors(index_dir: Path | str):
    """Chroma's faults, some raised as pyo3 panics (BaseException), as one-line errors with the fix."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except HeardError:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        lowered = text.lower()
        if "disk is full" in lowered or "no space left" in lowered or "readonly" in lowered or "read-only" in lowered:
            raise StorageError(f"{index_dir}: cannot write the index ({text}); free disk space and rerun") from exc
        if isinstance(exc, Exception) and not any(sign in lowered for sign in _DAMAGE_SIGNS):
            raise
        raise IndexDamagedError(
            f"{index_dir}: the index is damaged ({text}); run `heard reindex` to rebuild it from transcripts/"
        ) from exc


# How Chroma and SQLite describe a store they cannot read.
_DAMAGE_SIGNS = ("not a database", "malformed", "corrupt", "hnsw", "segment", "no such table", "expect it to be fetched")


def forget_cached_client(index_dir: Path) -> None:
    """Chroma shares one client per path within a process; after the folder was swapped (or a
    client failed to start), drop it so the next Store opens the files on disk now. Stores already
    open keep the old one. The path's reference count stays, so closing one of those later cannot
    stop the new client."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(index_dir), None)


# The collection's metadata key for the generation the keyword index must carry to match it.
GENERATION = "generation"

# Set on chunks that a replace_recording has replaced but not yet deleted; search skips them.
SUPERSEDED = "superseded"


def live(where: dict[str, Any] | None) -> dict[str, Any]:
    """`where` narrowed to chunks that are not superseded (Chroma's $ne also matches chunks
    without the key, which is all of them but for the moment of a replacement)."""
    clause = {SUPERSEDED: {"$ne": True}}
    return {"$and": [where, clause]} if where else clause


# Recording-level metadata keys stored flat on every chunk, so Chroma can filter on them.
RECORDING_KEYS = ("company", "segment", "kind", "date", "tags", "show", "link", "season", "episode", "chapter")
# Chroma matches strings exactly: lower-cased copies (<key>_key) make these filters case-insensitive.
FOLDED_KEYS = ("speaker", "company", "segment", "tags", "show")


def date_key(day: datetime.date | str) -> int:
    """A date as the number yyyymmdd: Chroma compares numbers only, so --since/--until filter on this."""
    return int(str(day)[:10].replace("-", ""))


def _metadata(chunk: Chunk) -> dict[str, Any]:
    meta = {
        "recording_id": chunk.recording_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "recording": chunk.recording,
        "speaker": chunk.speaker,
        "role": chunk.role,
        **{key: chunk.metadata.get(key) for key in RECORDING_KEYS},
    }
    for key in FOLDED_KEYS:
        value = meta.get(key)
        if value:
            meta[f"{key}_key"] = [v.casefold() for v in value] if isinstance(value, list) else str(value).casefold()
    if meta["date"]:
        meta["date_key"] = date_key(str(meta["date"]))
    # Chroma stores no None values nor empty lists: unknown fields are simply absent.
    return {k: v for k, v in meta.items() if v not in (None, [], "")}


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        recording_id=meta["recording_id"],
        index=int(meta["index"]),
        text=text,
        start=float(meta["start"]),
        end=float(meta["end"]),
        speaker=meta.get("speaker"),
        title=meta.get("title", ""),
        recording=meta.get("recording", ""),
        role=meta.get("role"),
        metadata={key: meta[key] for key in RECORDING_KEYS if key in meta},
    )
