"""The batch run: lock, then per recording identify -> obtain a transcript -> index, then remove
what disappeared, and summarize. Safe to kill at any point and to rerun.

Order of writes per recording, which the kill -9 tests rely on: the transcript file (atomic
rename), then the store (deterministic chunk ids, so a rewrite converges), then the catalog row
(one SQLite transaction). The catalog marks a recording indexed only once its chunks are stored;
until then its old row, if any, still names the previous content, whose chunks are removed when
the new ones are written.

The steps live beside this file: changes.py (what changed), transcription.py (transcript and
speakers), pipeline/indexing/indexer.py (chunks into the index), removal.py (files that are gone).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline import transcripts
from pipeline.config import Settings
from pipeline.crash import crash_point
from pipeline.errors import HeardError, RecordingError
from pipeline.hearing.speakers.diarize import METHOD as DIARIZER
from pipeline.indexing.store import check_model
from pipeline.jobs import changes
from pipeline.jobs.catalog import INDEXED, MISSING, Catalog, catalog_path, now
from pipeline.jobs.lock import data_dir_lock
from pipeline.jobs.progress import Reporter, SilentReporter
from pipeline.jobs.removal import remove_missing
from pipeline.jobs.run_state import IngestOptions, IngestSummary, RunState, storage_error
from pipeline.jobs.transcription import Transcription
from pipeline.sources import discovery


def ingest(
    paths: list[str | Path],
    settings: Settings,
    *,
    reporter: Reporter | None = None,
    retranscribe: bool = False,
    keep_missing: bool = False,
    prune: bool = False,
    retry_failed: bool = False,
    feeds: list[tuple[str, str | None]] | None = None,
) -> IngestSummary:
    """Index every recording under `paths`, and first the new episodes of `feeds` ((url, show name)
    pairs); a bad recording, feed or episode is reported and recorded, never fatal.

    Raises LockHeldError (exit 3) if another ingest or reindex runs on the data dir, ConfigError or
    StorageError (exit 2) for faults no single recording causes.
    """
    options = IngestOptions(retranscribe, keep_missing, prune, retry_failed)
    reporter = reporter or SilentReporter()
    files = discovery.discover(paths, exclude=(settings.transcripts_dir, settings.index_dir))
    roots = [Path(p).expanduser().resolve() for p in paths]
    with data_dir_lock(settings.data_dir, "ingest") as dead_holder:
        if dead_holder:
            reporter.note(f"took over the lock left by PID {dead_holder}, which is no longer running")
        run = Run(RunState(settings, Catalog(catalog_path(settings.data_dir)), options, reporter), feeds=feeds or [])
        try:
            return run.execute(files, roots)
        finally:
            run.close()


class Run:
    """One ingest run over a list of files."""

    def __init__(self, state: RunState, *, feeds: list[tuple[str, str | None]] | None = None):
        self.state = state
        self.transcription = Transcription(state)
        self.feeds = feeds or []

    def close(self) -> None:
        self.transcription.close()
        self.state.close()

    def execute(self, files: list[Path], roots: list[Path]) -> IngestSummary:
        state = self.state
        started = time.monotonic()
        state.summary.started_at = now()
        run_id = state.catalog.start_run("ingest", os.getpid())
        try:
            self._prepare()
            if self.feeds:
                from pipeline.jobs.feeds import add_feed_episodes

                files, roots = add_feed_episodes(state, self.feeds, files, roots)
            self.transcription.submit_ahead(files)
            for number, path in enumerate(files, 1):
                state.reporter.start(path, number, len(files))
                self.process(path)
            remove_missing(state, roots, {str(p) for p in files})
        except HeardError as exc:
            _end_run_quietly(state.catalog, run_id, f"error: {exc}", self._finish(started))
            raise
        except BaseException:
            _end_run_quietly(state.catalog, run_id, "interrupted", self._finish(started))
            raise
        summary = self._finish(started)
        state.catalog.end_run(run_id, "failed" if summary.failed else "ok", summary.to_dict())
        return summary

    def _finish(self, started: float) -> IngestSummary:
        summary = self.state.summary
        summary.audio_seconds = round(summary.audio_seconds, 2)
        summary.wall_seconds = round(time.monotonic() - started, 2)
        summary.ended_at = now()
        return summary

    def _prepare(self) -> None:
        """Checks that need no model: a lost index, a changed embedding model or chunking."""
        from pipeline.jobs.reindex import recover_interrupted_swap

        state = self.state
        settings = state.settings
        recover_interrupted_swap(settings.index_dir)
        counts = state.catalog.counts()
        if settings.store.url or (settings.index_dir / "chroma.sqlite3").is_file():
            # Opening the store costs a second or two, even when no file changed, and is what
            # detects a damaged one before the run claims success.
            lost = counts[INDEXED] > 0 and state.store.count() == 0
        else:
            lost = counts[INDEXED] > 0
        if lost:
            # The index was deleted or emptied: every recording is written again, from its transcript.
            state.catalog.mark_all_pending()
        for model in sorted(state.catalog.embedding_models_in_use()):
            check_model(str(settings.index_dir), model, None, settings.embedding.model, None)
        state.summary.reindex_needed = state.catalog.count_other_chunking(state.chunking)

    def process(self, path: Path) -> None:
        """One recording, start to finish; its faults are recorded and the run goes on."""
        state = self.state
        entry = state.catalog.get(str(path))
        companion = None
        try:
            stat = changes.stat_of(path)
            # Metadata and a transcript file beside the recording shape its index too.
            meta = state.metadata.for_recording(path)
            count = meta.get("num_speakers") or state.settings.speakers.count
            # The diarizer's method is part of it: a new diarizer re-diarizes (never re-transcribes) once.
            wanted = [count, DIARIZER] if state.settings.speakers.diarize else "off"
            companion = changes.companion_fingerprint(path, meta, wanted)
            same_companion = entry is not None and entry.companion == companion
            if (
                entry
                and entry.same_file(stat.st_size, stat.st_mtime_ns)
                and same_companion
                and not changes.names_changed(state, entry)
                and changes.settled(state, path, entry)
            ):
                return
            recording = changes.identify(path, entry if same_companion else None, stat)
            previous = entry.recording_id if entry and entry.recording_id != recording.id else None
            replaces = changes.unused(state, previous, path)
            transcript, transcribed = self.transcription.obtain(recording)
            rediarized = self.transcription.find_speakers(recording, transcript, meta)
            # Its speakers join the voices heard across recordings; a named voice names them.
            state.voices.observe(transcript, stamp=transcripts.stamp(state.settings.transcripts_dir, recording.id))
            if (
                not transcribed
                and not rediarized
                and not state.voices.stale(recording.id)
                and changes.already_indexed(state, recording, path, stat, transcript, replaces=replaces, companion=companion)
            ):
                return
            identities = state.voices.identities(recording.id)
            written = state.indexer.index_transcript(transcript, meta=meta, replaces=replaces, identities=identities)
            crash_point("indexed")
            state.voices.mark_indexed(recording.id, identities)
            state.record(path, stat, recording, transcript, written, companion)
            if entry and entry.status in (INDEXED, MISSING):
                why = (
                    ("content changed" if previous else "transcription settings changed")
                    if transcribed
                    else ("metadata or speakers changed: re-indexed, not re-transcribed")
                )
                state.count(path, "updated", f"{why}: re-transcribed, indexed {written} chunks", written)
            else:
                state.count(path, "new", f"indexed {written} chunks", written)
        except RecordingError as exc:
            state.record_failure(path, entry, exc.reason, companion)
        except OSError as exc:
            raise storage_error(exc, state.settings.data_dir) from exc


def _end_run_quietly(catalog: Catalog, run_id: int, result: str, summary: IngestSummary) -> None:
    # On a full disk recording the run may fail too; the original error matters more.
    try:
        catalog.end_run(run_id, result, summary.to_dict())
    except HeardError:
        pass
