"""CSV: one schema for every hit, from the command line and the web page's export alike; `url` (the
page that plays the quote) is filled where it is known."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pipeline.finding.formats.escaping import csv_cell
from pipeline.finding.hits import Hit, RecordingHits
from pipeline.transcripts import format_timestamp

if TYPE_CHECKING:
    from pipeline.finding.themes import Theme

_METADATA_FIELDS = ("show", "episode", "chapter", "link", "company", "segment", "kind", "date", "language")
CSV_FIELDS = (
    "quote_id",
    "score",
    "timestamp",
    "start",
    "end",
    "speaker",
    "role",
    "title",
    *_METADATA_FIELDS,  # link: a podcast episode's own page, from its feed
    "tags",
    "recording",
    "recording_id",
    "text",
    "translation",  # Whisper's English of a quote in another language (--translate), else empty
    "url",  # the heard page that plays the quote, where known (the web page's export)
)
THEME_CSV_FIELDS = ("theme", "theme_recordings", "theme_companies", "rank", *CSV_FIELDS)


def hit_row(hit: Hit, links: Mapping[str, str] | None) -> dict[str, Any]:
    meta = hit.metadata or {}
    tags = meta.get("tags") or []
    return {
        **{key: meta.get(key, "") for key in _METADATA_FIELDS},
        **hit.to_dict(),
        "tags": ";".join([tags] if isinstance(tags, str) else tags),
        "timestamp": format_timestamp(hit.start),
        "speaker": hit.speaker or "",
        "role": hit.role or "",
        "translation": hit.translation or "",
        "url": (links or {}).get(hit.quote_id, ""),
    }


class CsvWriter:
    def hits(self, hits: list[Hit], *, title: str, links: Mapping[str, str] | None = None) -> str:
        return _csv((hit_row(hit, links) for hit in hits), CSV_FIELDS)

    def groups(self, groups: list[RecordingHits], *, title: str, links: Mapping[str, str] | None = None) -> str:
        """Rows carry their recording: grouping is an order."""
        return self.hits([hit for group in groups for hit in group.hits], title=title, links=links)

    def themes(
        self, themes: list[Theme], *, title: str, quotes: int | None = None, links: Mapping[str, str] | None = None
    ) -> str:
        """One row per quote (all of them), with its theme's label and counts before the hit's columns."""
        rows = (
            {"theme": t.label, "theme_recordings": t.recordings, "theme_companies": t.companies, "rank": rank}
            | hit_row(hit, links)
            for t in themes
            for rank, hit in enumerate(t.quotes, 1)
        )
        return _csv(rows, THEME_CSV_FIELDS)


def _csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return out.getvalue()
