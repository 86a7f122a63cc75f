"""VoiceBook: the one handle on the identities book that ingest, reindex, `heard speakers` and the web
page use. Each method is one rule, written in the module named beside it."""

from __future__ import annotations

from pathlib import Path

from pipeline.indexing.identities import decisions, indexed, lookups, observe
from pipeline.indexing.identities.database import VoiceDatabase, voices_path
from pipeline.indexing.identities.listing import VoiceListing, listing
from pipeline.indexing.identities.model import Identity, Voice
from pipeline.transcripts import Transcript


class VoiceBook:
    def __init__(self, path: Path):
        self.path = path
        self._book = VoiceDatabase(path)

    @classmethod
    def open_existing(cls, data_dir: Path) -> VoiceBook | None:
        """The data dir's book, or None when nothing was ever recorded (read-only callers)."""
        path = voices_path(data_dir)
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        self._book.close()

    # what transcripts say (observe.py)

    def observe(self, transcript: Transcript, *, stamp: str = "") -> bool:
        return observe.observe(self._book, transcript, stamp=stamp)

    def refresh(self, transcripts_dir: Path, live: set[str] | None) -> None:
        observe.refresh(self._book, transcripts_dir, live)

    def recluster(self) -> None:
        observe.recluster(self._book)

    # a user's decisions (decisions.py)

    def name(self, voice: str, name: str | None, *, role: str | None = None) -> None:
        decisions.name(self._book, voice, name, role=role)

    def merge(self, keep: str, other: str) -> None:
        decisions.merge(self._book, keep, other)

    def split(self, voice: str, recording_id: str, label: str | None = None) -> str:
        return decisions.split(self._book, voice, recording_id, label)

    def remember(self) -> decisions.Remembered:
        return decisions.remember(self._book)

    def undo(self, before: decisions.Remembered) -> None:
        decisions.undo(self._book, before)

    # reading (lookups.py, listing.py)

    def voices(self) -> list[Voice]:
        return lookups.voices(self._book)

    def voice(self, voice: str) -> Voice:
        return lookups.voice(self._book, voice)

    def listing(self, voice: Voice) -> VoiceListing:
        return listing(voice, lookups.titles(self._book))

    def titles(self) -> dict[str, tuple[str, str]]:
        return lookups.titles(self._book)

    def speakers_of(self, recording_id: str) -> dict[str, Voice]:
        return lookups.speakers_of(self._book, recording_id)

    def voice_of(self, recording_id: str, label: str) -> Voice:
        return lookups.voice_of(self._book, recording_id, label)

    def identities(self, recording_id: str | None) -> dict[str, Identity]:
        return lookups.identities(self._book, recording_id)

    def resolve_speaker(self, where: str) -> tuple[str, str | None]:
        return lookups.resolve_speaker(self._book, where)

    # what the index carries (indexed.py)

    def stale(self, recording_id: str | None) -> bool:
        return indexed.stale(self._book, recording_id)

    def mark_indexed(self, recording_id: str, identities: dict[str, Identity]) -> None:
        indexed.mark_indexed(self._book, recording_id, identities)

    def stale_recordings(self) -> set[str]:
        return indexed.stale_recordings(self._book)
