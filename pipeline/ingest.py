"""The batch run: lock, then per recording identify -> obtain a transcript -> index, then remove
what disappeared, and summarize. Safe to kill at any point and to rerun.

Order of writes per recording, which the kill -9 tests rely on: the transcript file (atomic
rename), then the store (deterministic chunk ids, so a rewrite converges), then the catalog row
(one SQLite transaction). The catalog marks a recording indexed only once its chunks are stored;
until then its old row, if any, still names the previous content, whose chunks are removed when
the new ones are written.
"""

from __future__ import annotations

import datetime
import errno
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import chunking, importers, metadata, sources, speakers, transcribe, transcripts
from pipeline.catalog import FAILED, INDEXED, MISSING, Catalog, Entry, catalog_path, now
from pipeline.config import Settings
from pipeline.crash import crash_point
from pipeline.errors import ConfigError, HeardError, RecordingError, StorageError
from pipeline.lock import data_dir_lock
from pipeline.progress import Reporter, SilentReporter, RunSummary

# Write errors that no retry of a single recording can fix: the run stops (exit 2).
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


@dataclass
class IngestOptions:
    retranscribe: bool = False  # redo transcripts made with other transcription settings
    keep_missing: bool = False  # keep the chunks of recordings whose files are gone
    prune: bool = False  # also delete the transcripts of removed recordings
    retry_failed: bool = False  # retry failed recordings now, even if unchanged


@dataclass
class IngestSummary(RunSummary):
    new: int = 0  # recordings indexed for the first time
    updated: int = 0  # content changed at the same path (re-transcribed), or its metadata or speakers (re-indexed only)
    unchanged: int = 0  # nothing to do
    moved: int = 0  # of the unchanged: same content found at a new path, only the path was updated
    failed: int = 0  # failed this run or earlier and not fixed; see failures
    removed: int = 0  # files gone: their chunks were removed
    kept_missing: int = 0  # files gone, chunks kept (--keep-missing)
    transcribed: int = 0  # Whisper runs this time
    stale: int = 0  # transcripts made with other transcription settings, kept (see --retranscribe)
    reindex_needed: int = 0  # recordings indexed with other chunking settings (see `heard reindex`)
    chunks_written: int = 0
    chunks_removed: int = 0
    audio_seconds: float = 0.0  # audio transcribed this time
    wall_seconds: float = 0.0
    started_at: str = ""
    ended_at: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)


def ingest(
    paths: list[str | Path],
    settings: Settings,
    reporter: Reporter | None = None,
    retranscribe: bool = False,
    keep_missing: bool = False,
    prune: bool = False,
    retry_failed: bool = False,
) -> IngestSummary:
    """Index every recording under `paths`; a bad recording is reported and recorded, never fatal.

    Raises LockHeldError (exit 3) if another ingest or reindex runs on the data dir, ConfigError or
    StorageError (exit 2) for faults no single recording causes.
    """
    options = IngestOptions(retranscribe, keep_missing, prune, retry_failed)
    reporter = reporter or SilentReporter()
    files = sources.discover(paths, exclude=(settings.transcripts_dir, settings.index_dir))
    roots = [Path(p).expanduser().resolve() for p in paths]
    with data_dir_lock(settings.data_dir, "ingest") as dead_holder:
        if dead_holder:
            reporter.note(f"took over the lock left by PID {dead_holder}, which is no longer running")
        run = Run(settings, Catalog(catalog_path(settings.data_dir)), options, reporter)
        try:
            return run.execute(files, roots)
        finally:
            run.close()


