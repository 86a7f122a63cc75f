"""The identities book on disk: `<data dir>/voices.sqlite3`, its tables, and its faults as one line.

- speakers, seen: each recording's speakers and their voice vectors, copied from the transcripts'
  `diarization.voices` (transcripts/ stays the source of truth), and when each transcript was read;
- voices, pins: names and roles given to voices, and the speakers a user put in a voice by naming,
  merging or splitting it, each with a copy of the speaker's vector, so a decision outlives the
  recording it was made on and every later clustering starts from it;
- members, indexed: derived; every speaker's voice (re-clustered by observe.recluster) and the names
  and roles last written into the index for each recording;
- counters: the last voice number given (voice ids are never reused).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import numpy as np

from pipeline.databases import database_error, open_database
from pipeline.errors import HeardError
from pipeline.indexing.identities.clustering import Vector

VOICES_NAME = "voices.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS speakers (
    recording_id TEXT NOT NULL,
    label TEXT NOT NULL,
    seconds REAL NOT NULL,
    embedding BLOB NOT NULL,
    PRIMARY KEY (recording_id, label)
);
CREATE TABLE IF NOT EXISTS seen (
    recording_id TEXT PRIMARY KEY,
    stamp TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS voices (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    name TEXT,
    role TEXT
);
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    voice_id TEXT NOT NULL,
    recording_id TEXT,
    label TEXT,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS pins_by_speaker ON pins (recording_id, label);
CREATE TABLE IF NOT EXISTS members (
    recording_id TEXT NOT NULL,
    label TEXT NOT NULL,
    voice_id TEXT NOT NULL,
    PRIMARY KEY (recording_id, label)
);
CREATE INDEX IF NOT EXISTS members_by_voice ON members (voice_id);
CREATE TABLE IF NOT EXISTS indexed (
    recording_id TEXT PRIMARY KEY,
    identities TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def voices_path(data_dir: Path) -> Path:
    return data_dir / VOICES_NAME


def to_blob(vector: Iterable[float]) -> bytes:
    return np.asarray(list(vector), dtype=np.float32).tobytes()


def to_vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float32).astype(np.float64)


class VoiceDatabase:
    """The open file: its connection, all-or-nothing transactions, and the voice numbering."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.db = open_database(path, _SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise fault(path, exc) from exc

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> Transaction:
        return Transaction(self.db, self.path)

    def new_voice(self) -> str:
        """A voice id never given before (V1, V2, ...); call it inside a transaction."""
        row = self.db.execute("SELECT value FROM counters WHERE name = 'voice'").fetchone()
        number = (int(row[0]) if row else 0) + 1
        self.db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES ('voice', ?)", (number,))
        voice = f"V{number}"
        self.db.execute("INSERT INTO voices (id, number) VALUES (?, ?)", (voice, number))
        return voice

    def confirmed(self) -> dict[str, Vector]:
        """Voices users decided about -> the mean of the vectors they confirmed."""
        found: dict[str, list[Vector]] = {}
        for voice, blob in self.db.execute("SELECT voice_id, embedding FROM pins"):
            found.setdefault(voice, []).append(to_vector(blob))
        return {voice: np.mean(vectors, axis=0) for voice, vectors in found.items()}


def fault(path: Path, exc: sqlite3.DatabaseError) -> HeardError:
    return database_error(
        path, exc, "voices file", "move it away; `heard speakers` rebuilds it (names, merges and splits are lost)"
    )


class Transaction:
    """All or nothing; a fault of the file becomes one line naming it (a full disk stops the run).
    Nested, only the outermost one commits."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self._path = path
        self._outer = False

    def __enter__(self) -> Transaction:
        self._outer = not self._db.in_transaction
        if self._outer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise fault(self._path, exc) from exc
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        if not self._outer:
            return
        try:
            if kind is None:
                self._db.execute("COMMIT")
                return
            self._db.rollback()
        except sqlite3.DatabaseError as failure:
            raise fault(self._path, failure) from failure
        if isinstance(exc, sqlite3.DatabaseError):
            raise fault(self._path, exc) from exc
