"""The answer heard gives without an LLM, from what it has: the count line of every passage that
answers, the themes of those passages, and under each theme its two most representative customer
quotes. Every sentence is a count heard made, never one written by a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.answering.answers import Answer, Claim
from pipeline.finding.hits import Answers, Hit
from pipeline.finding.options import ThemesRequest
from pipeline.messages import counted

if TYPE_CHECKING:
    from pipeline.answering.options import AskRequest
    from pipeline.finding.searcher import Searcher
    from pipeline.finding.themes import Theme

QUOTES_PER_THEME = 2
Choose = Callable[[list[Hit]], list[Hit]]
NOTHING = "No quote in the index answers this question; try other words, or fewer filters"


def extractive_answer(
    searcher: Searcher, request: AskRequest, found: Answers, *, note: str | None = None, choose: Choose | None = None
) -> Answer:
    """The themes of the passages in `found` (every_answer's), each with its most representative quotes
    (`choose` picks a theme's quotes otherwise: scripts/eval_ask.py compares rules)."""
    answer = Answer(request.question, "extractive", count_line=found.count_line(), candidates=len(found.hits), note=note)
    if not found.hits:
        answer.note = NOTHING
        return answer
    themes = searcher.themes(ThemesRequest(query=request.question, filters=request.filters))
    answer.claims = [theme_claim(theme, found.searched, choose or representative) for theme in themes]
    if not answer.claims:  # too few passages to group: the best of them, as one claim
        answer.claims = [Claim(found.count_line(), found.hits[:QUOTES_PER_THEME])]
    answer.used = sum(len(claim.quotes) for claim in answer.claims)
    return answer


def theme_claim(theme: Theme, searched: int, choose: Choose) -> Claim:
    """'renewal, per seat, budget: 5 of 34 recordings, 3 companies, 7 quotes' and its first quotes."""
    companies = f", {theme.companies} compan{'ies' if theme.companies != 1 else 'y'}" if theme.companies else ""
    quotes = len(theme.quotes)
    recordings = f"{theme.recordings} of {counted(searched, 'recording')}"
    line = f"{theme.label}: {recordings}{companies}, {counted(quotes, 'quote')}"
    return Claim(line, choose(theme.quotes), label=theme.label)


def representative(quotes: list[Hit], count: int = QUOTES_PER_THEME) -> list[Hit]:
    """A theme's `count` most representative quotes: closest to its centre (themes order them so)."""
    return quotes[:count]