class Run:
    """One ingest run. The embedder and the Whisper model load only when a recording needs them,
    so a run over unchanged files costs opening the store once, then a stat and a catalog lookup
    per file."""

    def __init__(self, settings: Settings, catalog: Catalog, options: IngestOptions, reporter: Reporter):
        self.settings = settings
        self.catalog = catalog
        self.options = options
        self.reporter = reporter
        self.summary = IngestSummary()
        self.wanted = transcribe.describe(settings.transcribe)
        self.chunking = asdict(settings.chunking)
        self._transcriber = transcribe.make_transcriber(settings.transcribe)  # validates; loads lazily
        # With workers > 1 or Ray, recordings that need Whisper are submitted ahead of the loop, which
        # then takes each transcript when it gets there (see _submit_ahead and pipeline/executors.py).
        self._executor = None
        self._pending: dict[str, Any] = {}
        self._store = None
        self._embedder = None
        self._model_checked = False

    # lazily loaded parts

    @property
    def store(self):
        if self._store is None:
            from pipeline.store import open_store

            self._store = open_store(self.settings)
        return self._store

    @property
    def embedder(self):
        if self._embedder is None:
            from pipeline.embed import Embedder

            self._embedder = Embedder(self.settings.embedding)
        return self._embedder

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
        if self._store is not None:
            self._store.close()
        self.catalog.close()

    # the run

    def execute(self, files: list[Path], roots: list[Path]) -> IngestSummary:
        started = time.monotonic()
        self.summary.started_at = now()
        run_id = self.catalog.start_run("ingest", os.getpid())
        try:
            self._prepare()
            self._submit_ahead(files)
            for number, path in enumerate(files, 1):
                self.reporter.start(path, number, len(files))
                self.process(path)
            self._remove_missing(roots, {str(p) for p in files})
        except HeardError as exc:
            _end_run_quietly(self.catalog, run_id, f"error: {exc}", self._finish(started))
            raise
        except BaseException:
            _end_run_quietly(self.catalog, run_id, "interrupted", self._finish(started))
            raise
        summary = self._finish(started)
        self.catalog.end_run(run_id, "failed" if summary.failed else "ok", summary.to_dict())
        return summary

    def _finish(self, started: float) -> IngestSummary:
        self.summary.audio_seconds = round(self.summary.audio_seconds, 2)
        self.summary.wall_seconds = round(time.monotonic() - started, 2)
        self.summary.ended_at = now()
        return self.summary

    def _prepare(self) -> None:
        """Checks that need no model: a lost index, a changed embedding model or chunking."""
        from pipeline.reindex import recover_interrupted_swap

        recover_interrupted_swap(self.settings.index_dir)
        counts = self.catalog.counts()
        if self.settings.store.url or (self.settings.index_dir / "chroma.sqlite3").is_file():
            # Opening the store costs a second or two, even when no file changed, and is what
            # detects a damaged one before the run claims success.
            lost = counts[INDEXED] and self.store.count() == 0
        else:
            lost = counts[INDEXED]
        if lost:
            # The index was deleted or emptied: every recording is written again, from its transcript.
            self.catalog.mark_all_pending()
        model = self.settings.embedding.model
        others = self.catalog.embedding_models_in_use() - {model}
        if others:
            raise ConfigError(
                f"{self.settings.index_dir}: the index holds vectors of '{sorted(others)[0]}' but embedding.model "
                f"is '{model}'; run `heard reindex` to rebuild it with the new model, or change the setting back"
            )
        self.summary.reindex_needed = self.catalog.count_other_chunking(self.chunking)

    def process(self, path: Path) -> None:
        """One recording, start to finish; its faults are recorded and the run goes on."""
        entry = self.catalog.get(str(path))
        companion = None
        try:
            stat = _stat(path)
            # Metadata and a transcript file beside the recording shape its index too.
            meta = metadata.for_recording(path)
            count = meta.get("num_speakers") or self.settings.speakers.count
            companion = companion_fingerprint(path, meta, count if self.settings.speakers.diarize else "off")
            same_companion = entry is not None and entry.companion == companion
            if entry and entry.same_file(stat.st_size, stat.st_mtime_ns) and same_companion and self._settled(path, entry):
                return
            recording = identify(path, entry if same_companion else None, stat)
            previous = entry.recording_id if entry and entry.recording_id != recording.id else None
            replaces = self._unused(previous, path)
            transcript, transcribed = self.obtain_transcript(recording)
            rediarized = self.find_speakers(recording, transcript, meta)
            if not transcribed and not rediarized and self._already_indexed(
                recording, path, stat, transcript, replaces, companion
            ):
                return
            written = self.index(recording.id, transcript, replaces=replaces, meta=meta)
            self._record(path, stat, recording, transcript, written, companion)
            if entry and entry.status in (INDEXED, MISSING):
                why = ("content changed" if previous else "transcription settings changed") if transcribed else (
                    "metadata or speakers changed: re-indexed, not re-transcribed")
                self._count(path, "updated", f"{why}: re-transcribed, indexed {written} chunks", written)
            else:
                self._count(path, "new", f"indexed {written} chunks", written)
        except RecordingError as exc:
            self._record_failure(path, entry, exc.reason, companion)
        except OSError as exc:
            raise _storage_error(exc, self.settings.data_dir) from exc

    # step 1: identify

    def _settled(self, path: Path, entry: Entry) -> bool:
        """Whether an unchanged file (same size and mtime) needs nothing this run."""
        if entry.status in (INDEXED, MISSING):
            if entry.transcriber != self.wanted:
                if self.options.retranscribe:
                    return False
                self.summary.stale += 1
            if entry.status == MISSING:  # it came back
                entry.status = INDEXED
                self.catalog.put(entry)
            self._count(path, "unchanged", "unchanged")
            return True
        if entry.status == FAILED and not self._retry_due(entry):
            self.summary.failed += 1
            self.summary.failures.append({"path": str(path), "reason": entry.last_error, "retried": False})
            self.reporter.failed(
                path, f"{entry.last_error} (unchanged since it failed at {entry.updated_at}; not retried until "
                "the file changes or with --retry-failed)"
            )
            return True
        return False

    def _retry_due(self, entry: Entry) -> bool:
        if self.options.retry_failed:
            return True
        failed_at = datetime.datetime.fromisoformat(entry.updated_at)
        waited = datetime.datetime.now(datetime.timezone.utc) - failed_at
        return waited.total_seconds() >= self.settings.ingest.retry_failed_after_hours * 3600

    # step 2: obtain a transcript

    def obtain_transcript(self, recording: sources.Recording) -> tuple[transcripts.Transcript, bool]:
        """The saved transcript, or a new one when there is none (or --retranscribe asks for it)."""
        transcript = transcripts.load_if_exists(self.settings.transcripts_dir, recording.id)
        other_model = transcript is not None and transcript.transcriber != self.wanted and not importers.is_imported(transcript)
        if transcript is not None and not (self.options.retranscribe and other_model):
            if other_model:
                self.summary.stale += 1
            if transcript.source != str(recording.path):
                transcript.source = str(recording.path)
                try:
                    transcripts.save(transcript, self.settings.transcripts_dir)
                except OSError as exc:
                    raise _storage_error(exc, self.settings.transcripts_dir) from exc
            return transcript, False
        pending = self._pending.pop(recording.id, None)
        if pending is not None:
            transcript = pending.result()
        else:
            transcript = importers.import_or_transcribe(recording, self._transcriber, self._progress)
        try:
            transcripts.save(transcript, self.settings.transcripts_dir)
        except OSError as exc:
            raise _storage_error(exc, self.settings.transcripts_dir) from exc
        crash_point("transcript-saved")
        if not importers.is_imported(transcript):
            self.summary.transcribed += 1
            self.summary.audio_seconds += transcript.duration
        return transcript, True

    def _submit_ahead(self, files: list[Path]) -> None:
        """Hand the executor every recording that will need Whisper, so it works ahead of the loop:
        several files at once, or the next ones while the loop embeds and writes the previous one."""
        ts = self.settings.transcribe
        if ts.executor == "local" and ts.workers == 1:
            return  # one at a time, in the loop, with its progress bar
        from pipeline.executors import make_executor

        for path in files:
            entry = self.catalog.get(str(path))
            try:
                stat = path.stat()
                if entry and entry.same_file(stat.st_size, stat.st_mtime_ns):
                    redo = self.options.retranscribe and entry.transcriber != self.wanted
                    if entry.status in (INDEXED, MISSING) and not redo:
                        continue
                    if entry.status == FAILED and not self._retry_due(entry):
                        continue
                recording = identify(path, entry, stat)
            except (OSError, RecordingError):
                continue  # the loop reports it
            if recording.transcript is not None:
                continue  # imported from its transcript file, no Whisper
            if transcripts.json_path(self.settings.transcripts_dir, recording.id).is_file():
                saved = transcripts.load_if_exists(self.settings.transcripts_dir, recording.id)
                if not (self.options.retranscribe and saved.transcriber != self.wanted):
                    continue
            if recording.id not in self._pending:
                if self._executor is None:
                    self._executor = make_executor(ts)
                self._pending[recording.id] = self._executor.submit(recording)

    def find_speakers(self, recording: sources.Recording, transcript: transcripts.Transcript, meta: dict) -> bool:
        """Diarize unless done (with the same requested count); True if the speakers changed."""
        if not self.settings.speakers.diarize:
            return False
        count = meta.get("num_speakers") or self.settings.speakers.count
        audio = recording.path if recording.has_audio else None
        if not speakers.ensure_diarized(transcript, audio, count, self.settings.speakers.threads):
            return False
        try:
            transcripts.save(transcript, self.settings.transcripts_dir)
        except OSError as exc:
            raise _storage_error(exc, self.settings.transcripts_dir) from exc
        return True

    def _progress(self, done: float, total: float) -> None:
        self.reporter.progress(done, total)
        if done > 0:
            crash_point("transcribing")

    def _already_indexed(
        self, recording: sources.Recording, path: Path, stat: os.stat_result, transcript, replaces: tuple[str, ...],
        companion: str | None = None,
    ) -> bool:
        """Same content already indexed, under this path (touched) or another (moved, renamed or
        copied): no work but pointing its chunks at this path (and dropping what it replaces)."""
        holders = [e for e in self.catalog.with_recording_id(recording.id) if e.status in (INDEXED, MISSING)]
        # Indexed with other metadata (or another transcript beside it): index again.
        if not holders or all(e.companion != companion for e in holders):
            return False
        for earlier in replaces:
            self.summary.chunks_removed += self.store.remove_recording(earlier)
        if any(e.path == str(path) for e in holders):
            self._record(path, stat, recording, transcript, holders[0].chunks, companion)
            self._count(path, "unchanged", "unchanged (only its modification time changed)")
            return True
        self.store.set_recording_path(recording.id, str(path))
        self._record(path, stat, recording, transcript, holders[0].chunks, companion)
        self.summary.moved += 1
        self._count(path, "unchanged", f"same content as {holders[0].path}: no work")
        return True

    # step 3: index

    def index(self, recording_id: str, transcript: transcripts.Transcript, replaces: tuple[str, ...] = (),
              meta: dict | None = None) -> int:
        """Chunk, embed and write one transcript's chunks, replacing `replaces`' chunks in the same step."""
        chunks = chunking.chunk_transcript(transcript, self.settings.chunking)
        speakers.label_chunks(chunks, transcript, meta or {})
        vectors = self.embedder.encode(speakers.embedding_texts(chunks))
        if not self._model_checked:
            self.store.check_embedding_model(self.settings.embedding.model, self.embedder.dimension)
            self._model_checked = True
        self.store.replace_recording(recording_id, chunks, vectors, replaces=replaces)
        crash_point("indexed")
        return len(chunks)

    def _unused(self, recording_id: str | None, path: Path) -> tuple[str, ...]:
        """(recording_id,) if no other file still holds that content, else ()."""
        if recording_id is None:
            return ()
        users = [e for e in self.catalog.with_recording_id(recording_id) if e.path != str(path)]
        return () if users else (recording_id,)

    # bookkeeping

    def _record(self, path: Path, stat: os.stat_result, recording: sources.Recording, transcript, chunks: int,
                companion: str | None = None) -> None:
        self.catalog.put(
            Entry(
                path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=recording.sha256,
                recording_id=recording.id, status=INDEXED, transcriber=transcript.transcriber,
                embedding_model=self.settings.embedding.model, chunking=self.chunking, chunks=chunks,
                duration=transcript.duration, companion=companion,
            )
        )

    def _record_failure(self, path: Path, entry: Entry | None, reason: str, companion: str | None = None) -> None:
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
                path=str(path), size=size, mtime_ns=mtime_ns, sha256=None,
                recording_id=entry.recording_id if entry else None, status=FAILED, last_error=reason,
                failures=(entry.failures if entry and entry.status == FAILED else 0) + 1, companion=companion,
            )
        )
        self.summary.failed += 1
        self.summary.failures.append({"path": str(path), "reason": reason, "retried": entry is not None})
        self.reporter.failed(path, reason)

    def _count(self, path: Path, outcome: str, detail: str, chunks: int = 0) -> None:
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        self.summary.chunks_written += chunks
        self.reporter.done(path, detail)

    # after the loop: files that disappeared

    def _remove_missing(self, roots: list[Path], seen: set[str]) -> None:
        gone = [
            entry for path, entry in sorted(self.catalog.all().items())
            if path not in seen and _under(Path(path), roots)
        ]
        for entry in gone:
            path = Path(entry.path)
            if self.options.keep_missing:
                if entry.status == INDEXED:
                    entry.status = MISSING
                    self.catalog.put(entry)
                if entry.status == MISSING:
                    self.summary.kept_missing += 1
                    self.reporter.removed(path, "file is gone; chunks kept (--keep-missing)")
                continue
            if entry.recording_id and not self._unused(entry.recording_id, path):
                self.catalog.delete(entry.path)  # moved: its content lives on at another path
                continue
            removed = 0
            if entry.recording_id:
                # Chunks first, row last: a kill in between leaves the row, and the next run finishes.
                removed = self.store.remove_recording(entry.recording_id)
                if self.options.prune:
                    transcripts.delete(self.settings.transcripts_dir, entry.recording_id)
            self.catalog.delete(entry.path)
            if entry.status != FAILED or removed:
                self.summary.removed += 1
                self.summary.chunks_removed += removed
                kept = "" if self.options.prune else "; transcript kept (--prune deletes it)"
                self.reporter.removed(path, f"file is gone; removed {removed} chunks{kept}")


