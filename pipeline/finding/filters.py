"""Conditions on hits (role, speaker, company, segment, tags, dates, recording, show, language), as the store's `where`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.indexing.store import Where


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
    language: str | None = None  # a language code (es, de, fr), as hits carry it

    def where(self) -> Where | None:
        """The store's `where` clause for these conditions, or None when nothing is filtered."""
        from pipeline.indexing.store import where_clause  # the store's package loads numpy: not at --help

        return where_clause(
            role=self.role,
            speaker=self.speaker,
            company=self.company,
            segment=self.segment,
            show=self.show,
            tags=self.tags,
            since=self.since,
            until=self.until,
            recording_id=self.recording,
            language=self.language,
        )
