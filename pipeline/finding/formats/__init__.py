"""Hits, groups of hits and themes as a terminal table, JSON, Markdown or CSV: one writer per format,
for the command line (--format) and the web page's exports alike. `links` (quote id -> the page that
plays the quote) are added where a writer knows them: the web page's exports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from pipeline.finding.formats import csv_format, json_format, markdown_format, table_format
from pipeline.finding.hits import Hit, RecordingHits

if TYPE_CHECKING:
    from pipeline.finding.themes import Theme

Links = Mapping[str, str] | None


class Writer(Protocol):
    def hits(self, hits: list[Hit], *, title: str, links: Links = None) -> str: ...

    def groups(self, groups: list[RecordingHits], *, title: str, links: Links = None) -> str: ...

    def themes(self, themes: list[Theme], *, title: str, quotes: int | None = None, links: Links = None) -> str: ...


WRITERS: dict[str, Writer] = {
    "table": table_format.TableWriter(),
    "json": json_format.JsonWriter(),
    "md": markdown_format.MarkdownWriter(),
    "csv": csv_format.CsvWriter(),
}
FORMATS = tuple(WRITERS)


def writer(name: str) -> Writer:
    return WRITERS[name]
