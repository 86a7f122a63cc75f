"""The catalog: what ingest knows about every recording file, in SQLite beside the index.

One row per path: size and mtime (so an unchanged file costs a stat, never a hash), the content
hash and recording id, status, the transcription model and settings, the embedding model and
chunking it was indexed with, chunk count, duration and the last error. Plus one row per run.
Every change is its own transaction, so a kill leaves each row either before or after a step.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from pipeline.databases import database_error, open_database
from pipeline.files import JsonObject

CATALOG_NAME = "catalog.sqlite3"

INDEXED = "indexed"  # its chunks are in the store
PENDING = "pending"  # seen, not (yet) in the store: a run was interrupted, or the index was rebuilt
FAILED = "failed"  # could not be transcribed; last_error says why
MISSING = "missing"  # the file is gone but its chunks were kept (--keep-missing)
STATUSES = (INDEXED, PENDING, FAILED, MISSING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    recording_id TEXT,
    status TEXT NOT NULL,
    transcriber TEXT,
    embedding_model TEXT,
    chunking TEXT,
    chunks INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    companion TEXT
);
CREATE INDEX IF NOT EXISTS recordings_by_id ON recordings (recording_id);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    result TEXT,
    summary TEXT
);
"""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Entry:
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    recording_id: str | None
    status: str
    transcriber: JsonObject | None = None
    embedding_model: str | None = None
    chunking: JsonObject | None = None
    chunks: int = 0
    duration: float = 0.0
    last_error: str | None = None
    failures: int = 0
    updated_at: str = ""
    # Fingerprint of what beside the file shapes its index (metadata, a transcript file): a change
    # re-indexes the recording without transcribing it.
    companion: str | None = None

    def same_file(self, size: int, mtime_ns: int) -> bool:
        return self.size == size and self.mtime_ns == mtime_ns


_COLUMNS = tuple(Entry.__dataclass_fields__)
_JSON_COLUMNS = ("transcriber", "chunking")


class ModelsInUse(TypedDict):
    transcription: list[JsonObject]  # each transcriber's description (hearing.transcribe.describe)
    embedding: list[str]


class RecentFailure(TypedDict):
    path: str
    reason: str | None
    attempts: int
    at: str  # ISO time of the last attempt


class RunRecord(TypedDict):
    """A row of the runs table; `summary` is the run's summary (RunSummary.to_dict) once it ended."""

    id: int
    command: str
    pid: int
    started_at: str
    ended_at: str | None
    result: str | None
    summary: JsonObject | None


def catalog_path(data_dir: Path) -> Path:
    return data_dir / CATALOG_NAME


