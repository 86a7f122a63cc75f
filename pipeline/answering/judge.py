"""The yes/no step: which candidate quotes answer the question, by the configured LLM. `heard ask`
asks it of the quotes that fit one request; `heard search --all --judge` of every --all quote, in
as many requests as their number needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.answering import cache
from pipeline.answering.chat import ChatClient, Usage
from pipeline.answering.endpoint import HOW_TO, Deadline, Endpoint, LlmError, announcement
from pipeline.answering.prompts import Numbered, batches, judge_messages
from pipeline.answering.redaction import Redactor
from pipeline.answering.replies import MalformedReply, judged
from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.finding.hits import Hit

Announce = Callable[[str], None]


def judge_batch(client: ChatClient, question: str, quotes: list[Numbered], redactor: Redactor) -> list[Numbered]:
    """The quotes of one request that the model says answer, in their order."""
    reply = client.complete(judge_messages(question, quotes, redactor))
    try:
        numbers = set(judged(reply, {quote.number for quote in quotes}))
    except MalformedReply as exc:
        raise client.endpoint.error(f"answered malformed JSON ({exc})") from exc
    return [quote for quote in quotes if quote.number in numbers]


@dataclass
class Judgement:
    """`heard search --all --judge`: the quotes the model kept, of how many, and what it cost."""

    kept: list[Hit]
    judged: int
    model: str
    usage: Usage = field(default_factory=Usage)
    cached: bool = False
    error: str | None = None  # the LLM failed: `kept` is then every quote, unjudged

    def line(self) -> str:
        if self.error:
            return f"not judged ({self.error}); every quote of --all is listed"
        cost = "a cached judgement, no tokens" if self.cached else self.usage.line()
        return f"{self.model} judged {len(self.kept)} of {self.judged} quotes answering; {cost}"


def judge_all(
    settings: Settings,
    question: str,
    hits: list[Hit],
    *,
    filters: SearchFilters | None = None,
    announce: Announce | None = None,
) -> Judgement:
    """Every hit of `search --all` judged by the configured LLM; on failure every hit, unjudged, with
    the error (UsageError when no LLM is configured)."""
    from pipeline.answering.people import known_names

    endpoint = Endpoint.configured(settings.llm)
    if endpoint is None:
        raise UsageError(f"judge: needs an LLM; {HOW_TO}")
    redactor = Redactor.configured(settings.llm, known_names(settings, hits))
    groups = batches(question, hits, redactor, max_context_tokens=settings.llm.max_context_tokens)
    lines = [quote.line for group in groups for quote in group]
    where = filters.where() if filters else None
    name = cache.key("judge", question=question, where=where, lines=lines, model=endpoint.model, endpoint=endpoint.base_url)
    kept = cache.read(settings, name)
    if kept is not None and isinstance(kept.get("kept"), list):
        numbers = set(kept["kept"])
        return Judgement([h for n, h in enumerate(hits, 1) if n in numbers], len(hits), endpoint.model, cached=True)
    line = announcement(endpoint, len(hits))
    if line and announce:
        announce(line)
    client = ChatClient(endpoint, Deadline(endpoint.timeout))
    try:
        found = [quote for group in groups for quote in judge_batch(client, question, group, redactor)]
    except LlmError as exc:
        return Judgement(hits, len(hits), endpoint.model, client.usage, error=str(exc))
    cache.write(settings, name, {"kept": [quote.number for quote in found], "tokens": client.usage.to_dict()})
    return Judgement([quote.hit for quote in found], len(hits), endpoint.model, client.usage)
