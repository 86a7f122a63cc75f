"""Hits as a terminal table, JSON, Markdown or CSV: for the CLI and for the web page's exports.

Everything in a hit that people wrote or said (quotes, titles, names, roles, companies, tags, paths,
the query) is data. One policy per output, applied to every cell by one function:
- CSV: a text cell that a spreadsheet would run as a formula (it starts with = + - @, a tab or a
  carriage return) gets a leading apostrophe (`csv_cell`);
- Markdown: characters that make links, emphasis, HTML, headings or tables are backslash-escaped
  and line breaks become spaces (`markdown_text`; `code_span` for paths);
- the terminal: rich Text objects, never markup, with control characters shown as escapes
  (`terminal_text`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from pipeline.finding.hits import Hit, RecordingHits
from pipeline.messages import printable
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
# The web page's export: each quote with a link back to the page that plays it.
EXPORT_CSV_FIELDS = ("quote", "speaker", "role", "recording", "timestamp", "start", "end", "company", "date", "link")

# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters that make emphasis, code, links, HTML, headings, tables or strike-through; the others
# (- + . !) only mean something at the start of a line, where no cell ever is.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def csv_cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text that could start a formula prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def markdown_text(value: Any) -> str:
    """Text that renders as itself in Markdown: on one line, every markup character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(_LINE_BREAKS.sub(" ", str(value))))


def code_span(value: Any) -> str:
    """A Markdown code span (paths): a fence longer than any run of backticks inside, on one line."""
    text = printable(_LINE_BREAKS.sub(" ", str(value)))
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"{fence}{text}{fence}"


def terminal_text(value: Any) -> str:
    """Text for the terminal (always printed as rich Text, never as markup): control characters escaped."""
    return printable(str(value))


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
    lines = [f"## {markdown_text(query)}", ""]
    for number, hit in enumerate(hits, 1):
        lines.append(f"{number}. > {markdown_text(hit.text)}")
        where = f" ({markdown_text(context(hit))})" if context(hit) else ""
        lines.append(
            f"   — {markdown_text(who(hit))}, *{markdown_text(hit.title)}*{where} at {format_timestamp(hit.start)} "
            f"({code_span(hit.recording)})"
        )
        lines.append("")
    return "\n".join(lines)


def export_markdown(hits: list[Hit], links: list[str], query: str) -> str:
    """The web page's Markdown export: each quote with a link to the page that plays it."""
    lines = [f"## What was said about “{markdown_text(query)}”", ""]
    for hit, link in zip(hits, links):
        lines.append(f"> {markdown_text(hit.text)}")
        lines.append(f"— {markdown_text(who(hit))}, *{markdown_text(hit.title)}*, [{format_timestamp(hit.start)}]({link})")
        lines.append("")
    return "\n".join(lines)


def hits_to_csv(hits: list[Hit]) -> str:
    rows = []
    for hit in hits:
        meta = hit.metadata or {}
        rows.append(
            {
                **{k: meta.get(k, "") for k in ("show", "episode", "chapter", "link", "company", "segment", "kind", "date")},
                **hit.to_dict(),
                "tags": ";".join(meta.get("tags") or []),
                "timestamp": format_timestamp(hit.start),
                "speaker": hit.speaker or "",
                "role": hit.role or "",
            }
        )
    return _csv(rows, CSV_FIELDS)


def export_csv(hits: list[Hit], links: list[str]) -> str:
    """The web page's CSV export: each quote with a link to the page that plays it."""
    rows = [
        {
            "quote": hit.text,
            "speaker": hit.speaker or "",
            "role": hit.role or "",
            "recording": hit.title,
            "timestamp": format_timestamp(hit.start),
            "start": hit.start,
            "end": hit.end,
            "company": hit.metadata.get("company") or "",
            "date": hit.metadata.get("date") or "",
            "link": link,
        }
        for hit, link in zip(hits, links)
    ]
    return _csv(rows, EXPORT_CSV_FIELDS)


def _csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return out.getvalue()


