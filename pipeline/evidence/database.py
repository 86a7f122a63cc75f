"""The collections file: `<data dir>/collections.sqlite3`, its tables, and its faults as one line.

- collections: a name as given and its case-folded key (one collection per key);
- saved: each saved quote, by the span it covers (recording id, start, end: its quote id), with what
  the transcript said there when it was saved (text, word times, the speaker's label, name and
  role, the recording's title, file and metadata, and a fingerprint of the transcript), and the
  note and tags a person gave it. No chunk id: a quote outlives reindexing, re-chunking and a new
  embedding model, and keeps its words when its recording is deleted or transcribed again.

Opened as the catalog and the voices file are (pipeline/databases.py: WAL, a 30 s wait for a
writer); every change is one BEGIN IMMEDIATE ... COMMIT, so a kill leaves it before or after.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.databases import database_error, open_database
from pipeline.errors import HeardError

COLLECTIONS_NAME = "collections.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS saved (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL,
    quote_id TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    text TEXT NOT NULL,
    words TEXT NOT NULL,
    speaker_label TEXT,
    speaker TEXT,
    role TEXT,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL,
    transcript_key TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    saved_at TEXT NOT NULL,
    UNIQUE (collection_id, quote_id)
);
CREATE INDEX IF NOT EXISTS saved_by_quote ON saved (quote_id);
"""


def collections_path(data_dir: Path) -> Path:
    return data_dir / COLLECTIONS_NAME


def fault(path: Path, exc: sqlite3.DatabaseError) -> HeardError:
    return database_error(
        path,
        exc,
        "collections file",
        "restore it from a backup, or move it away to start again with no collections",
    )


class CollectionsDatabase:
    """The open file: its connection and all-or-nothing transactions."""

    def __init__(self, path: Path, *, create: bool = True):
        self.path = path
        try:
            if not create and not path.is_file():
                self.db = sqlite3.connect(":memory:")  # nothing saved yet: read an empty schema
                self.db.executescript(_SCHEMA)
            else:
                self.db = open_database(path, _SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise fault(path, exc) from exc
        self.db.row_factory = sqlite3.Row

    @classmethod
    def of(cls, data_dir: Path, *, create: bool = True) -> CollectionsDatabase:
        """The data dir's file; with create=False a missing file reads as empty and is not made."""
        return cls(collections_path(data_dir), create=create)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CollectionsDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing change; a fault of the file becomes one line naming it."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise fault(self.path, exc) from exc
        try:
            yield self.db
        except BaseException as exc:
            self.db.rollback()
            if isinstance(exc, sqlite3.DatabaseError):
                raise fault(self.path, exc) from exc
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.db.rollback()
            raise fault(self.path, exc) from exc

    def query(self, sql: str, args: Iterable[object] = ()) -> list[sqlite3.Row]:
        try:
            return self.db.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise fault(self.path, exc) from exc
