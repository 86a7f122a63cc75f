"""One writer per data directory: an flock on <data dir>/ingest.lock that holds the writer's PID.

The kernel drops an flock when its process dies, even by kill -9, so a lock left by a dead process
is simply taken over; the PID written inside only serves the message to whoever has to wait.
fcntl is used directly rather than `filelock` because the holder's PID must be readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import LockHeldError

LOCK_NAME = "ingest.lock"


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_NAME


def holder_pid(data_dir: Path) -> int | None:
    """The PID written by the last process that took the lock (it may have exited since)."""
    return _holder(data_dir)[0]


def holder_command(data_dir: Path) -> str | None:
    """The heard command that took the lock last (ingest, reindex, speakers), if it said."""
    return _holder(data_dir)[1]


def _holder(data_dir: Path) -> tuple[int | None, str | None]:
    """(PID, command) as the holder wrote them: "1234 ingest"."""
    try:
        words = lock_path(data_dir).read_text().split()
        return int(words[0]), (words[1] if len(words) > 1 and words[1].isalpha() else None)
    except (OSError, ValueError, IndexError):
        return None, None


def is_held(data_dir: Path) -> bool:
    """True while a live process holds the lock."""
    path = lock_path(data_dir)
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def data_dir_lock(data_dir: Path, command: str = "ingest") -> Iterator[int | None]:
    """Hold the data directory's lock; yields the PID of a previous holder that died holding it, if any."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(data_dir)
    # O_CREAT without O_TRUNC: a holder's PID must survive our failed attempt.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, holder = _holder(data_dir)
            who = f"PID {pid}" if pid else "another process"
            # What holds it, as its user knows it: `heard speakers` re-indexing a new name is no ingest.
            what = f"heard {holder}" if holder else "another heard ingest or reindex"
            raise LockHeldError(f"{data_dir}: {what} ({who}) is running and holds {path}; wait for it to finish") from None
        previous = holder_pid(data_dir)
        _write_pid(fd, f"{os.getpid()} {command}\n")
        try:
            yield previous
        finally:
            # Any exit the process lives through (done, an error, Ctrl+C) empties the file, so a PID
            # found there later was left by a process that died holding the lock (kill -9, power).
            _write_pid(fd, "")
    finally:
        os.close(fd)  # releases the flock


def _write_pid(fd: int, text: str) -> None:
    # The PID only serves messages: a full disk must not stop the run from reporting its real error.
    try:
        os.ftruncate(fd, 0)
        if text:
            os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass
