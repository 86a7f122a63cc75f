"""What search returns: a Hit is a quote with who said it, where and when; RecordingHits groups them."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.errors import UsageError


@dataclass
class Hit:
    text: str  # the quote: the sentences that answer, not the whole chunk
    recording: str  # path of the source file
    recording_id: str
    title: str
    start: float  # of the quote's first word
    end: float  # of the quote's last word
    speaker: str | None
    score: float
    chunk_id: str
    role: str | None = None
    # The recording's metadata: company, segment, kind, date, tags.
    metadata: dict[str, Any] = field(default_factory=dict)
    context_before: str = ""  # the sentence(s) just before the quote, whoever said them
    context_after: str = ""
    # The recording's content id and the quote's span: the same quote keeps it across reindex,
    # re-chunking and a new embedding model (heard clip/save take it). Set from the fields above.
    quote_id: str = ""
    # Whisper's English translation of the quote's audio, when asked (--translate) and the quote is
    # in another language (finding/translation.py).
    translation: str | None = None

    def __post_init__(self) -> None:
        self.quote_id = make_quote_id(self.recording_id, self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """Its fields; `translation` only when there is one."""
        found = asdict(self)
        if found["translation"] is None:
            del found["translation"]
        return found

    def set_span(self, text: str, start: float, end: float) -> None:
        """The quote's words and times (its id follows them)."""
        self.text, self.start, self.end = text, start, end
        self.quote_id = make_quote_id(self.recording_id, start, end)


_QUOTE_ID = re.compile(r"^(?P<recording>[0-9a-f]{8,64})-(?P<start>\d{1,9})-(?P<end>\d{1,9})$")


def make_quote_id(recording_id: str, start: float, end: float) -> str:
    """'3f9a1c2b4d5e6f70-812-1420': the recording's id, then the quote's start and end in centiseconds."""
    return f"{recording_id}-{round(start * 100)}-{round(end * 100)}"


@dataclass(frozen=True)
class QuoteSpan:
    recording_id: str
    start: float
    end: float


def parse_quote_id(text: str) -> QuoteSpan:
    """The recording and span a quote id names; a UsageError for anything else."""
    found = _QUOTE_ID.match(text.strip())
    if not found or int(found["end"]) < int(found["start"]):
        raise UsageError(
            f"{text!r} is not a quote id; copy one from a search (quote_id in --format json, the last line of each quote)"
        )
    return QuoteSpan(found["recording"], int(found["start"]) / 100, int(found["end"]) / 100)


@dataclass
class RecordingHits:
    """The hits of one recording, for --group."""

    recording: str
    recording_id: str
    title: str
    hits: list[Hit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "recording": self.recording,
            "recording_id": self.recording_id,
            "title": self.title,
            "hits": [h.to_dict() for h in self.hits],
        }


def group_by_recording(hits: list[Hit]) -> list[RecordingHits]:
    """Hits grouped per recording; groups in the order of their best hit, hits in rank order."""
    groups: dict[str, RecordingHits] = {}
    for hit in hits:
        group = groups.setdefault(hit.recording_id, RecordingHits(hit.recording, hit.recording_id, hit.title, []))
        group.hits.append(hit)
    return list(groups.values())


@dataclass
class Answers:
    """Every passage that answers a question (search_all), and how many recordings were searched."""

    subject: str  # what the question is about ("pricing" for "what do customers say about pricing")
    hits: list[Hit]
    searched: int  # recordings that passed the filters

    @property
    def recordings(self) -> int:
        return len({h.recording_id for h in self.hits})

    def count_line(self) -> str:
        """'pricing: 7 of 20 recordings, 9 quotes'."""
        quotes = f"{len(self.hits)} quote{'s' if len(self.hits) != 1 else ''}"
        return f"{self.subject}: {self.recordings} of {self.searched} recording{'s' if self.searched != 1 else ''}, {quotes}"
