"""The batch run: lock, then per recording identify -> obtain a transcript -> index, then remove
what disappeared, and summarize. Safe to kill at any point and to rerun.

Order of writes per recording, which the kill -9 tests rely on: the transcript file (atomic
rename), then the store (deterministic chunk ids, so a rewrite converges), then the catalog row
(one SQLite transaction). The catalog marks a recording indexed only once its chunks are stored;
until then its old row, if any, still names the previous content, whose chunks are removed when
the new ones are written.

The steps live beside this file: changes.py (what changed), transcription.py (transcript and
speakers), pipeline/indexing/indexer.py (chunks into the index), removal.py (files that are gone).

Stages overlap across recordings: Whisper runs on the executor's threads a recording ahead, while
this loop diarizes, chunks, embeds and writes the previous one, so a folder is paced by Whisper.
Recordings whose transcripts are at hand without waiting (saved, imported, or already transcribed)
are indexed together, their chunks embedded in one pass, before the loop waits for Whisper again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import threads, transcripts
from pipeline.config import Settings
from pipeline.crash import crash_point
from pipeline.errors import HeardError
from pipeline.hearing.speakers.diarize import METHOD as DIARIZER
from pipeline.indexing.indexer import ToIndex
from pipeline.indexing.recipe import EmbeddingRecipe, check_recipe, configured_recipe
from pipeline.indexing.store import index_exists
from pipeline.jobs import changes
from pipeline.jobs.catalog import INDEXED, MISSING, Catalog, Entry, catalog_path, now
from pipeline.jobs.from_transcript import index_recordings
from pipeline.jobs.lock import data_dir_lock
from pipeline.jobs.progress import InOrderReporter, Reporter, SilentReporter
from pipeline.jobs.removal import remove_missing
from pipeline.jobs.run_state import IngestOptions, IngestSummary, RunState, failure_reason
from pipeline.jobs.transcription import Transcription
from pipeline.messages import counted
from pipeline.sources import discovery
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Transcript

# When several recordings are ready at once, they are indexed together up to about this many
# transcript segments (a chunk holds one or more).
BATCH_SEGMENTS = 256


def ingest(
    paths: list[str | Path],
    settings: Settings,
    *,
    reporter: Reporter | None = None,
    retranscribe: bool = False,
    keep_missing: bool = False,
    prune: bool = False,
    retry_failed: bool = False,
    allow_empty: bool = False,
    feeds: list[tuple[str, str | None]] | None = None,
) -> IngestSummary:
    """Index every recording under `paths`, and first the new episodes of `feeds` ((url, show name)
    pairs); a bad recording, feed or episode is reported and recorded, never fatal.

    Raises LockHeldError (exit 3) if another ingest or reindex runs on the data dir, ConfigError or
    StorageError (exit 2) for faults no single recording causes.
    """
    options = IngestOptions(retranscribe, keep_missing, prune, retry_failed, allow_empty)
    reporter = reporter or SilentReporter()
    found = discovery.find_recordings(paths, exclude=(settings.transcripts_dir, settings.index_dir))
    roots = [Path(p).expanduser().resolve() for p in paths]
    # Whisper, the speaker encoder and the text encoder get their threads from pipeline/threads.py;
    # the BLAS pools a host program may have loaded already get one.
    threads.limit_blas(1)
    with data_dir_lock(settings.data_dir, "ingest") as dead_holder:
        if dead_holder:
            reporter.note(f"took over the lock left by PID {dead_holder}, which is no longer running")
        run = Run(RunState(settings, Catalog(catalog_path(settings.data_dir)), options, reporter), feeds=feeds or [])
        try:
            return run.execute(found, roots)
        finally:
            run.close()


@dataclass
class Ready:
    """A recording whose transcript and speakers are done, waiting to be indexed."""

    path: Path
    number: int
    entry: Entry | None
    stat: os.stat_result
    recording: Recording
    transcript: Transcript
    meta: dict[str, Any]
    replaces: tuple[str, ...]
    companion: str
    transcribed: bool
    previous: str | None


class Run:
    """One ingest run over a list of files."""

    def __init__(self, state: RunState, *, feeds: list[tuple[str, str | None]] | None = None):
        self.state = state
        self.transcription = Transcription(state)
        self.feeds = feeds or []
        self._batch: list[Ready] = []
        self._total = 0
        # What files report while earlier ones wait in the batch is said after those are written.
        self._lines = InOrderReporter(state.reporter)
        state.reporter = self._lines

    def close(self) -> None:
        self.transcription.close()
        self.state.close()

    def execute(self, found: discovery.Found, roots: list[Path]) -> IngestSummary:
        state = self.state
        files = found.files
        started = time.monotonic()
        state.summary.started_at = now()
        run_id = state.catalog.start_run("ingest", os.getpid())
        try:
            self._prepare()
            if self.feeds:
                from pipeline.jobs.feeds import add_feed_episodes

                files, roots = add_feed_episodes(state, self.feeds, files, roots)
            self._total = len(files)
            self.transcription.plan(files)
            for position, path in enumerate(files):
                self.transcription.look_ahead(position)
                if not self.transcription.ready(path):
                    self._write_batch()  # index what is ready before waiting for Whisper
                self._lines.holding = bool(self._batch)
                state.reporter.start(path, position + 1, len(files))
                ready = self.process(path, position + 1)
                self.transcription.forget(path)
                if ready is not None:
                    self._batch.append(ready)
                    if sum(len(r.transcript.segments) for r in self._batch) >= BATCH_SEGMENTS:
                        self._write_batch()
            self._write_batch()
            remove_missing(state, roots, {str(p) for p in files}, unreadable=found.unreadable)
            if state.summary.chunks_written or state.summary.chunks_removed:
                from pipeline.jobs.measure import measure_index

                measure_index(state.settings, state.store, state.indexer.embedder)  # what the score cuts follow
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
        configured = configured_recipe(settings.embedding)  # the model is not loaded: its size unknown
        if index_exists(settings):
            # Opening the store costs a second or two, even when no file changed, and is what
            # detects a damaged one, or one built with other embedding settings, before the run
            # claims success.
            state.store.check_recipe(configured)
            lost = counts[INDEXED] > 0 and state.store.count() == 0
            # The keyword index follows the collection; out of step (a crash between the two
            # writes, a restored file, another machine's writes to a server) it is rebuilt here,
            # never by a search. One SQLite cannot read stops the run: `heard reindex` replaces it.
            if state.store.repair_keywords():
                state.reporter.note(f"{settings.index_dir}: the keyword index did not match the collection; rebuilt it")
        else:
            lost = counts[INDEXED] > 0
        if lost:
            # The index was deleted or emptied: every recording is written again, from its transcript.
            state.catalog.mark_all_pending()
        for model in sorted(state.catalog.embedding_models_in_use()):
            check_recipe(str(settings.index_dir), EmbeddingRecipe(model=model), configured)
        state.summary.reindex_needed = state.catalog.count_other_chunking(state.chunking)

    def process(self, path: Path, number: int) -> Ready | None:
        """One recording up to its index write: what changed, its transcript, its speakers. Returns
        it ready to be indexed, or None when it needs no writing; its faults are recorded and the
        run goes on."""
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
                return None
            looked_ahead = self.transcription.identified(path)
            if looked_ahead is not None and (same_companion or entry is None or entry.sha256 is None):
                recording = looked_ahead
            else:
                recording = changes.identify(path, entry if same_companion else None, stat)
            previous = entry.recording_id if entry and entry.recording_id != recording.id else None
            replaces = changes.unused(state, previous, path)
            transcript, transcribed, heard = self.transcription.obtain(recording)
            rediarized = self.transcription.find_speakers(recording, transcript, meta, heard)
            del heard  # the decoded audio is not needed past diarization
            # Its speakers join the voices heard across recordings; a named voice names them.
            state.voices.observe(transcript, stamp=transcripts.stamp(state.settings.transcripts_dir, recording.id))
            if (
                not transcribed
                and not rediarized
                and not state.voices.stale(recording.id)
                and changes.already_indexed(state, recording, path, stat, transcript, replaces=replaces, companion=companion)
            ):
                return None
            return Ready(path, number, entry, stat, recording, transcript, meta, replaces, companion, transcribed, previous)
        except Exception as exc:  # noqa: BLE001 - the rule is in failure_reason: it re-raises run-level faults
            state.record_failure(path, entry, failure_reason(exc, path, state.settings.data_dir), companion)
        return None

    def _write_batch(self) -> None:
        """Index the recordings that are ready, their chunks embedded together; each is recorded in
        the catalog right after its own chunks are written, and the log stays in file order."""
        batch, self._batch = self._batch, []
        self._lines.holding = False
        if not batch:
            return
        state = self.state
        by_number = {ready.number: ready for ready in batch}
        try:
            written = index_recordings(state.indexer, state.voices, [ToIndex(r.transcript, r.meta, r.replaces) for r in batch])
            for number in sorted(set(by_number) | set(self._lines.held_numbers())):
                self._lines.release(number)
                if number in by_number:
                    chunks = next(written).chunks
                    crash_point("indexed")
                    self._record(by_number[number], chunks)
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                ready = batch[0]
                reason = failure_reason(exc, ready.path, state.settings.data_dir)  # re-raises run-level faults
                state.record_failure(ready.path, ready.entry, reason, ready.companion)
                return
            # One recording's chunks broke the batch: each is written alone, so that one fails alone.
            # (Those written before the fault are written again: chunk ids make that converge.)
            for ready in batch:
                self._batch = [ready]
                self._write_batch()

    def _record(self, ready: Ready, written: int) -> None:
        state, entry = self.state, ready.entry
        state.record(ready.path, ready.stat, ready.recording, ready.transcript, written, ready.companion)
        if entry and entry.status in (INDEXED, MISSING):
            if ready.transcribed:
                why = "content changed" if ready.previous else "transcription settings changed"
                detail = f"{why}: re-transcribed, indexed {counted(written, 'chunk')}"
            else:
                detail = f"metadata or speakers changed: re-indexed {counted(written, 'chunk')}, not re-transcribed"
            state.count(ready.path, "updated", detail, written)
        else:
            state.count(ready.path, "new", f"indexed {counted(written, 'chunk')}", written)


def _end_run_quietly(catalog: Catalog, run_id: int, result: str, summary: IngestSummary) -> None:
    # On a full disk recording the run may fail too; the original error matters more.
    try:
        catalog.end_run(run_id, result, summary.to_dict())
    except HeardError:
        pass
