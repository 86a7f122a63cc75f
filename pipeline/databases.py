"""The SQLite files in the data dir (the catalog, the voices): opened one way, their faults told one way."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from pipeline.errors import ConfigError, HeardError, StorageError


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """A connection with the schema in place. Autocommit: each statement, or each BEGIN ... COMMIT
    block, is one transaction; WAL lets readers (`heard status`, the web page) read while a run writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db


def database_error(path: Path, exc: sqlite3.DatabaseError, what: str, damaged_fix: str) -> HeardError:
    """One line naming the file and the fix: a full or read-only disk stops the run (exit 2) as
    any storage fault does; anything else means the file is damaged."""
    text = str(exc)
    if "full" in text or "disk I/O" in text:
        if shutil.disk_usage(path.parent).free < 1 << 20:
            text = "no space left on device"
        return StorageError(f"{path}: cannot write the {what} ({text}); free disk space and rerun")
    if "readonly" in text:
        return StorageError(f"{path}: cannot write the {what} ({text}); check the folder's permissions")
    return ConfigError(f"{path}: damaged {what} ({text}); {damaged_fix}")
