"""Markdown: for notes, wikis and chat. Every quote with who said it, where and when, and its quote
id; its time links to the page that plays it where that is known (the web page's export)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pipeline.finding.formats.escaping import code_span, context, markdown_link, markdown_text, who
from pipeline.finding.hits import Hit, RecordingHits
from pipeline.messages import counted
from pipeline.transcripts import format_timestamp

if TYPE_CHECKING:
    from pipeline.finding.themes import Theme


def when(hit: Hit, links: Mapping[str, str] | None) -> str:
    """The quote's time, linked to the page that plays it when known."""
    stamp = format_timestamp(hit.start)
    url = (links or {}).get(hit.quote_id)
    return markdown_link(stamp, url) if url else stamp


def attribution(hit: Hit, links: Mapping[str, str] | None) -> str:
    """'— Sam Lee (customer), *Acme export* (Acme Logistics) at 00:08 (`/calls/acme.mp3`) · `3f9a…-800-1420`'"""
    where = f" ({markdown_text(context(hit))})" if context(hit) else ""
    return (
        f"— {markdown_text(who(hit))}, *{markdown_text(hit.title)}*{where} at {when(hit, links)} "
        f"({code_span(hit.recording)}) · {code_span(hit.quote_id)}"
    )


def counts(theme: Theme) -> str:
    """'3 recordings, 2 companies, 5 quotes'."""
    companies = f", {counted(theme.companies, 'company', 'companies')}" if theme.companies else ""
    return f"{counted(theme.recordings, 'recording')}{companies}, {counted(len(theme.quotes), 'quote')}"


class MarkdownWriter:
    def hits(self, hits: list[Hit], *, title: str, links: Mapping[str, str] | None = None) -> str:
        lines = [f"## {markdown_text(title)}", ""]
        for number, hit in enumerate(hits, 1):
            lines.append(f"{number}. > {markdown_text(hit.text)}")
            if hit.translation:
                lines.append(f"   > *English (Whisper):* {markdown_text(hit.translation)}")
            lines += [f"   {attribution(hit, links)}", ""]
        return "\n".join(lines)

    def groups(self, groups: list[RecordingHits], *, title: str, links: Mapping[str, str] | None = None) -> str:
        lines = [f"## {markdown_text(title)}", ""]
        for group in groups:
            lines += [f"### {markdown_text(group.title)}", "", code_span(group.recording), ""]
            for hit in group.hits:
                speaker = markdown_text(who(hit))
                lines.append(f"- {when(hit, links)} {speaker}: > {markdown_text(hit.text)} · {code_span(hit.quote_id)}")
            lines.append("")
        return "\n".join(lines)

    def themes(
        self, themes: list[Theme], *, title: str, quotes: int | None = None, links: Mapping[str, str] | None = None
    ) -> str:
        lines = [f"## {markdown_text(title)}", ""]
        for number, theme in enumerate(themes, 1):
            lines += [f"### {number}. {markdown_text(theme.label)}", "", counts(theme), ""]
            for hit in theme.quotes[:quotes]:
                lines += [f"- > {markdown_text(hit.text)}", f"  {attribution(hit, links)}"]
            lines.append("")
        return "\n".join(lines)
