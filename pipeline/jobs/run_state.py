"""What every step of one ingest run shares: settings, catalog, options, the summary, the reporter,
and the index, opened only when a recording needs it."""

from __future__ import annotations

import datetime
import errno
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from pipeline.config import Settings
from pipeline.errors import HeardError, RecordingError, StorageError
from pipeline.hearing import transcribe
from pipeline.jobs.catalog import FAILED, INDEXED, Catalog, Entry
from pipeline.jobs.progress import Reporter
from pipeline.jobs.summary import RunSummary
from pipeline.sources.discovery import Recording
from pipeline.sources.metadata import MetadataReader
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.indexing.identities import VoiceBook
    from pipeline.indexing.indexer import Indexer
    from pipeline.indexing.store import Store

# Write errors that no retry of a single recording can fix: the run stops (exit 2).
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


class _Failure(TypedDict):
    path: str  # the recording, folder or feed (without its password)
    reason: str | None
    retried: bool  # it had failed before and was tried again


class Failure(_Failure, total=False):
    """One entry of an ingest summary's `failures`."""

    episode: str | None  # a feed's failure: the episode's title (None: the feed itself)


@dataclass
class IngestOptions:
    retranscribe: bool = False  # redo transcripts made with other transcription settings
    keep_missing: bool = False  # keep the chunks of recordings whose files are gone
    prune: bool = False  # also delete the transcripts of removed recordings
    retry_failed: bool = False  # retry failed recordings now, even if unchanged
    allow_empty: bool = False  # a folder that yields no recordings may remove what was indexed under it


@dataclass
class IngestSummary(RunSummary):
    new: int = 0  # recordings indexed for the first time
    updated: int = 0  # content changed at the same path (re-transcribed), or its metadata or speakers (re-indexed only)
    unchanged: int = 0  # nothing to do
    moved: int = 0  # of the unchanged: same content found at a new path, only the path was updated
    failed: int = 0  # recordings failed (this run or earlier, not fixed), and folders that could not be read; see failures
    removed: int = 0  # files gone: their chunks were removed
    kept_missing: int = 0  # files gone, chunks kept (--keep-missing)
    transcribed: int = 0  # Whisper runs this time
    stale: int = 0  # transcripts made with other transcription settings, kept (see --retranscribe)
    reindex_needed: int = 0  # recordings indexed with other chunking settings (see `heard reindex`)
    speakers_unsure: int = 0  # diarized this run without confidence: no roles given (transcript's diarization.reason)
    chunks_written: int = 0
    chunks_removed: int = 0
    feeds_checked: int = 0  # podcast feeds asked for
    feeds_unchanged: int = 0  # of which answered 304 Not Modified
    episodes_downloaded: int = 0  # enclosures fetched this run
    audio_seconds: float = 0.0  # audio transcribed this time
    wall_seconds: float = 0.0
    started_at: str = ""
    ended_at: str = ""
    failures: list[Failure] = field(default_factory=list)


