"""A voice as `heard speakers` and the web page list it: where it speaks, longest speech first, with
the recordings' titles (their metadata's, else their transcripts')."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import HeardError
from pipeline.indexing.identities.model import Voice
from pipeline.sources.metadata import MetadataReader

EXAMPLES = 3  # recordings shown per voice: their metadata is read for a title


@dataclass
class Heard:
    """One recording a voice speaks in, as listings show it."""

    recording_id: str
    label: str
    seconds: float
    title: str
    source: str


@dataclass
class VoiceListing:
    id: str
    name: str | None
    role: str | None
    recordings: int
    seconds: float
    heard: list[Heard]  # every recording, longest speech first

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "recordings": self.recordings,
            "minutes": round(self.seconds / 60, 2),
            "heard": [h.__dict__ for h in self.heard],
        }


def listing(voice: Voice, titles: dict[str, tuple[str, str]]) -> VoiceListing:
    """`voice` with where it speaks; `titles`: recording id -> (title, source), as the book has them."""
    reader = MetadataReader()
    heard: list[Heard] = []
    for recording_id, label, seconds in sorted(voice.speakers, key=lambda s: -s[2]):
        title, source = titles.get(recording_id, ("", ""))
        if len(heard) < EXAMPLES:
            try:
                title = reader.for_recording(Path(source)).get("title") or title
            except HeardError:
                pass  # broken metadata is reported by ingest; the transcript's title will do
        heard.append(Heard(recording_id, label, round(seconds, 1), title, source))
    return VoiceListing(voice.id, voice.name, voice.role, len(voice.recordings), voice.seconds, heard)
