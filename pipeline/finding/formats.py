"""Hits as a terminal table, JSON, Markdown or CSV."""

from __future__ import annotations

import csv
import io
import json

from pipeline.finding.hits import Hit, RecordingHits
from pipeline.transcripts import format_timestamp

CSV_FIELDS = (
    "score",
    "timestamp",
    "start",
    "end",
    "speaker",
    "role",
    "title",
    "show",
    "episode",
    "chapter",
    "link",
    "company",
    "segment",
    "kind",
    "date",
    "tags",
    "recording",
    "recording_id",
    "text",
)


def who(hit: Hit) -> str:
    """'Sam Lee (customer)', 'S2 (customer)', or 'Unknown speaker'."""
    name = hit.speaker or "Unknown speaker"
    return f"{name} ({hit.role})" if hit.role else name


def context(hit: Hit) -> str:
    """The recording's metadata in one line: 'Acme Logistics, enterprise, 2026-03-14, #export', or for a
    podcast 'Builders & Buyers S2E12, chapter "Pricing", 2026-03-03'."""
    meta = hit.metadata or {}
    parts = []
    if meta.get("show"):
        numbers = "".join(f"{letter}{meta[key]}" for letter, key in (("S", "season"), ("E", "episode")) if meta.get(key))
        parts.append(f"{meta['show']} {numbers}".strip())
    if meta.get("chapter"):
        parts.append(f'chapter "{meta["chapter"]}"')
    parts += [str(meta[k]) for k in ("company", "segment", "date") if meta.get(k)]
    parts += [f"#{t}" for t in meta.get("tags") or []]
    return ", ".join(parts)


def hits_to_json(hits: list[Hit]) -> str:
    return json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2)


def hits_to_markdown(hits: list[Hit], query: str) -> str:
    lines = [f"## {query}", ""]
    for number, hit in enumerate(hits, 1):
        lines.append(f"{number}. > {hit.text}")
        where = f" ({context(hit)})" if context(hit) else ""
        lines.append(f"   — {who(hit)}, *{hit.title}*{where} at {format_timestamp(hit.start)} (`{hit.recording}`)")
        lines.append("")
    return "\n".join(lines)


def hits_to_csv(hits: list[Hit]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for hit in hits:
        meta = hit.metadata or {}
        writer.writerow(
            {
                **{k: meta.get(k, "") for k in ("show", "episode", "chapter", "link", "company", "segment", "kind", "date")},
                **hit.to_dict(),
                "tags": ";".join(meta.get("tags") or []),
                "timestamp": format_timestamp(hit.start),
                "speaker": hit.speaker or "",
                "role": hit.role or "",
            }
        )
    return out.getvalue()


def print_hits_table(hits: list[Hit], query: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    if not hits:
        console.print(f"No quotes found for {query!r}. Try broader words, or check that recordings were ingested.")
        return
    table = Table(title=f"“{query}”", show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("At", no_wrap=True)
    table.add_column("Speaker")
    table.add_column("Quote and recording", ratio=1)
    table.add_column("Score", justify="right")
    for number, hit in enumerate(hits, 1):
        # The recording goes under the quote, where the widest column leaves long titles whole.
        quote = Text(f"“{hit.text}”\n")
        quote.append(hit.title, style="bold")
        if context(hit):
            quote.append(f"\n{context(hit)}", style="dim")
        table.add_row(
            str(number),
            format_timestamp(hit.start),
            Text(f"{hit.speaker}\n{hit.role}" if hit.speaker and hit.role else hit.speaker or "?"),
            quote,
            f"{hit.score:.2f}",
        )
    console.print(table)


def groups_to_json(groups: list[RecordingHits]) -> str:
    return json.dumps([g.to_dict() for g in groups], ensure_ascii=False, indent=2)


def groups_to_markdown(groups: list[RecordingHits], query: str) -> str:
    lines = [f"## {query}", ""]
    for group in groups:
        lines += [f"### {group.title}", "", f"`{group.recording}`", ""]
        for hit in group.hits:
            lines.append(f"- {format_timestamp(hit.start)} {hit.speaker or 'Unknown speaker'}: > {hit.text}")
        lines.append("")
    return "\n".join(lines)


def print_groups_table(groups: list[RecordingHits], query: str, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    if not groups:
        print_hits_table([], query, console)
        return
    for group in groups:
        print_hits_table(group.hits, f"{query} — {group.title}", console)
