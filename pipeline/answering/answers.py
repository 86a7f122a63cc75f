"""What `heard ask` returns: an answer as claims (a sentence and the quotes under it), how it was
made, and what it cost. The same object prints on the terminal, goes out as JSON, and fills the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.answering.chat import Usage
from pipeline.answering.replies import Dropped
from pipeline.finding.hits import Hit
from pipeline.messages import counted

Mode = Literal["llm", "extractive"]
HitJson = Callable[[Hit], dict[str, Any]]


@dataclass
class Claim:
    """One sentence of the answer and the quotes that support it. In an extractive answer the
    sentence is a theme's count line ("renewal, per seat: 5 of 34 recordings, 7 quotes"), never
    written by a model."""

    sentence: str
    quotes: list[Hit]
    label: str = ""  # an extractive theme's label


@dataclass
class Answer:
    question: str
    mode: Mode
    claims: list[Claim] = field(default_factory=list)
    count_line: str = ""  # every passage that answers: "pricing: 7 of 20 recordings, 9 quotes"
    candidates: int = 0  # passages that answer (search --all)
    sent: int = 0  # of them, sent to the model (as many as fit its context)
    used: int = 0  # of those, judged answering and sent for the answer
    dropped: list[Dropped] = field(default_factory=list)
    model: str | None = None
    endpoint: str | None = None
    tokens: Usage = field(default_factory=Usage)
    cached: bool = False
    redacted: int = 0  # names, e-mail addresses and phone numbers replaced before sending
    error: str | None = None  # why the LLM's answer is missing (this is then the extractive one)
    note: str | None = None  # what the reader should know: how to configure an LLM, nothing found

    def cited(self) -> list[Hit]:
        """Every quote the answer cites, once each, in the order it is first cited."""
        found: dict[str, Hit] = {}
        for claim in self.claims:
            for hit in claim.quotes:
                found.setdefault(hit.quote_id, hit)
        return list(found.values())

    def dropped_line(self) -> str | None:
        """'1 sentence dropped: no quote supports it'."""
        if not self.dropped:
            return None
        reasons = "; ".join(dict.fromkeys(d.reason for d in self.dropped))
        count = len(self.dropped)
        return f"{counted(count, 'sentence')} dropped: {reasons}"

    def to_dict(self, hit_json: HitJson = Hit.to_dict) -> dict[str, Any]:
        """The JSON of `heard ask --format json` and POST /api/ask (hits as `hit_json` gives them)."""
        return {
            "mode": self.mode,
            "question": self.question,
            "answer": [
                {"sentence": c.sentence, **({"theme": c.label} if c.label else {}), "quotes": [hit_json(h) for h in c.quotes]}
                for c in self.claims
            ],
            "dropped": len(self.dropped),
            "dropped_sentences": [d.to_dict() for d in self.dropped],
            "count": self.count_line,
            "candidates": self.candidates,
            "sent": self.sent,
            "used": self.used,
            "model": self.model,
            "endpoint": self.endpoint,
            "tokens": self.tokens.to_dict(),
            "cached": self.cached,
            "redacted": self.redacted,
            "error": self.error,
            "note": self.note,
        }
