"""An answer on the terminal (text) and in Markdown: the sentences with their citations, then the
cited quotes with speaker, recording and timestamp, then how the answer was made and what it cost.
JSON is Answer.to_dict. Everything people said or wrote goes through the escaping policy of
finding/formats/escaping.py."""

from __future__ import annotations

import shutil
import textwrap

from pipeline.answering.answers import Answer
from pipeline.finding.formats.escaping import code_span, markdown_text, terminal_text, who
from pipeline.finding.hits import Hit
from pipeline.messages import counted
from pipeline.transcripts import format_timestamp


def numbering(answer: Answer) -> dict[str, int]:
    """quote id -> the number the reader sees: 1, 2, ... in the order quotes are first cited."""
    return {hit.quote_id: number for number, hit in enumerate(answer.cited(), 1)}


def provenance(answer: Answer) -> str:
    """How the answer was made: the model, the counts, and the tokens (or that none was sent)."""
    if answer.mode == "extractive":
        sent = "; nothing was sent"
        if answer.error:  # the LLM was asked, and may have read the quotes, before it failed
            quotes = counted(answer.sent, "quote")
            sent = f"; the question and {quotes} went to {answer.model} at {answer.endpoint}, which gave no answer"
            sent += f" ({answer.tokens.line()} before it failed)" if answer.tokens.requests else ""
        themed = sum(len(claim.quotes) for claim in answer.claims)
        shown = f"{themed} of {answer.candidates}" if answer.claims else f"none of {answer.candidates}"
        shown += " answering quotes shown"
        return f"extractive answer: {shown} (heard search --all lists every one){sent}"
    counts = f"{answer.candidates} answering quotes found, {answer.sent} sent, {answer.used} judged answering"
    counts += f", {len(answer.cited())} cited"
    cost = "a cached answer: no tokens" if answer.cached else answer.tokens.line()
    redacted = f"; {counted(answer.redacted, 'name')}, e-mail address(es) or phone number(s) redacted"
    redacted = redacted if answer.redacted else ""
    return f"{answer.model} at {answer.endpoint}: {counts}; {cost}{redacted}"


def text(answer: Answer) -> str:
    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
    lines = [f"“{terminal_text(answer.question)}”", terminal_text(answer.count_line), ""]
    if answer.mode == "llm":
        numbers = numbering(answer)
        for claim in answer.claims:
            marks = "".join(f"[{numbers[h.quote_id]}]" for h in claim.quotes)
            lines += textwrap.wrap(f"{terminal_text(claim.sentence)} {marks}", width) or [""]
        lines += [f"({answer.dropped_line()})"] if answer.dropped else []
        lines.append("")
        for hit in answer.cited():
            lines += _quote_lines(f"[{numbers[hit.quote_id]}] ", hit, width)
    else:
        for number, claim in enumerate(answer.claims, 1):
            lines.append(f"{number}. {terminal_text(claim.sentence)}")
            for hit in claim.quotes:
                lines += _quote_lines("   ", hit, width)
    lines += ["", *textwrap.wrap(terminal_text(answer.note), width)] if answer.note else []
    lines += ["", *textwrap.wrap(terminal_text(provenance(answer)), width)]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def _quote_lines(lead: str, hit: Hit, width: int) -> list[str]:
    indent = " " * len(lead)
    quote = textwrap.wrap(f"“{terminal_text(hit.text)}”", width, initial_indent=lead, subsequent_indent=indent)
    where = f"— {who(hit)}, {hit.title} at {format_timestamp(hit.start)} · {hit.quote_id}"
    return [*quote, *textwrap.wrap(terminal_text(where), width, initial_indent=indent, subsequent_indent=indent)]


def markdown(answer: Answer, links: dict[str, str] | None = None) -> str:
    """For a document or a chat message; a quote's time links to the page that plays it when known."""
    lines = [f"## {markdown_text(answer.question)}", "", f"*{markdown_text(answer.count_line)}*", ""]
    numbers = numbering(answer)
    for number, claim in enumerate(answer.claims, 1):
        if answer.mode == "llm":
            marks = "".join(f"[{numbers[h.quote_id]}]" for h in claim.quotes)
            lines.append(f"{markdown_text(claim.sentence)} {marks}")
        else:
            lines += [f"{number}. **{markdown_text(claim.sentence)}**", ""]
            lines += [_quote_markdown("   - ", h, links) for h in claim.quotes]
        lines.append("")
    if answer.mode == "llm":
        lines += [f"*{markdown_text(answer.dropped_line())}*", ""] if answer.dropped else []
        lines += [_quote_markdown(f"{numbers[h.quote_id]}. ", h, links) for h in answer.cited()] + [""]
    lines += [f"*{markdown_text(answer.note)}*", ""] if answer.note else []
    lines.append(f"*{markdown_text(provenance(answer))}*")
    return "\n".join(lines)


def _quote_markdown(lead: str, hit: Hit, links: dict[str, str] | None) -> str:
    stamp = format_timestamp(hit.start)
    url = (links or {}).get(hit.quote_id)
    when = f"[{stamp}]({url})" if url else stamp
    return (
        f"{lead}> {markdown_text(hit.text)}  \n   — {markdown_text(who(hit))}, *{markdown_text(hit.title)}* at {when} "
        f"{code_span(hit.quote_id)}"
    )