class RunState:
    """One run's shared state. The embedder and store load only when a recording needs them."""

    def __init__(self, settings: Settings, catalog: Catalog, options: IngestOptions, reporter: Reporter):
        self.settings = settings
        self.catalog = catalog
        self.options = options
        self.reporter = reporter
        self.summary = IngestSummary()
        self.wanted = transcribe.describe(settings.transcribe)
        self.chunking = asdict(settings.chunking)
        self.metadata = MetadataReader()
        self._store: Store | None = None
        self._indexer: Indexer | None = None
        self._voices: VoiceBook | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from pipeline.indexing.store import open_store

            self._store = open_store(self.settings)
        return self._store

    @property
    def indexer(self) -> Indexer:
        if self._indexer is None:
            from pipeline.indexing.embed import Embedder
            from pipeline.indexing.indexer import Indexer

            self._indexer = Indexer(self.store, Embedder(self.settings.embedding, beside_whisper=True), self.settings.chunking)
        return self._indexer

    @property
    def voices(self) -> VoiceBook:
        """The voices heard across recordings and the names users gave them (`heard speakers`)."""
        if self._voices is None:
            from pipeline.indexing.identities import VoiceBook, voices_path

            self._voices = VoiceBook(voices_path(self.settings.data_dir))
        return self._voices

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._voices is not None:
            self._voices.close()
        self.catalog.close()

    def retry_due(self, entry: Entry) -> bool:
        """Whether a recording that failed is tried again this run."""
        if self.options.retry_failed:
            return True
        failed_at = datetime.datetime.fromisoformat(entry.updated_at)
        waited = datetime.datetime.now(datetime.timezone.utc) - failed_at
        return waited.total_seconds() >= self.settings.ingest.retry_failed_after_hours * 3600

    # bookkeeping

    def record(
        self,
        path: Path,
        stat: os.stat_result,
        recording: Recording,
        transcript: Transcript,
        chunks: int,
        companion: str | None = None,
    ) -> None:
        self.catalog.put(
            Entry(
                path=str(path),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                sha256=recording.sha256,
                recording_id=recording.id,
                status=INDEXED,
                transcriber=transcript.transcriber,
                embedding_model=self.settings.embedding.model,
                chunking=self.chunking,
                chunks=chunks,
                duration=transcript.duration,
                companion=companion,
            )
        )

    def record_failure(self, path: Path, entry: Entry | None, reason: str, companion: str | None = None) -> None:
        try:
            stat = path.stat()
            size, mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:
            size, mtime_ns = -1, -1
        # A file that was indexed and now fails (say, half-copied over) keeps its earlier chunks:
        # the row keeps that content's id, so they are replaced once the file is good again, or
        # removed if it is deleted.
        self.catalog.put(
            Entry(
                path=str(path),
                size=size,
                mtime_ns=mtime_ns,
                sha256=None,
                recording_id=entry.recording_id if entry else None,
                status=FAILED,
                last_error=reason,
                failures=(entry.failures if entry and entry.status == FAILED else 0) + 1,
                companion=companion,
            )
        )
        self.summary.failed += 1
        self.summary.failures.append({"path": str(path), "reason": reason, "retried": entry is not None})
        self.reporter.failed(path, reason)

    def fail_path(self, path: Path, reason: str) -> None:
        """A failure that is no recording's: a folder that cannot be read, a file that cannot be
        checked. Reported and counted (exit 1); nothing goes into the catalog."""
        self.summary.failed += 1
        self.summary.failures.append({"path": str(path), "reason": reason, "retried": False})
        self.reporter.folder_failed(path, reason)

    def count(self, path: Path, outcome: str, detail: str, chunks: int = 0) -> None:
        """Count one recording's outcome (a field of the summary) and report it."""
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        self.summary.chunks_written += chunks
        self.reporter.done(path, detail)


def failure_reason(exc: BaseException, path: Path, data_dir: Path) -> str:
    """Why handling the recording at `path` failed, as one line naming the file that is wrong: the
    rule that keeps one recording's fault from stopping a run. Raises again what no single recording
    causes (a setting, the disk, a damaged index, an interrupt): those stop the run.
    """
    if isinstance(exc, RecordingError):  # its audio, transcript, sidecar or manifest row
        return exc.blamed(path)
    if isinstance(exc, HeardError) or not isinstance(exc, Exception):
        raise exc
    if isinstance(exc, OSError):
        involved = [Path(os.fsdecode(f)) for f in (exc.filename, exc.filename2) if isinstance(f, (str, bytes))]
        if exc.errno in STORAGE_ERRNOS or any(p.is_relative_to(data_dir) for p in involved):
            raise storage_error(exc, data_dir) from exc
        if not os.path.lexists(path):
            return "the file disappeared during the run (moved or deleted); it is indexed again once it is back"
        return f"cannot read {involved[0] if involved else 'it'} ({exc.strerror or exc})"
    # Anything else is a fault of heard's on input it did not foresee: this recording fails, named.
    return f"{type(exc).__name__}: {exc} (heard could not handle this file; please report it)"


def storage_error(exc: OSError, where: Path) -> HeardError:
    if exc.errno in STORAGE_ERRNOS:
        return StorageError(f"{where}: cannot write ({exc.strerror}); free disk space and rerun (nothing was half-written)")
    return StorageError(f"{where}: cannot write ({exc.strerror or exc}); check the folder's permissions")
