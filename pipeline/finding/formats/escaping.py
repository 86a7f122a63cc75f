"""One escaping policy per output, applied to every cell by one function.

Everything in a hit that people wrote or said (quotes, titles, names, roles, companies, tags, paths,
the query) is data:
- CSV: a text cell that a spreadsheet would run as a formula (it starts with = + - @, a tab or a
  carriage return) gets a leading apostrophe (`csv_cell`);
- Markdown: characters that make links, emphasis, HTML, headings or tables are backslash-escaped
  and line breaks become spaces (`markdown_text`; `code_span` for paths and ids);
- the terminal: rich Text objects, never markup, with control characters shown as escapes
  (`terminal_text`).
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.finding.hits import Hit
from pipeline.messages import printable

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


def markdown_link(text: str, url: str) -> str:
    """[text](url) with the URL's parentheses and spaces escaped, so it cannot end the link early."""
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{markdown_text(text)}]({target})"


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