class Catalog:
    def __init__(self, path: Path):
        self.path = path
        try:
            self._db = open_database(path, _SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(recordings)")}
            if "companion" not in columns:  # catalogs written before metadata existed
                self._db.execute("ALTER TABLE recordings ADD COLUMN companion TEXT")
        except sqlite3.DatabaseError as exc:
            raise _error(path, exc) from exc
        self._db.row_factory = sqlite3.Row

    @classmethod
    def open_existing(cls, data_dir: Path) -> Catalog | None:
        path = catalog_path(data_dir)
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        self._db.close()

    # recordings

    def get(self, path: str) -> Entry | None:
        row = self._query("SELECT * FROM recordings WHERE path = ?", (path,)).fetchone()
        return _entry(row) if row else None

    def all(self) -> dict[str, Entry]:
        return {row["path"]: _entry(row) for row in self._query("SELECT * FROM recordings")}

    def with_recording_id(self, recording_id: str) -> list[Entry]:
        rows = self._query("SELECT * FROM recordings WHERE recording_id = ?", (recording_id,))
        return [_entry(row) for row in rows]

    def put(self, entry: Entry) -> None:
        entry.updated_at = now()
        values = [
            json.dumps(getattr(entry, c), sort_keys=True)
            if c in _JSON_COLUMNS and getattr(entry, c) is not None
            else getattr(entry, c)
            for c in _COLUMNS
        ]
        self._execute(
            f"INSERT OR REPLACE INTO recordings ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            values,
        )

    def delete(self, path: str) -> None:
        self._execute("DELETE FROM recordings WHERE path = ?", (path,))

    def mark_all_pending(self) -> None:
        """After the index was lost or rebuilt empty: every indexed recording must be written again."""
        self._execute("UPDATE recordings SET status = ? WHERE status = ?", (PENDING, INDEXED))

    def live_recording_ids(self) -> set[str]:
        """Recordings whose chunks belong in the index. A failed row may name content that was
        indexed from its path before the file broke: those chunks are kept too."""
        rows = self._query("SELECT DISTINCT recording_id FROM recordings WHERE recording_id IS NOT NULL")
        return {row[0] for row in rows}

    def embedding_models_in_use(self) -> set[str]:
        rows = self._query(
            "SELECT DISTINCT embedding_model FROM recordings WHERE status IN (?, ?) AND embedding_model IS NOT NULL",
            (INDEXED, MISSING),
        )
        return {row[0] for row in rows}

    def count_other_chunking(self, chunking: JsonObject) -> int:
        row = self._query(
            "SELECT COUNT(*) FROM recordings WHERE status IN (?, ?) AND chunking != ?",
            (INDEXED, MISSING, json.dumps(chunking, sort_keys=True)),
        ).fetchone()
        return int(row[0])

    def set_indexed(self, recording_ids: dict[str, int], embedding_model: str, chunking: JsonObject) -> None:
        """After a rebuild: the listed recordings are indexed with these settings, in one transaction."""
        self._execute("BEGIN IMMEDIATE")
        try:
            for recording_id, chunks in recording_ids.items():
                self._execute(
                    "UPDATE recordings SET status = CASE WHEN status = ? THEN ? ELSE status END, "
                    "embedding_model = ?, chunking = ?, chunks = ? WHERE recording_id = ?",
                    (PENDING, INDEXED, embedding_model, json.dumps(chunking, sort_keys=True), chunks, recording_id),
                )
            self._execute("COMMIT")
        except BaseException:
            self._db.rollback()
            raise

    def counts(self) -> dict[str, int]:
        """Recordings by status: each content once, under its best status (indexed, missing,
        pending), however many files hold it (the same audio in two folders is one recording);
        failed counts files, each a problem of its own."""
        found = dict.fromkeys(STATUSES, 0)
        ranked = (INDEXED, MISSING, PENDING)
        rows = self._query(
            "SELECT rank, COUNT(*) FROM (SELECT MIN(CASE status WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END) AS rank "
            "FROM recordings WHERE status != ? GROUP BY COALESCE(recording_id, path)) GROUP BY rank",
            (INDEXED, MISSING, FAILED),
        )
        found.update({ranked[rank]: count for rank, count in rows.fetchall()})
        found[FAILED] = int(self._query("SELECT COUNT(*) FROM recordings WHERE status = ?", (FAILED,)).fetchone()[0])
        return found

    def files(self) -> int:
        """Files the catalog knows (copies of one recording each count)."""
        return int(self._query("SELECT COUNT(*) FROM recordings").fetchone()[0])

    def totals(self) -> dict[str, float]:
        """Chunks and audio seconds over distinct indexed recordings (copies of one file count once)."""
        row = self._query(
            "SELECT COALESCE(SUM(chunks), 0), COALESCE(SUM(duration), 0) FROM "
            "(SELECT recording_id, MAX(chunks) AS chunks, MAX(duration) AS duration FROM recordings "
            " WHERE status IN (?, ?) GROUP BY recording_id)",
            (INDEXED, MISSING),
        ).fetchone()
        return {"chunks": int(row[0]), "audio_seconds": float(row[1])}

    def models(self) -> ModelsInUse:
        transcribers = {r[0] for r in self._query("SELECT DISTINCT transcriber FROM recordings WHERE transcriber IS NOT NULL")}
        embedders = {
            r[0] for r in self._query("SELECT DISTINCT embedding_model FROM recordings WHERE embedding_model IS NOT NULL")
        }
        return {
            "transcription": [json.loads(t) for t in sorted(transcribers)],
            "embedding": sorted(embedders),
        }

    def failures(self, limit: int = 10) -> list[RecentFailure]:
        rows = self._query(
            "SELECT path, last_error, failures, updated_at FROM recordings WHERE status = ? "
            "ORDER BY updated_at DESC, path LIMIT ?",
            (FAILED, limit),
        )
        return [{"path": r[0], "reason": r[1], "attempts": r[2], "at": r[3]} for r in rows]

    # runs

    def start_run(self, command: str, pid: int) -> int:
        cursor = self._execute("INSERT INTO runs (command, pid, started_at) VALUES (?, ?, ?)", (command, pid, now()))
        return int(cursor.lastrowid or 0)

    def end_run(self, run_id: int, result: str, summary: JsonObject | None = None) -> None:
        self._execute(
            "UPDATE runs SET ended_at = ?, result = ?, summary = ? WHERE id = ?",
            (now(), result, json.dumps(summary) if summary is not None else None, run_id),
        )

    def last_run(self, command: str | None = None) -> RunRecord | None:
        sql, args = "SELECT * FROM runs", tuple[str, ...]()
        if command:
            sql, args = sql + " WHERE command = ?", (command,)
        row = self._query(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        return RunRecord(
            id=row["id"],
            command=row["command"],
            pid=row["pid"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            result=row["result"],
            summary=json.loads(row["summary"]) if row["summary"] else None,
        )

    def _query(self, sql: str, args: Iterable[object] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(args))
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from exc

    _execute = _query


def _entry(row: sqlite3.Row) -> Entry:
    data = {c: row[c] for c in _COLUMNS}
    for c in _JSON_COLUMNS:
        if data[c] is not None:
            data[c] = json.loads(data[c])
    return Entry(**data)


def _error(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    return database_error(
        path,
        exc,
        "catalog",
        "move it away and rerun `heard ingest`, which rebuilds it (recordings already transcribed are not transcribed again)",
    )
