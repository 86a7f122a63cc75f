"""The Chroma collection that holds chunk vectors; rebuildable from transcripts/ at any time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.chunking import Chunk
from pipeline.errors import ConfigError, IndexMissingError


@dataclass
class StoredChunk:
    chunk: Chunk
    distance: float


class Store:
    """A persistent Chroma collection under `<data dir>/index`. Vectors are always given explicitly:
    Chroma's default embedding function would try to download a model."""

    def __init__(self, index_dir: Path, collection: str, create: bool = True):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if not create and not index_dir.is_dir():
            raise IndexMissingError(f"{index_dir}: no index yet; run `heard ingest FOLDER` first")
        self.index_dir = index_dir
        self._client = chromadb.PersistentClient(
            path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        if create:
            self._collection = self._client.get_or_create_collection(
                collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        else:
            try:
                self._collection = self._client.get_collection(collection, embedding_function=None)
            except Exception as exc:  # chromadb raises NotFoundError or ValueError by version
                raise IndexMissingError(
                    f"{index_dir}: no collection '{collection}' yet; run `heard ingest FOLDER` first"
                ) from exc

    def close(self) -> None:
        """Let go of the Chroma client. A Store opened afterwards reads the index from disk afresh:
        a long-lived one does not see chunks that another process (a nightly ingest) wrote."""
        self._client.close()

    @property
    def embedding_model(self) -> str | None:
        return (self._collection.metadata or {}).get("embedding_model")

    def check_embedding_model(self, model: str, dimension: int) -> None:
        """Refuse to mix vectors of two models in one collection."""
        metadata = self._collection.metadata or {}
        if self.count() and metadata.get("embedding_model") not in (None, model):
            raise ConfigError(
                f"{self.index_dir}: the index holds vectors of '{metadata['embedding_model']}' but "
                f"embedding.model is '{model}'; run `heard reindex` to rebuild it with the new model"
            )
        if self.count() and metadata.get("dimension") not in (None, dimension):
            raise ConfigError(
                f"{self.index_dir}: the index holds {metadata['dimension']}-dimensional vectors but "
                f"'{model}' makes {dimension}; run `heard reindex`"
            )
        if metadata.get("embedding_model") != model or metadata.get("dimension") != dimension:
            self._collection.modify(metadata={"embedding_model": model, "dimension": dimension})

    def count(self) -> int:
        return self._collection.count()

    def chunk_ids(self, recording_id: str) -> set[str]:
        found = self._collection.get(where={"recording_id": recording_id}, include=[])
        return set(found["ids"])

    def fingerprint(self, recording_id: str) -> str | None:
        """The metadata fingerprint a recording's chunks were indexed with ('' if none, None if not indexed)."""
        found = self._collection.get(where={"recording_id": recording_id}, limit=1, include=["metadatas"])
        if not found["ids"]:
            return None
        return found["metadatas"][0].get("fingerprint", "")

    def has_recording(self, recording_id: str) -> bool:
        return bool(self._collection.get(where={"recording_id": recording_id}, limit=1, include=[])["ids"])

    def replace_recording(self, recording_id: str, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Write a recording's chunks, then drop any of its older chunks that were not rewritten.

        Upserting before deleting means search never sees the recording missing.
        """
        old_ids = self.chunk_ids(recording_id)
        if chunks:
            self._collection.upsert(
                ids=[c.id for c in chunks],
                embeddings=vectors.tolist(),
                documents=[c.text for c in chunks],
                metadatas=[_metadata(c) for c in chunks],
            )
        stale = old_ids - {c.id for c in chunks}
        if stale:
            self._collection.delete(ids=sorted(stale))

    def drop_replaced(self, path: str, recording_id: str) -> int:
        """Remove chunks of earlier contents of the file at `path` (an edited transcript or recording
        has a new id); returns how many were removed."""
        found = self._collection.get(
            where={"$and": [{"recording": path}, {"recording_id": {"$ne": recording_id}}]}, include=[]
        )
        if found["ids"]:
            self._collection.delete(ids=found["ids"])
        return len(found["ids"])

    def set_recording_path(self, recording_id: str, path: str) -> None:
        """Point a moved or renamed recording's chunks at its new path."""
        found = self._collection.get(where={"recording_id": recording_id}, include=["metadatas"])
        if found["ids"] and any(m.get("recording") != path for m in found["metadatas"]):
            self._collection.update(ids=found["ids"], metadatas=[{**m, "recording": path} for m in found["metadatas"]])

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        if self.count() == 0:
            return []
        result = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, self.count()),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(_chunk(chunk_id, doc, meta), float(dist))
            for chunk_id, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]


# Recording-level metadata keys stored flat on every chunk, so Chroma can filter on them.
RECORDING_KEYS = ("company", "segment", "kind", "date", "tags")
# Chroma matches strings exactly: lower-cased copies (<key>_key) make these filters case-insensitive.
FOLDED_KEYS = ("speaker", "company", "segment", "tags")


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
    meta["fingerprint"] = chunk.metadata.get("fingerprint")
    for key in FOLDED_KEYS:
        value = meta.get(key)
        if value:
            meta[f"{key}_key"] = [v.casefold() for v in value] if isinstance(value, list) else str(value).casefold()
    if meta["date"]:
        # Chroma compares numbers only: dates also go in as yyyymmdd for --since/--until.
        meta["date_key"] = int(str(meta["date"])[:10].replace("-", ""))
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
