"""Chroma: the client (a local persistent folder or a server over HTTP, telemetry off), its faults
as heard's one-line errors, and the only code that knows what Chroma keeps on disk.

chromadb ships no types: `ChromaCollection` is the typed face of one collection that the rest of
the store uses, every call translated by `chroma_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.databases import storage_fault
from pipeline.errors import ConfigError, HeardError, IndexDamagedError, IndexMissingError, StorageError

# The database Chroma keeps in a local index folder; a write of chunks always changes it.
DATABASE_FILE = "chroma.sqlite3"

# How Chroma and SQLite describe a store they cannot read.
_DAMAGE_SIGNS = ("not a database", "malformed", "corrupt", "hnsw", "segment", "no such table", "expect it to be fetched")


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def chroma_errors(where: Path | str) -> Iterator[None]:
    """Chroma's faults, some raised as pyo3 panics (BaseException), as one-line errors with the fix."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except HeardError:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        text = first_line(exc)
        lowered = text.lower()
        # A local index on a nearly full disk: Chroma's own words for it vary ("Error in compaction:
        # Failed to apply logs to the metadata segment" reads like damage), so the disk decides.
        local = "://" not in str(where)
        fault = storage_fault(Path(where), text, "index") if local else None
        if fault is not None:
            raise fault from exc
        if any(word in lowered for word in ("disk is full", "no space left", "readonly", "read-only")):
            raise StorageError(f"{where}: cannot write the index ({text}); free disk space and rerun") from exc
        if isinstance(exc, Exception) and not any(sign in lowered for sign in _DAMAGE_SIGNS):
            raise
        raise IndexDamagedError(
            f"{where}: the index is damaged ({text}); run `heard reindex` to rebuild it from transcripts/"
        ) from exc


def local_client(index_dir: Path) -> Any:
    """Chroma's persistent client for the folder `index_dir` (created when missing)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        with chroma_errors(index_dir):
            return chromadb.PersistentClient(path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False))
    except BaseException:
        # Chroma caches the half-started client for this path; the next attempt must start afresh.
        forget_cached_client(index_dir)
        raise


def http_client(url: str, token: str | None) -> Any:
    """A client of the Chroma server at `url`; ConfigError when it cannot be reached."""
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
        raise ConfigError(f"store.url '{url}': cannot reach the Chroma server ({first_line(exc)}); is it running?") from exc


def forget_cached_client(index_dir: Path) -> None:
    """Chroma shares one client per path within a process; after the folder was swapped (or a
    client failed to start), drop it so the next Store opens the files on disk now. Stores already
    open keep the old one. The path's reference count stays, so closing one of those later cannot
    stop the new client."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(index_dir), None)


# What the index on disk is, for callers that must not open it -----------------------------------


def index_exists(settings: Settings) -> bool:
    """Whether there is an index to open: a server's is always there to ask; a local one once a
    write made its database (an empty folder left by a failed start is none)."""
    return bool(settings.store.url) or (settings.index_dir / DATABASE_FILE).is_file()


def index_version(settings: Settings) -> tuple[int, int] | None:
    """A cheap token that changes whenever any process writes the local index (None: no local
    index, or a server's, which open clients see changing anyway). An open Store does not see
    another process's writes: a long-lived reader opens it again when this changes."""
    try:
        found = (settings.index_dir / DATABASE_FILE).stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def index_bytes(settings: Settings) -> int:
    """The bytes the index takes on this machine: the local folder (with a server, only this
    machine's keyword index is here)."""
    folder = settings.index_dir
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class ChromaCollection:
    """One Chroma collection, typed, each call's faults translated; `where` (the folder or the
    server URL) is named in every error."""

    def __init__(self, client: Any, name: str, where: str, *, create: bool):
        self.client = client
        self.name = name
        self.where = where
        if create:
            with chroma_errors(where):
                self._collection = client.get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            return
        try:
            self._collection = client.get_collection(name, embedding_function=None)
        except Exception as exc:  # chromadb raises NotFoundError or ValueError by version
            raise IndexMissingError(f"{where}: no collection '{name}' yet; run `heard ingest FOLDER` first") from exc

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (the Collection object keeps what it was opened with)."""
        with chroma_errors(self.where):
            return dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})

    def update_metadata(self, changes: dict[str, Any]) -> None:
        """Set these keys of the collection's metadata, keeping the others."""
        with chroma_errors(self.where):
            current = dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})
            self._collection.modify(metadata={**current, **changes})

    def count(self) -> int:
        with chroma_errors(self.where):
            return int(self._collection.count())

    def get(
        self,
        *,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        include: Sequence[str] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        with chroma_errors(self.where):
            found: dict[str, Any] = self._collection.get(
                ids=list(ids) if ids is not None else None, where=where, include=list(include), limit=limit, offset=offset
            )
        return found

    def upsert(
        self, ids: list[str], embeddings: list[list[float]], documents: list[str], metadatas: list[dict[str, Any]]
    ) -> None:
        with chroma_errors(self.where):
            self._collection.upsert(ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas)

    def update(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        with chroma_errors(self.where):
            self._collection.update(ids=ids, metadatas=metadatas)

    def delete(self, ids: list[str]) -> None:
        with chroma_errors(self.where):
            self._collection.delete(ids=ids)

    def query(self, vector: list[float], n_results: int, where: dict[str, Any] | None) -> dict[str, Any]:
        """The nearest `n_results` chunks to `vector`: each field one list, for the one query."""
        with chroma_errors(self.where):
            result = self._collection.query(
                query_embeddings=[vector], n_results=n_results, where=where, include=["documents", "metadatas", "distances"]
            )
        return {key: result[key][0] for key in ("ids", "documents", "metadatas", "distances")}

    def close(self) -> None:
        self.client.close()
