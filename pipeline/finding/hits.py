"""What search returns: a Hit is a quote with who said it, where and when; RecordingHits groups them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
