"""The SQLite files in the data dir (the catalog, the voices, the keyword index) opened one way, and
their faults, and Chroma's, told one way: a full or read-only disk is a storage fault (exit 2, "free
disk space"), never "damaged"."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from pipeline.errors import ConfigError, HeardError, StorageError

# Free space under which a write that failed is taken to have failed for room, whatever the library
# said: Chroma's compaction reported "Failed to apply logs to the metadata segment" and SQLite
# "database or disk is full" with 400-500 KB left on a 48 MB disk (tests/test_nothing_lost.py); a
# journal or a compaction needs room beside the data.
NEARLY_FULL_BYTES = 32 << 20
_FULL_WORDS = ("disk is full", "no space left", "database or disk is full", "quota exceeded", "file too large")
_READ_ONLY_WORDS = ("readonly", "read-only")
# What a file that is damaged (not merely unwritable) makes SQLite say: never blamed on the disk.
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt")


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """A connection with the schema in place. Autocommit: each statement, or each BEGIN ... COMMIT
    block, is one transaction; WAL lets readers (`heard status`, the web page) read while a run writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db


def free_bytes(path: Path) -> int | None:
    """Free space on the disk that holds `path` (or the nearest folder of it that exists)."""
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return None


def storage_fault(path: Path, text: str, what: str) -> StorageError | None:
    """The one-line StorageError for a write that failed for lack of room or permission (by what the
    library said, or by the disk being nearly full now), else None."""
    lowered = text.lower()
    free = free_bytes(path)
    nearly_full = free is not None and free < NEARLY_FULL_BYTES and not any(word in lowered for word in _DAMAGE_WORDS)
    if any(word in lowered for word in _FULL_WORDS) or "disk i/o" in lowered or nearly_full:
        if free is not None and free < 1 << 20:
            text = "no space left on device"
        return StorageError(f"{path}: cannot write the {what} ({text}); free disk space and rerun")
    if any(word in lowered for word in _READ_ONLY_WORDS):
        return StorageError(f"{path}: cannot write the {what} ({text}); check the folder's permissions")
    return None


def database_error(path: Path, exc: sqlite3.DatabaseError, what: str, damaged_fix: str) -> HeardError:
    """One line naming the file and the fix: a full or read-only disk stops the run (exit 2) as
    any storage fault does; anything else means the file is damaged."""
    return storage_fault(path, str(exc), what) or ConfigError(f"{path}: damaged {what} ({exc}); {damaged_fix}")
