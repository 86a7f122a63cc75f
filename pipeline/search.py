"""Query in, ranked timestamped quotes out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.config import Settings


@dataclass
class Hit:
    text: str
    recording: str  # path of the source file
    recording_id: str
    title: str
    start: float
    end: float
    speaker: str | None
    score: float
    chunk_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def search(query: str, settings: Settings, k: int | None = None, embedder=None, store=None) -> list[Hit]:
    """The `k` chunks closest in meaning to `query`, best first.

    `embedder` and `store` may be passed in by long-lived callers (the web app) to skip reloading.
    """
    from pipeline.embed import Embedder
    from pipeline.store import Store

    k = k or settings.search.k
    store = store or Store(settings.index_dir, settings.store.collection, create=False)
    embedder = embedder or Embedder(settings.embedding)
    if store.embedding_model not in (None, settings.embedding.model):
        from pipeline.errors import ConfigError

        raise ConfigError(
            f"{settings.index_dir}: the index was built with '{store.embedding_model}' but embedding.model "
            f"is '{settings.embedding.model}'; run `heard reindex` or change the setting back"
        )
    vector = embedder.encode([query])[0]
    return [
        Hit(
            text=found.chunk.text,
            recording=found.chunk.recording,
            recording_id=found.chunk.recording_id,
            title=found.chunk.title,
            start=found.chunk.start,
            end=found.chunk.end,
            speaker=found.chunk.speaker,
            score=round(1.0 - found.distance, 4),
            chunk_id=found.chunk.id,
        )
        for found in store.query(vector, k)
    ]
