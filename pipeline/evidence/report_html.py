"""A report as one self-contained HTML file: styles inline, no script, nothing fetched, and each
quote's clip inside it as a data: URL, so it plays from a mail attachment or a shared drive."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import RecordingError
from pipeline.evidence.clips import EMBEDDED, cut_audio
from pipeline.evidence.report import Report, ReportQuote

if TYPE_CHECKING:
    import jinja2

    from pipeline.config import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENVIRONMENT: list[jinja2.Environment] = []


def render(report: Report, settings: Settings, *, clips: bool) -> str:
    """The report's HTML; with `clips`, each quote that has audio carries its clip (Opus at
    evidence.report_bitrate), and each that has none says why."""
    embedded = {quote.number: url for quote in report.quotes if clips and (url := _clip_url(quote, settings))}
    return (
        _templates()
        .get_template("report.html")
        .render(report=report, clips=embedded, with_clips=clips, pad=f"{settings.evidence.clip_pad:g}")
    )


def _clip_url(quote: ReportQuote, settings: Settings) -> str | None:
    if quote.clip is None:
        return None
    try:
        data = cut_audio(
            quote.clip.audio, quote.clip.start, quote.clip.end, EMBEDDED, bitrate=settings.evidence.report_bitrate * 1000
        )
    except RecordingError as exc:
        quote.no_clip = exc.reason
        return None
    return f"data:{EMBEDDED.media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _templates() -> jinja2.Environment:
    if not _ENVIRONMENT:
        import jinja2

        _ENVIRONMENT.append(jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True))
    return _ENVIRONMENT[0]
