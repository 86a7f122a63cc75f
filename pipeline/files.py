"""Writing files so that a crash or a concurrent reader never sees half of one, and changing them so
that two writers never lose each other's change; the type of the JSON objects heard writes and reads back."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A JSON object as json.loads returns it or json.dumps takes it (a transcript's `transcriber` and
# `diarization` entries, the catalog's JSON columns, a run's summary). Its values are any JSON value,
# which Python's type system cannot name without a recursive union every reader would have to
# narrow: each reader checks the keys it uses (transcripts.from_dict, the catalog's columns).
JsonObject = dict[str, Any]


@contextlib.contextmanager
def atomic_path(path: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """A temporary path beside `path`, moved onto `path` (after fsync) when the block succeeds.

    On an error, or a kill, `path` keeps its old content; the temporary file is removed or, after
    a kill, left as a dot-file that readers ignore.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    staging = Path(name)
    try:
        yield staging
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        # mkstemp makes owner-only files; most are shared data (a web server may run as another user).
        os.chmod(staging, mode)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str, *, mode: int = 0o644) -> None:
    with atomic_path(path, mode=mode) as staging:
        staging.write_text(text, encoding="utf-8")


class LockTimeout(Exception):
    """Another process held the lock for longer than the wait allowed."""


@contextlib.contextmanager
def changing(lock_file: Path, *, wait: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock while a small file of the data dir is read, changed and written back
    (feeds.yaml, ...): two processes doing it at once would each write back what they read, and one
    change would be lost. An flock on `lock_file`, which the kernel drops if the holder dies; waits
    up to `wait` seconds (each holder keeps it for milliseconds), then raises LockTimeout."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(str(lock_file)) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing the descriptor lets go of the lock


def is_file(path: Path) -> bool:
    """Path.is_file, except that a name too long for the file system is simply not there: beside a
    recording with a 255-byte name, its sidecar's name (.yaml) has 256 and stat raises ENAMETOOLONG."""
    try:
        return path.is_file()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False
        raise


def hash_file(path: Path, block_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks: a recording's content id, a model file's check."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()
