"""A report as Markdown, for Notion, Confluence or a Git wiki, with its clips as mp3 files in a folder
beside it (`pricing.md` and `pricing-clips/`), each linked from its quote."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import RecordingError
from pipeline.evidence.clips import CLIP_FORMATS, cut_audio
from pipeline.evidence.listing import markdown_annotations
from pipeline.evidence.report import Report, ReportQuote
from pipeline.files import atomic_path
from pipeline.finding.formats.escaping import code_span, markdown_link, markdown_text

if TYPE_CHECKING:
    from pipeline.config import Settings

CLIP_SUFFIX = ".mp3"  # what every wiki and document tool plays or at least offers to download
CLIP_NAME = re.compile(r"^\d{2,}-[0-9a-f]{8,64}-\d+-\d+\.mp3$")  # the names this module gives clips


HOW = {
    "search": "Every quote that answers, as {command} finds and counts them: the customers' own words.",
    "themes": "What customers talk about, as {command} groups their quotes.",
    "collection": "The quotes saved in this collection ({command}).",
}


def clips_folder(path: Path) -> Path:
    return path.with_name(f"{path.stem}-clips")


def write(report: Report, path: Path, settings: Settings, *, clips: bool) -> int:
    """Write the Markdown to `path` and, with `clips`, each quote's clip into clips_folder(path);
    the number of clips written."""
    folder = clips_folder(path)
    written: dict[int, str] = {}
    for quote in report.quotes if clips else []:
        name = _write_clip(quote, folder)
        if name:
            written[quote.number] = f"{folder.name}/{name}"
    with atomic_path(path) as staging:
        staging.write_text(text(report, written, clips_wanted=clips), encoding="utf-8")
    if clips and folder.is_dir():  # a clip of an earlier run of this report that it no longer holds
        kept = {Path(name).name for name in written.values()}
        for stale in folder.iterdir():
            if CLIP_NAME.match(stale.name) and stale.name not in kept:
                stale.unlink()
    return len(written)


def _write_clip(quote: ReportQuote, folder: Path) -> str | None:
    if quote.clip is None:
        return None
    try:
        data = cut_audio(quote.clip.audio, quote.clip.start, quote.clip.end, CLIP_FORMATS[CLIP_SUFFIX])
    except RecordingError as exc:
        quote.no_clip = exc.reason
        return None
    name = f"{quote.number:02d}-{quote.quote_id}{CLIP_SUFFIX}"
    with atomic_path(folder / name) as staging:
        staging.write_bytes(data)
    return name


def text(report: Report, clips: dict[int, str], *, clips_wanted: bool) -> str:
    """The report's Markdown; `clips` maps a quote's number to its clip's relative path."""
    lines = [f"# {markdown_text(report.title)}", "", f"**{markdown_text(report.count_line)}**", ""]
    lines += [HOW[report.kind].format(command=code_span(report.command)), ""]
    if report.filters:
        lines += ["Filters: " + ", ".join(f"{name} {markdown_text(value)}" for name, value in report.filters), ""]
    lines += [*(f"*{markdown_text(line)}*" for line in report.left_out), *([""] if report.left_out else [])]
    if report.themes:
        lines += ["## Themes", ""]
        for theme in report.themes:
            numbers = ", ".join(f"#{n}" for n in theme.quotes)
            plural = "s" if theme.recordings != 1 else ""
            lines.append(f"- **{markdown_text(theme.label)}**: {theme.recordings} recording{plural}, quotes {numbers}")
        lines.append("")
    lines += ["## Quotes", ""]
    for quote in report.quotes:
        lines += _quote(quote, clips.get(quote.number), clips_wanted=clips_wanted)
    lines.append(f"*Made with heard {report.version} on {markdown_text(report.made_at)}.*")
    return "\n".join(lines) + "\n"


def _quote(quote: ReportQuote, clip: str | None, *, clips_wanted: bool) -> list[str]:
    meta = quote.metadata
    who = markdown_text(quote.speaker or "Unknown speaker") + (f" ({markdown_text(quote.role)})" if quote.role else "")
    where = ", ".join(markdown_text(meta[k]) for k in ("company", "show", "date") if meta.get(k))
    lines = [
        f"{quote.number}. > {markdown_text(quote.text)}",
        "",
        f"   — {who}{', ' + where if where else ''}, *{markdown_text(quote.title)}* at {quote.timestamp} "
        f"· {code_span(quote.quote_id)}",
    ]
    if clip:
        lines.append(f"   {markdown_link('▶ clip', clip)}")
    elif clips_wanted and quote.no_clip:
        lines.append(f"   No clip: {markdown_text(quote.no_clip)}")
    return [*lines, *markdown_annotations(quote.note, quote.tags, quote.status, indent="   "), ""]
