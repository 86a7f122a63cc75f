"""Errors a user can act on. Each message is one line naming the thing at fault and the fix."""

import os

from pipeline.messages import safe


class HeardError(Exception):
    """Base class; `exit_code` follows the design's contract (2: usage or config error).

    Messages often quote what a user or a library wrote (a file name, a setting, a YAML parser's
    text): they are made one printable line without credentials here, once for every error."""

    exit_code = 2

    def __init__(self, message: object = ""):
        super().__init__(safe(message))


class ConfigError(HeardError):
    """A setting, model or data directory is wrong; nothing was changed."""


class UsageError(HeardError):
    """A command was asked for something it cannot do (an empty query)."""


class RecordingError(HeardError):
    """One recording cannot be used (corrupt, silent, not audio); the others go on."""

    exit_code = 1

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = safe(reason)
        super().__init__(f"{path}: {reason}")

    def blamed(self, recording: object) -> str:
        """The reason as one recording's failure: naming the file at fault when it is another one
        (its sidecar, its folder's manifest.csv, its saved transcript)."""
        return self.reason if self.path == str(recording) else str(self)


class TranscriptDamagedError(RecordingError):
    """A transcript in transcripts/ cannot be read: ingest fails its recording alone; a search that
    needs it stops (exit 2), naming the file."""

    exit_code = 2


class IndexMissingError(HeardError):
    """Search was asked of a data directory that has no index yet."""


class LockHeldError(HeardError):
    """Another ingest or reindex holds the data directory's lock."""

    exit_code = 3


class StorageError(HeardError):
    """The disk is full or read-only: the run stops, and what was written stays consistent."""


class IndexDamagedError(HeardError):
    """The Chroma store on disk cannot be read; `heard reindex` rebuilds it from transcripts/."""
