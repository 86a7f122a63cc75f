"""A recording's audio as the server hands it out: only a file that is what was indexed.

The catalog holds every path a recording's content was ingested from, each with the size and
modification time it had then, and ingest recorded each path resolved (no symbolic link in it). A
path is served only while it still is that: it resolves to itself (no link put in place of the file
or of a folder on the way), it opens without following a link, it is a regular file, and its size
and modification time are the catalog's. Anything else is "changed since indexed": `/etc/passwd`
linked in place of an indexed mp3 is never served (issue 25). The file is opened once, checked on
the open descriptor, and streamed from that same descriptor, so it cannot be swapped in between.

Of several copies (the same audio in two folders), the one ingest saw last that still passes is
served; a recording's path follows the copies that exist.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.jobs.catalog import INDEXED, MISSING, Catalog, Entry

CHANGED = "changed since indexed: run heard ingest"


@dataclass
class OpenMedia:
    """An indexed file, open and checked: stream from `fd`; whoever holds it closes it."""

    path: Path
    fd: int
    stat: os.stat_result

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class MediaLookup:
    """What a recording id finds: its open file, or why there is none (`problem`) and the path a
    person should look at (`path`: the copy last ingested, or the one its transcript names)."""

    path: str
    found: OpenMedia | None = None
    problem: str | None = None  # "gone": no copy is there; CHANGED: one is there, not as indexed


def open_indexed(entry: Entry) -> OpenMedia | None:
    """The catalog entry's file, open, if it is still the file that was indexed; else None."""
    path = entry.path
    if os.path.realpath(path) != os.path.normpath(path):
        return None  # a symbolic link now stands where a file or folder was
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO put there does not hang the server
    except OSError:
        return None
    found = os.fstat(fd)
    if stat.S_ISREG(found.st_mode) and found.st_size == entry.size and found.st_mtime_ns == entry.mtime_ns:
        return OpenMedia(Path(path), fd, found)
    os.close(fd)
    return None


def indexed_copies(data_dir: Path, recording_id: str | None = None) -> dict[str, list[Entry]]:
    """recording id -> the catalog's indexed copies of it (of one recording, or of all at once, for
    a page that lists every recording), the most recently seen first."""
    catalog = Catalog.open_existing(data_dir)
    if catalog is None:
        return {}
    try:
        entries = catalog.with_recording_id(recording_id) if recording_id else list(catalog.all().values())
    finally:
        catalog.close()
    found: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.updated_at, reverse=True):
        if entry.recording_id and entry.status in (INDEXED, MISSING):
            found.setdefault(entry.recording_id, []).append(entry)
    return found


def find_media(copies: list[Entry], transcript_source: str) -> MediaLookup:
    """The recording's file as indexed: the first of its `copies` (indexed_copies) still as it was."""
    for entry in copies:
        opened = open_indexed(entry)
        if opened is not None:
            return MediaLookup(entry.path, found=opened)
    there = [e.path for e in copies if os.path.lexists(e.path)]
    if there:
        return MediaLookup(there[0], problem=CHANGED)
    return MediaLookup(copies[0].path if copies else transcript_source, problem="gone")


def descriptor_path(fd: int) -> str:
    """A path that opens the very file behind `fd` (Linux /proc, else /dev/fd), whatever is at its
    name now: what the file response reads from."""
    proc = f"/proc/self/fd/{fd}"
    return proc if os.path.exists(proc) else f"/dev/fd/{fd}"