def companion_fingerprint(path: Path, meta: dict, speakers_count: Any = None) -> str:
    """What beside the file shapes its index: its metadata, a transcript file of the same name, and
    the number of speakers asked for."""
    beside = sources.transcript_beside(path) if path.suffix.lower() in sources.AUDIO_EXTENSIONS else None
    stamp = None
    if beside is not None:
        stat = beside.stat()
        stamp = [str(beside), stat.st_size, stat.st_mtime_ns]
    return metadata.fingerprint(meta, {"transcript": stamp, "speakers": speakers_count})


def identify(path: Path, entry: Entry | None, stat: os.stat_result) -> sources.Recording:
    """The Recording for a file, hashing it only if the catalog has no hash for this size and mtime."""
    if entry and entry.sha256 and entry.same_file(stat.st_size, stat.st_mtime_ns):
        transcript = path if importers.is_transcript_file(path) else sources.transcript_beside(path)
        return sources.Recording(path=path, sha256=entry.sha256, size=stat.st_size, transcript=transcript)
    try:
        return sources.identify(path)
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check the file's permissions") from exc


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check that the file still exists") from exc


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _storage_error(exc: OSError, where: Path) -> HeardError:
    if exc.errno in STORAGE_ERRNOS:
        return StorageError(f"{where}: cannot write ({exc.strerror}); free disk space and rerun (nothing was half-written)")
    return StorageError(f"{where}: cannot write ({exc.strerror or exc}); check the folder's permissions")


def _end_run_quietly(catalog: Catalog, run_id: int, result: str, summary: IngestSummary) -> None:
    # On a full disk recording the run may fail too; the original error matters more.
    try:
        catalog.end_run(run_id, result, summary.to_dict())
    except HeardError:
        pass
