"""Errors a user can act on. Each message is one line naming the thing at fault and the fix."""


class HeardError(Exception):
    """Base class; `exit_code` follows the design's contract (2: usage or config error)."""

    exit_code = 2


class ConfigError(HeardError):
    """A setting, model or data directory is wrong; nothing was changed."""


class RecordingError(HeardError):
    """One recording cannot be used (corrupt, silent, not audio); the others go on."""

    exit_code = 1

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexMissingError(HeardError):
    """Search was asked of a data directory that has no index yet."""


class LockHeldError(HeardError):
    """Another ingest or reindex holds the data directory's lock."""

    exit_code = 3


class StorageError(HeardError):
    """The disk is full or read-only: the run stops, and what was written stays consistent."""


class IndexDamagedError(HeardError):
    """The Chroma store on disk cannot be read; `heard reindex` rebuilds it from transcripts/."""
