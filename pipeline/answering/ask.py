"""`heard ask`: the candidates, then the LLM's checked answer, or the extractive one.

The index is touched through `index` (a context that yields the Searcher): the command line holds
one for the command, the web server takes its lock only around index work, never while a request
to the LLM is out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from pipeline.answering import cache
from pipeline.answering.answers import Answer, Claim
from pipeline.answering.chat import ChatClient, Usage
from pipeline.answering.endpoint import CONFIGURE, Deadline, Endpoint, LlmError, announcement
from pipeline.answering.extractive import extractive_answer
from pipeline.answering.judge import Announce, judge_batch
from pipeline.answering.options import AskRequest
from pipeline.answering.prompts import Numbered, answer_messages, batches
from pipeline.answering.redaction import Redactor
from pipeline.answering.replies import Checked, Dropped, MalformedReply, Sentence, checked_answer
from pipeline.config import Settings
from pipeline.finding.hits import Answers

if TYPE_CHECKING:
    from pipeline.finding.searcher import Searcher

Index = Callable[[], AbstractContextManager["Searcher"]]
NONE_ANSWER = "The model found no quote that answers the question among the {sent} it was sent"
NO_SENTENCE = "The model wrote no sentence that its quotes support"


def ask(index: Index, settings: Settings, request: AskRequest, *, announce: Announce | None = None) -> Answer:
    """The answer to `request`: the LLM's, checked, when one is configured (and not --extractive),
    else the extractive one. When the LLM fails the extractive answer comes back with `error` set."""
    endpoint = None if request.extractive else Endpoint.configured(settings.llm)  # a config error before any work
    with index() as searcher:
        found = searcher.every_answer(request.question, filters=request.filters)
    if endpoint is None or not found.hits:
        with index() as searcher:
            return extractive_answer(
                searcher, request, found, note=CONFIGURE if endpoint is None and not request.extractive else None
            )
    answerer = LlmAnswerer(settings, endpoint, request, found)
    try:
        return answerer.answer(announce)
    except LlmError as exc:
        with index() as searcher:
            fallback = extractive_answer(searcher, request, found)
        fallback.error, fallback.tokens = str(exc), answerer.client.usage
        fallback.model, fallback.endpoint, fallback.sent = endpoint.model, endpoint.shown, len(answerer.sent)
        return fallback


def ask_once(settings: Settings, request: AskRequest, *, announce: Announce | None = None) -> Answer:
    """One question over the index `settings` name (the command line's)."""
    from pipeline.finding.searcher import Searcher

    with Searcher(settings) as searcher:

        @contextlib.contextmanager
        def held() -> Iterator[Searcher]:
            yield searcher

        return ask(held, settings, request, announce=announce)


class LlmAnswerer:
    """One question to the configured LLM: the quotes that fit, the judge, the answer, the checks."""

    def __init__(self, settings: Settings, endpoint: Endpoint, request: AskRequest, found: Answers):
        from pipeline.answering.people import known_names

        self.settings, self.endpoint, self.request, self.found = settings, endpoint, request, found
        self.redactor = Redactor.configured(settings.llm, known_names(settings, found.hits))
        fitting = batches(request.question, found.hits, self.redactor, max_context_tokens=settings.llm.max_context_tokens)
        self.sent: list[Numbered] = fitting[0] if fitting else []
        self.client = ChatClient(endpoint, Deadline(endpoint.timeout))

    def answer(self, announce: Announce | None) -> Answer:
        answer = Answer(
            self.request.question,
            "llm",
            count_line=self.found.count_line(),
            candidates=len(self.found.hits),
            sent=len(self.sent),
            model=self.endpoint.model,
            endpoint=self.endpoint.shown,
        )
        name = self._cache_key()
        kept = cache.read(self.settings, name)
        if kept is not None and _restore(answer, kept, self.sent):
            return answer
        line = announcement(self.endpoint, len(self.sent))
        if line and announce:
            announce(line)
        used, checked = self._consult()
        answer.tokens, answer.used, answer.redacted = self.client.usage, len(used), self.redactor.replaced
        sentences = [Sentence(self.redactor.restore(s.text), s.numbers) for s in checked.sentences]
        dropped = [Dropped(self.redactor.restore(d.text), d.reason) for d in checked.dropped]
        cache.write(self.settings, name, _stored(sentences, dropped, len(used), answer))
        _fill(answer, sentences, dropped, self.sent)
        if not used:
            answer.note = NONE_ANSWER.format(sent=len(self.sent))
        return answer

    def _consult(self) -> tuple[list[Numbered], Checked]:
        """The quotes the model judged answering, and its answer over them, checked."""
        question = self.request.question
        used = judge_batch(self.client, question, self.sent, self.redactor)
        if not used:
            return used, Checked()
        reply = self.client.complete(answer_messages(question, used, self.redactor))
        try:
            return used, checked_answer(reply, {quote.number for quote in used})
        except MalformedReply as exc:
            raise self.endpoint.error(f"answered malformed JSON ({exc})") from exc

    def _cache_key(self) -> str:
        where = self.request.filters.where()
        lines = [quote.line for quote in self.sent]
        return cache.key(
            "ask",
            question=self.request.question,
            where=where,
            lines=lines,
            model=self.endpoint.model,
            endpoint=self.endpoint.base_url,
        )


def _fill(answer: Answer, sentences: list[Sentence], dropped: list[Dropped], sent: list[Numbered]) -> None:
    by_number = {quote.number: quote.hit for quote in sent}
    answer.claims = [Claim(s.text, [by_number[n] for n in s.numbers if n in by_number]) for s in sentences]
    answer.dropped = dropped
    if answer.used and not answer.claims:
        answer.note = NO_SENTENCE


def _stored(sentences: list[Sentence], dropped: list[Dropped], used: int, answer: Answer) -> dict[str, object]:
    return {
        "sentences": [{"text": s.text, "numbers": s.numbers} for s in sentences],
        "dropped": [d.to_dict() for d in dropped],
        "used": used,
        "redacted": answer.redacted,
        "tokens": answer.tokens.to_dict(),
    }


def _restore(answer: Answer, kept: dict[str, Any], sent: list[Numbered]) -> bool:
    """`answer` filled from a cached one; False when the entry is not one heard wrote."""
    try:
        sentences = [Sentence(str(s["text"]), [int(n) for n in s["numbers"]]) for s in kept["sentences"]]
        dropped = [Dropped(str(d["sentence"]), str(d["reason"])) for d in kept["dropped"]]
        answer.used, answer.redacted = int(kept["used"]), int(kept["redacted"])
    except (KeyError, TypeError, ValueError):
        return False
    answer.cached, answer.tokens = True, Usage()
    _fill(answer, sentences, dropped, sent)
    if not answer.used:
        answer.note = NONE_ANSWER.format(sent=len(sent))
    return True
