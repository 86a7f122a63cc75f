"""Search results as CSV and Markdown files, each quote with a link back to the page that plays it."""

from __future__ import annotations

import csv
import io

from pipeline.finding.hits import Hit
from pipeline.transcripts import format_timestamp

CSV_FIELDS = ("quote", "speaker", "role", "recording", "timestamp", "start", "end", "company", "date", "link")


def to_csv(hits: list[Hit], links: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for hit, link in zip(hits, links):
        writer.writerow(
            {
                "quote": _cell(hit.text),
                "speaker": _cell(hit.speaker or ""),
                "role": hit.role or "",
                "recording": _cell(hit.title),
                "timestamp": format_timestamp(hit.start),
                "start": hit.start,
                "end": hit.end,
                "company": _cell(hit.metadata.get("company") or ""),
                "date": hit.metadata.get("date") or "",
                "link": link,
            }
        )
    return out.getvalue()


def to_markdown(hits: list[Hit], links: list[str], query: str) -> str:
    lines = [f"## What was said about “{_md_escape(query)}”", ""]
    for hit, link in zip(hits, links):
        who = _md_escape(hit.speaker or "Unknown speaker")
        if hit.role:
            who += f" ({hit.role})"
        lines.append(f"> {_md_escape(hit.text)}")
        lines.append(f"— {who}, *{_md_escape(hit.title)}*, [{format_timestamp(hit.start)}]({link})")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    # A spreadsheet runs a cell that starts like a formula; transcript text must stay text.
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text


def _md_escape(text: str) -> str:
    # Transcript text must stay text when the Markdown is rendered: no injected HTML or links.
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text
