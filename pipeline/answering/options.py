"""The options of `heard ask`, the page's Ask box and POST /api/ask, declared once
(pipeline/options.py generates each surface's from these); the filters are search's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.finding.options import FILTERS, filters_from
from pipeline.options import Option

QUESTION = Option(
    "question",
    'The question, in your own words: "why do small teams churn?"',
    param="q",
    argument=True,
    required=True,
    missing='ask a question, e.g. "why do small teams churn?"',
    max_length=1000,
)
EXTRACTIVE = Option(
    "extractive",
    "Answer from the index alone even when an LLM is configured: the themes of the quotes that answer, "
    "with their most representative quotes; nothing is sent.",
    kind="flag",
)
ASK = (QUESTION, EXTRACTIVE, *FILTERS)

# `heard search --all --judge`: the LLM's yes/no step of `heard ask`, on search's --all.
JUDGE = Option(
    "judge",
    "With --all: ask the configured LLM (llm.base_url) which of the quotes answer, and list only those.",
    kind="flag",
    web=False,
)


@dataclass
class AskRequest:
    question: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    extractive: bool = False


def ask_request(values: dict[str, Any]) -> AskRequest:
    """The request of parsed ASK values (pipeline.options.parse_all)."""
    return AskRequest(
        question=values.get("question") or "", filters=filters_from(values), extractive=bool(values.get("extractive"))
    )


def check_judge(judge: bool, every: bool) -> None:
    if judge and not every:
        raise UsageError("judge: keeps the quotes of --all that answer; add --all")
