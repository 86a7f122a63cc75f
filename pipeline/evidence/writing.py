"""`heard report` from end to end: which report the options ask for, built over one Searcher, and
written as the output's extension says (.html: one self-contained file; .md: Markdown and a folder
of clips)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import UsageError
from pipeline.evidence import report_html, report_markdown
from pipeline.evidence.options import report_source
from pipeline.evidence.report import Report, collection_report, search_report, themes_report
from pipeline.evidence.spans import Recordings
from pipeline.files import atomic_path

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.finding.searcher import Searcher

HTML_SUFFIXES = (".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass
class WrittenReport:
    report: Report
    path: Path | None  # None when only printed (--format json without -o)
    size: int  # bytes of the file written (the Markdown's clips not counted)
    clips: int  # clips embedded or written

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "file": str(self.path) if self.path else None, "bytes": self.size, "clips": self.clips}


def check_output(output: Path | None) -> None:
    """Refuse an output whose extension names no report format, before any work is done."""
    if output is not None and output.suffix.lower() not in HTML_SUFFIXES + MARKDOWN_SUFFIXES:
        raise UsageError(f"{output}: a report is written as .html (one file, clips inside) or .md (with a folder of clips)")


def build(settings: Settings, values: dict[str, Any], *, searcher: Searcher) -> Report:
    """The report the parsed REPORT options ask for: of a question, or of a collection."""
    source = report_source(values)
    recordings = Recordings(settings)
    if source.collection:
        return collection_report(settings, source.collection, searcher=searcher, recordings=recordings)
    if source.every_theme:
        return themes_report(settings, source.filters, searcher=searcher, recordings=recordings)
    return search_report(settings, str(source.query), source.filters, searcher=searcher, recordings=recordings)


def write(report: Report, output: Path, settings: Settings, *, clips: bool) -> WrittenReport:
    """Write `report` to `output` in the format its extension names."""
    check_output(output)
    try:
        if output.suffix.lower() in MARKDOWN_SUFFIXES:
            count = report_markdown.write(report, output, settings, clips=clips)
        else:
            page = report_html.render(report, settings, clips=clips)
            with atomic_path(output) as staging:
                staging.write_text(page, encoding="utf-8")
            count = page.count("<audio ")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the report ({exc.strerror or exc}); pick another -o") from exc
    return WrittenReport(report, output, output.stat().st_size, count)


def report_once(settings: Settings, values: dict[str, Any], output: Path | None, *, clips: bool) -> WrittenReport:
    """`heard report`: build the report over the index `settings` name and write it to `output`."""
    from pipeline.finding.searcher import Searcher

    check_output(output)
    with Searcher(settings) as searcher:
        found = build(settings, values, searcher=searcher)
    if output is None:
        return WrittenReport(found, None, 0, 0)
    return write(found, output, settings, clips=clips)