def print_hits_table(hits: list[Hit], query: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    if not hits:
        console.print(
            Text(f"No quotes found for “{terminal_text(query)}”. Try broader words, or check that recordings were ingested.")
        )
        return
    table = Table(title=Text(f"“{terminal_text(query)}”"), show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("At", no_wrap=True)
    table.add_column("Speaker")
    table.add_column("Quote and recording", ratio=1)
    table.add_column("Score", justify="right")
    for number, hit in enumerate(hits, 1):
        # The recording goes under the quote, where the widest column leaves long titles whole.
        quote = Text(f"“{terminal_text(hit.text)}”\n")
        quote.append(terminal_text(hit.title), style="bold")
        if context(hit):
            quote.append(f"\n{terminal_text(context(hit))}", style="dim")
        speaker = "\n".join(terminal_text(part) for part in (hit.speaker or "?", hit.role) if part)
        table.add_row(str(number), format_timestamp(hit.start), Text(speaker), quote, f"{hit.score:.2f}")
    console.print(table)


def groups_to_json(groups: list[RecordingHits]) -> str:
    return json.dumps([g.to_dict() for g in groups], ensure_ascii=False, indent=2)


def groups_to_markdown(groups: list[RecordingHits], query: str) -> str:
    lines = [f"## {markdown_text(query)}", ""]
    for group in groups:
        lines += [f"### {markdown_text(group.title)}", "", code_span(group.recording), ""]
        for hit in group.hits:
            speaker = markdown_text(hit.speaker or "Unknown speaker")
            lines.append(f"- {format_timestamp(hit.start)} {speaker}: > {markdown_text(hit.text)}")
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


# Themes (heard themes) -------------------------------------------------------------------------
# `themes` are pipeline.finding.themes.Theme objects; typed loosely to keep this module free of them.

THEME_CSV_FIELDS = ("theme", "theme_recordings", "theme_companies", "rank", *CSV_FIELDS)


def themes_to_json(themes) -> str:
    """{"themes": [{"label", "recordings", "companies", "quotes": [hit, ...]}, ...]}"""
    return json.dumps({"themes": [t.to_dict() for t in themes]}, ensure_ascii=False, indent=2)


def _counts(theme) -> str:
    companies = f", {theme.companies} {'company' if theme.companies == 1 else 'companies'}" if theme.companies else ""
    recordings = "recording" if theme.recordings == 1 else "recordings"
    return f"{theme.recordings} {recordings}{companies}, {len(theme.quotes)} quotes"


def themes_to_markdown(themes, title: str, *, quotes: int | None = None) -> str:
    lines = [f"## {title}", ""]
    for number, theme in enumerate(themes, 1):
        lines += [f"### {number}. {theme.label}", "", f"{_counts(theme)}", ""]
        for hit in theme.quotes[:quotes]:
            where = f" ({context(hit)})" if context(hit) else ""
            lines.append(f"- > {hit.text}")
            lines.append(f"  — {who(hit)}, *{hit.title}*{where} at {format_timestamp(hit.start)} (`{hit.recording}`)")
        lines.append("")
    return "\n".join(lines)


def themes_to_csv(themes) -> str:
    """One row per quote, with its theme's label and counts before the columns of `heard search --format csv`."""
    rows = io.StringIO(hits_to_csv([hit for theme in themes for hit in theme.quotes]))
    reader = csv.DictReader(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=THEME_CSV_FIELDS)
    writer.writeheader()
    quotes = iter(reader)
    for theme in themes:
        for rank, _ in enumerate(theme.quotes, 1):
            writer.writerow(
                {"theme": theme.label, "theme_recordings": theme.recordings, "theme_companies": theme.companies, "rank": rank}
                | next(quotes)
            )
    return out.getvalue()


def print_themes_table(themes, title: str, *, quotes: int = 3, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    if not themes:
        console.print(f"No themes for {title}. Ingest some interviews, or try fewer filters.")
        return
    table = Table(title=title, show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Theme")
    table.add_column("Recordings", justify="right")
    table.add_column("Companies", justify="right")
    table.add_column(f"Most representative quotes (of {sum(len(t.quotes) for t in themes)})", ratio=1)
    for number, theme in enumerate(themes, 1):
        text = Text()
        for hit in theme.quotes[:quotes]:
            text.append(f"“{hit.text}”\n")
            text.append(f"{hit.speaker or '?'}, {hit.title} at {format_timestamp(hit.start)}\n", style="dim")
        if len(theme.quotes) > quotes:
            text.append(f"+ {len(theme.quotes) - quotes} more", style="italic")
        table.add_row(str(number), theme.label, str(theme.recordings), str(theme.companies), text)
    console.print(table)
