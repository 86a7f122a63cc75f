"""The terminal table (the default): rich Text objects, never markup, so nothing anyone said can
style the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.finding.formats.escaping import context, terminal_text
from pipeline.finding.hits import Hit, RecordingHits
from pipeline.transcripts import format_timestamp

if TYPE_CHECKING:
    from pipeline.finding.themes import Theme


def _render(*renderables: Any) -> str:
    """What rich prints for the terminal this process writes to (colours only on a terminal)."""
    from rich.console import Console

    console = Console()
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable)
    return captured.get().rstrip("\n")


def _hits_table(hits: list[Hit], title: str) -> Any:
    from rich.table import Table
    from rich.text import Text

    if not hits:
        return Text(f"No quotes found for “{terminal_text(title)}”. Try broader words, or check that recordings were ingested.")
    table = Table(title=Text(f"“{terminal_text(title)}”"), show_lines=True, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("At", no_wrap=True)
    table.add_column("Speaker")
    table.add_column("Quote and recording", ratio=1)
    table.add_column("Score", justify="right")
    for number, hit in enumerate(hits, 1):
        # The recording goes under the quote, where the widest column leaves long titles whole.
        quote = Text(f"“{terminal_text(hit.text)}”\n")
        if hit.translation:
            quote.append(f"English (Whisper): “{terminal_text(hit.translation)}”\n", style="italic")
        quote.append(terminal_text(hit.title), style="bold")
        language = (hit.metadata or {}).get("language")
        if language and language != "en":
            quote.append(f" ({terminal_text(str(language))})", style="dim")
        if context(hit):
            quote.append(f"\n{terminal_text(context(hit))}", style="dim")
        quote.append(f"\n{hit.quote_id}", style="dim")
        speaker = "\n".join(terminal_text(part) for part in (hit.speaker or "?", hit.role) if part)
        table.add_row(str(number), format_timestamp(hit.start), Text(speaker), quote, f"{hit.score:.2f}")
    return table


class TableWriter:
    def hits(self, hits: list[Hit], *, title: str, links: Mapping[str, str] | None = None) -> str:
        return _render(_hits_table(hits, title))

    def groups(self, groups: list[RecordingHits], *, title: str, links: Mapping[str, str] | None = None) -> str:
        if not groups:
            return self.hits([], title=title)
        return _render(*(_hits_table(group.hits, f"{title} — {group.title}") for group in groups))

    def themes(
        self, themes: list[Theme], *, title: str, quotes: int | None = None, links: Mapping[str, str] | None = None
    ) -> str:
        from rich.table import Table
        from rich.text import Text

        shown = 3 if quotes is None else quotes
        if not themes:
            # "Themes across all recordings" -> "No themes across all recordings."
            nothing = f"No {title[:1].lower()}{title[1:]}" if title.startswith("Themes") else f"No themes: {title}"
            return _render(Text(f"{terminal_text(nothing)}. Ingest some interviews, or try fewer filters."))
        table = Table(title=Text(terminal_text(title)), show_lines=True, title_justify="left")
        for name, justify in (("#", "right"), ("Theme", "left"), ("Recordings", "right"), ("Companies", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        table.add_column(f"Most representative quotes (of {sum(len(t.quotes) for t in themes)})", ratio=1)
        for number, theme in enumerate(themes, 1):
            text = Text()
            for hit in theme.quotes[:shown]:
                text.append(f"“{terminal_text(hit.text)}”\n")
                where = f"{hit.speaker or '?'}, {hit.title} at {format_timestamp(hit.start)} · {hit.quote_id}"
                text.append(f"{terminal_text(where)}\n", style="dim")
            if len(theme.quotes) > shown:
                text.append(f"+ {len(theme.quotes) - shown} more", style="italic")
            table.add_row(str(number), Text(terminal_text(theme.label)), str(theme.recordings), str(theme.companies), text)
        return _render(table)
