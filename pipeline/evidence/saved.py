"""A saved quote as it is shown: its words as saved, and the recording as it is now.

When the transcript still says the same words there, the speaker's name, the title and the metadata
are today's (a speaker renamed since is shown by the new name). When the recording was transcribed
again and says something else there, or is gone from heard, the quote keeps the words, speaker and
title it was saved with, and says so."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.evidence.spans import Recordings, cut
from pipeline.finding.hits import Hit, QuoteSpan
from pipeline.transcripts import format_timestamp

CURRENT = "current"  # the transcript still says these words here
CHANGED = "changed"  # transcribed again since: other words (or speakers) here now
DELETED = "deleted"  # the recording's transcript is gone from the data dir
STATUS_TEXT = {
    CURRENT: "",
    CHANGED: "the recording was transcribed again since this quote was saved; these are its words as saved",
    DELETED: "the recording is no longer in heard (its transcript was deleted); these are its words as saved",
}


@dataclass
class SavedQuote:
    collection: str
    quote_id: str
    recording_id: str
    start: float
    end: float
    text: str  # as saved
    speaker: str | None  # the name hits show now (as saved when the transcript changed or is gone)
    speaker_label: str | None  # the transcript's own label (S2)
    role: str | None
    title: str
    recording: str  # the recording's file
    metadata: dict[str, Any] = field(default_factory=dict)  # company, date, show, tags... as hits carry them
    note: str = ""
    tags: list[str] = field(default_factory=list)
    saved_at: str = ""
    status: str = CURRENT
    words: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start)

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found.pop("words")
        return {**found, "timestamp": self.timestamp, "status_text": self.status_text}

    def as_hit(self) -> Hit:
        """The quote as search returns one (score 0, no chunk): for the page's cards and writers."""
        return Hit(
            text=self.text,
            recording=self.recording,
            recording_id=self.recording_id,
            title=self.title,
            start=self.start,
            end=self.end,
            speaker=self.speaker,
            score=0.0,
            chunk_id="",
            role=self.role,
            metadata=self.metadata,
        )


def shown(row: sqlite3.Row, collection: str, recordings: Recordings) -> SavedQuote:
    """The saved row as it is shown now (see the module's docstring)."""
    saved = SavedQuote(
        collection=collection,
        quote_id=row["quote_id"],
        recording_id=row["recording_id"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
        speaker=row["speaker"],
        speaker_label=row["speaker_label"],
        role=row["role"],
        title=row["title"],
        recording=row["source"],
        metadata=json.loads(row["metadata"]),
        note=row["note"],
        tags=json.loads(row["tags"]),
        saved_at=row["saved_at"],
        words=[(w[0], w[1], w[2]) for w in json.loads(row["words"])],
    )
    transcript = recordings.transcript(saved.recording_id)
    if transcript is None:
        saved.status = DELETED
        return saved
    saved.recording = transcript.source
    saved.title = recordings.title(transcript)
    saved.metadata = recordings.fields(transcript, saved.start)
    now = cut(transcript, QuoteSpan(saved.recording_id, saved.start, saved.end))
    if now is None or now.text != saved.text or now.speaker_label != saved.speaker_label:
        saved.status = CHANGED
        return saved
    person = recordings.people(transcript).get(saved.speaker_label or "")
    if person is not None:
        saved.speaker, saved.role = person.name, person.role
    return saved
