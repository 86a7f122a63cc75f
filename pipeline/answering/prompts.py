"""What heard sends: the question and the candidate quotes, numbered, each with who said it (speaker,
role, company, date), redacted; as many as fit the model's context (llm.max_context_tokens), best
first. Two requests, each asking for JSON: which quotes answer (the judge), then a short answer
whose every sentence cites quote numbers."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.answering.chat import estimate_tokens_of
from pipeline.answering.redaction import Redactor
from pipeline.finding.hits import Hit

VERSION = 1  # bump when what is sent changes meaning: cached answers made with the old prompts are not reused

SYSTEM = (
    "You answer questions about what customers said in recorded interviews. Use only the numbered quotes "
    "you are given, never knowledge of your own. Reply with one JSON object and nothing else."
)
JUDGE = (
    "Which of these quotes answer the question? A quote answers when what the speaker says is part of the "
    "answer, not when it only mentions the same subject. "
    'Reply with JSON only: {"answering": [the numbers of the quotes that answer]}, e.g. {"answering": [2, 5]}; '
    '{"answering": []} when none does.'
)
ANSWER = (
    "Answer the question in at most {sentences} short sentences, saying only what these quotes say. Every "
    "sentence must cite the numbers of the quotes that support it. "
    'Reply with JSON only: {{"sentences": [{{"text": "one sentence", "quotes": [1, 4]}}]}}; '
    '{{"sentences": []}} when the quotes do not answer the question.'
)
SENTENCES = 4


@dataclass(frozen=True)
class Numbered:
    """A candidate quote as it was sent: its number and its line (redacted)."""

    number: int
    hit: Hit
    line: str


def quote_line(number: int, hit: Hit, redactor: Redactor) -> str:
    """'[3] Dana (customer), Acme Logistics, 2026-03-14: "the quote"'."""
    meta = hit.metadata or {}
    who = hit.speaker or "unknown speaker"
    parts = [f"{who} ({hit.role})" if hit.role else who]
    parts += [str(meta[key]) for key in ("company", "date") if meta.get(key)]
    text = " ".join(hit.text.split())
    return redactor.redact(f'[{number}] {", ".join(parts)}: "{text}"')


def batches(question: str, hits: list[Hit], redactor: Redactor, *, max_context_tokens: int) -> list[list[Numbered]]:
    """`hits` numbered from 1 in their order and cut into batches that each fit the context with the
    judge's instructions and room for its reply; the first batch is what one request takes."""
    room = max_context_tokens - _reply_room(max_context_tokens) - estimate_tokens_of(len(SYSTEM + JUDGE + question) + 40)
    found: list[list[Numbered]] = [[]]
    used = 0
    for number, hit in enumerate(hits, 1):
        line = quote_line(number, hit, redactor)
        cost = estimate_tokens_of(len(line) + 1)
        if found[-1] and used + cost > room:
            found.append([])
            used = 0
        found[-1].append(Numbered(number, hit, line))
        used += cost
    return [batch for batch in found if batch]


def _reply_room(max_context_tokens: int) -> int:
    """Tokens kept free for the model's reply: a list of numbers, or a few sentences."""
    return max(512, max_context_tokens // 8)


def judge_messages(question: str, quotes: list[Numbered], redactor: Redactor) -> list[dict[str, str]]:
    return _messages(question, quotes, redactor, JUDGE)


def answer_messages(question: str, quotes: list[Numbered], redactor: Redactor) -> list[dict[str, str]]:
    return _messages(question, quotes, redactor, ANSWER.format(sentences=SENTENCES))


def _messages(question: str, quotes: list[Numbered], redactor: Redactor, instructions: str) -> list[dict[str, str]]:
    listed = "\n".join(quote.line for quote in quotes)
    asked = redactor.redact(" ".join(question.split()))
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Question: {asked}\n\nQuotes:\n{listed}\n\n{instructions}"},
    ]
