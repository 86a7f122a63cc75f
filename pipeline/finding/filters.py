"""Conditions on hits (role, speaker, company, segment, tags, dates, recording, show) as a Chroma `where`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


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
    show: str | None = None  # a podcast, by the name its hits carry

    def where(self) -> dict[str, Any] | None:
        """The Chroma `where` clause, or None when nothing is filtered."""
        from pipeline.indexing.store import date_key

        clauses: list[dict[str, Any]] = []
        if self.role:
            clauses.append({"role": self.role.casefold()})
        # Names, companies, segments, shows and tags match whatever their case (lower-cased copies in the store).
        for key in ("speaker", "company", "segment", "show"):
            if getattr(self, key):
                clauses.append({f"{key}_key": getattr(self, key).casefold()})
        clauses += [{"tags_key": {"$contains": tag.casefold()}} for tag in self.tags]
        if self.since:
            clauses.append({"date_key": {"$gte": date_key(self.since)}})
        if self.until:
            clauses.append({"date_key": {"$lte": date_key(self.until)}})
        if self.recording:
            clauses.append({"recording_id": self.recording})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
