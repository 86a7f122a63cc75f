"""Conditions on hits (role, speaker, company, segment, tags, dates, recording, show), as the store's `where`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from pipeline.indexing.store import Where, where_clause


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

    def where(self) -> Where | None:
        """The store's `where` clause for these conditions, or None when nothing is filtered."""
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
        )


def recording_id_of(recording: str) -> str:
    """A recording id from an id or the path of a recording (or transcript) file."""
    from pipeline.sources import discovery

    path = Path(recording).expanduser()
    if path.is_file():
        return discovery.identify(path.resolve()).id
    return recording
