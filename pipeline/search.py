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
        if self.role:
            clauses.append({"role": self.role.casefold()})
        # Names, companies, segments and tags match whatever their case (lower-cased copies in the store).
        for key in ("speaker", "company", "segment"):
            if getattr(self, key):
                clauses.append({f"{key}_key": getattr(self, key).casefold()})
        clauses += [{"tags_key": {"$contains": tag.casefold()}} for tag in self.tags]
        if self.since:
            clauses.append({"date_key": {"$gte": _date_key(self.since)}})
        if self.until:
            clauses.append({"date_key": {"$lte": _date_key(self.until)}})
        if self.recording:
            clauses.append({"recording_id": self.recording})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def recording_id_of(recording: str) -> str:
    """A recording id from an id or the path of a recording (or transcript) file."""
    from pathlib import Path

    from pipeline import sources

    path = Path(recording).expanduser()
    if path.is_file():
        return sources.identify(path.resolve()).id
    return recording


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
    weight = settings.search.asker_weight
    # Down-weighted questions may fall below answers further down: look a little deeper.
    candidates = k if weight == 1 else k * 3
    hits = [
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
        for found in store.query(vector, candidates, where=filters.where() if filters else None)
    ]
    return weigh_roles(hits, weight)[:k]


def weigh_roles(hits: list[Hit], asker_weight: float) -> list[Hit]:
    """Multiply interviewer/host scores by `asker_weight` and re-rank."""
    from pipeline.speakers import ASKER_ROLES

    if asker_weight == 1:
        return hits
    for hit in hits:
        if hit.role in ASKER_ROLES:
            hit.score = round(hit.score * asker_weight, 4)
    return sorted(hits, key=lambda h: -h.score)
