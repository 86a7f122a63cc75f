"""A collection's quotes as the terminal shows them (`heard collections show`), or as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipeline.evidence.saved import SavedQuote
from pipeline.finding.formats.escaping import code_span, markdown_text
from pipeline.messages import counted, printable


class HasRecording(Protocol):
    @property
    def recording_id(self) -> str: ...


def _who(quote: SavedQuote) -> str:
    name = quote.speaker or "Unknown speaker"
    return f"{name} ({quote.role})" if quote.role else name


def _where(quote: SavedQuote) -> str:
    parts = [str(quote.metadata[k]) for k in ("company", "show", "date") if quote.metadata.get(k)]
    return f" ({', '.join(parts)})" if parts else ""


def collection_headline(name: str, quotes: Sequence[HasRecording]) -> str:
    """The line "Pricing pain: 2 quotes from 1 recording": a collection's line in listings and its reports."""
    recordings = len({quote.recording_id for quote in quotes})
    return f"{name}: {counted(len(quotes), 'quote')} from {counted(recordings, 'recording')}"


def collection_text(name: str, quotes: list[SavedQuote], *, markdown: bool = False) -> str:
    """Each quote with who said it (as named now), where and when, its note, tags and quote id, and
    a line when its recording was transcribed again or is gone."""
    head = collection_headline(name, quotes)
    if markdown:
        return "\n".join([f"## {markdown_text(head)}", "", *[line for q in quotes for line in _markdown(q)]])
    lines = [printable(head)]
    for number, quote in enumerate(quotes, 1):
        lines.append(printable(f"{number:>3}. “{quote.text}”"))
        lines.append(printable(f"     — {_who(quote)}, {quote.title}{_where(quote)} at {quote.timestamp}"))
        if quote.note:
            lines.append(printable(f"     note: {quote.note}"))
        if quote.tags:
            lines.append(printable("     " + " ".join(f"#{tag}" for tag in quote.tags)))
        if quote.status_text:
            lines.append(printable(f"     ({quote.status_text})"))
        lines.append(f"     {quote.quote_id}")
    return "\n".join(lines)


def markdown_annotations(note: str, tags: Sequence[str], status: str, *, indent: str) -> list[str]:
    """A saved quote's note, tags and status as Markdown lines under it (listings and reports)."""
    lines = [f"{indent}Note: {markdown_text(note)}"] if note else []
    if tags:
        lines.append(f"{indent}Tags: " + " ".join(f"#{markdown_text(tag)}" for tag in tags))
    if status:
        lines.append(f"{indent}*{markdown_text(status)}*")
    return lines


def _markdown(quote: SavedQuote) -> list[str]:
    lines = [
        f"- > {markdown_text(quote.text)}",
        f"  — {markdown_text(_who(quote))}, *{markdown_text(quote.title)}*{markdown_text(_where(quote))} at "
        f"{quote.timestamp} · {code_span(quote.quote_id)}",
    ]
    return [*lines, *markdown_annotations(quote.note, quote.tags, quote.status_text, indent="  "), ""]
