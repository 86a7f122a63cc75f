"""Query in, ranked timestamped quotes out."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
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
    role: str | None = None
    # The recording's metadata: company, segment, kind, date, tags.
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchFilters:
    """Conditions every hit must meet; all given ones combine (AND)."""

    role: str | None = None
    speaker: str | None = None
    company: str | None = None
    segment: str | None = None
    tags: tuple[str, ...] = ()  # every tag must be present
    since: datetime.date | None = None
    until: datetime.date | None = None
    recording: str | None = None  # a recording id

    def where(self) -> dict[str, Any] | None:
        """The Chroma `where` clause, or None when nothing is filtered."""
        clauses: list[dict[str, Any]] = []
        for key in ("role", "speaker", "company", "segment"):
            if getattr(self, key):
                clauses.append({key: getattr(self, key)})
        clauses += [{"tags": {"$contains": tag}} for tag in self.tags]
        if self.since:
            clauses.append({"date_key": {"$gte": _date_key(self.since)}})
        if self.until:
            clauses.append({"date_key": {"$lte": _date_key(self.until)}})
        if self.recording:
            clauses.append({"recording_id": self.recording})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _date_key(day: datetime.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def search(
    query: str,
    settings: Settings,
    k: int | None = None,
    filters: SearchFilters | None = None,
    embedder=None,
    store=None,
) -> list[Hit]:
    """The `k` chunks closest in meaning to `query` that pass `filters`, best first.

    `embedder` and `store` may be passed in by long-lived callers (the web app) to skip reloading.
    """
    from pipeline.embed import Embedder
    from pipeline.store import open_store

    k = k or settings.search.k
    store = store or open_store(settings, create=False)
    embedder = embedder or Embedder(settings.embedding)
    if store.embedding_model not in (None, settings.embedding.model):
        from pipeline.errors import ConfigError

        raise ConfigError(
            f"{store.where}: the index was built with '{store.embedding_model}' but embedding.model "
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
            role=found.chunk.role,
            metadata=found.chunk.metadata,
        )
        for found in store.query(vector, k, where=filters.where() if filters else None)
    ]
