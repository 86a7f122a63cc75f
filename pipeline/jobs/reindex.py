"""`heard reindex`: rebuild the index from transcripts/ without transcribing anything.

For a changed embedding model or chunking, or a damaged store. The new index is built in
`index.rebuild/` beside the old one and swapped in by renaming, so until the swap search keeps
answering from the old index, and a kill at any point leaves one whole index behind.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.errors import ConfigError, HeardError, RecordingError
from pipeline.indexing.identities import VoiceBook, voices_path
from pipeline.jobs.catalog import Catalog, catalog_path, now
from pipeline.jobs.from_transcript import Written, index_recordings, load_saved
from pipeline.jobs.lock import data_dir_lock
from pipeline.jobs.progress import Reporter, SilentReporter
from pipeline.jobs.summary import RunSummary
from pipeline.sources.metadata import MetadataReader

if TYPE_CHECKING:
    from pipeline.indexing.indexer import Indexer


@dataclass
class ReindexSummary(RunSummary):
    recordings: int = 0
    chunks_written: int = 0
    failed: int = 0
    wall_seconds: float = 0.0
    started_at: str = ""
    ended_at: str = ""
    failures: list[dict[str, str]] = field(default_factory=list)


def rebuild_dir(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".rebuild")


def retired_dir(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".old")


def recover_interrupted_swap(index_dir: Path) -> None:
    """Finish or undo a swap that a kill interrupted: there is always one whole index afterwards."""
    old = retired_dir(index_dir)
    if old.exists():
        if index_dir.exists():
            shutil.rmtree(old)
        else:
            old.rename(index_dir)


def reindex(settings: Settings, *, reporter: Reporter | None = None) -> ReindexSummary:
    """Rebuild the Chroma collection from the transcripts of the recordings the catalog knows
    (every transcript, if there is no catalog yet)."""
    reporter = reporter or SilentReporter()
    with data_dir_lock(settings.data_dir, "reindex") as dead_holder:
        if dead_holder:
            reporter.note(f"took over the lock left by PID {dead_holder}, which is no longer running")
        catalog = Catalog(catalog_path(settings.data_dir))
        run_id = catalog.start_run("reindex", os.getpid())
        try:
            summary = _rebuild(settings, catalog, reporter)
        except HeardError as exc:
            catalog.end_run(run_id, f"error: {exc}")
            raise
        finally:
            catalog.close()
        catalog = Catalog(catalog_path(settings.data_dir))
        catalog.end_run(run_id, "failed" if summary.failed else "ok", summary.to_dict())
        catalog.close()
        return summary


def _rebuild(settings: Settings, catalog: Catalog, reporter: Reporter) -> ReindexSummary:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.indexer import Indexer
    from pipeline.indexing.spread import remeasure
    from pipeline.indexing.store import Store, forget_cached_client

    started = time.monotonic()
    summary = ReindexSummary(started_at=now())
    if settings.store.url:
        return _refresh_keyword_cache(settings, summary, reporter, started)
    recover_interrupted_swap(settings.index_dir)
    wanted = catalog.live_recording_ids() if any(catalog.counts().values()) else None
    files = sorted(settings.transcripts_dir.glob("*.json")) if settings.transcripts_dir.is_dir() else []
    files = [f for f in files if wanted is None or f.stem in wanted]
    if wanted and not files:
        raise ConfigError(f"{settings.transcripts_dir}: no transcripts to rebuild the index from; run `heard ingest FOLDER`")

    target = rebuild_dir(settings.index_dir)
    shutil.rmtree(target, ignore_errors=True)  # left by a killed reindex
    # The names users gave voices (`heard speakers`), brought up to date with transcripts/.
    voices = VoiceBook(voices_path(settings.data_dir))
    try:
        store = Store(target, settings.store.collection)
        try:
            voices.refresh(settings.transcripts_dir, wanted)
            indexer = Indexer(store, Embedder(settings.embedding), settings.chunking)
            indexer.check_model()
            written = _write_all(files, indexer, voices, summary, reporter)
            remeasure(store, indexer.embedder)  # the model's spread over this corpus, which the score cuts follow
        finally:
            store.close()
        _swap_in(target, settings.index_dir)
        forget_cached_client(settings.index_dir)
        catalog.set_indexed({w.recording_id: w.chunks for w in written}, settings.embedding.model, asdict(settings.chunking))
        # Only now do the index's chunks carry these names: a kill before the swap leaves the old
        # index, and the voice book saying so, in place.
        for done in written:
            voices.mark_indexed(done.recording_id, done.identities)
    finally:
        voices.close()
    summary.wall_seconds = round(time.monotonic() - started, 2)
    summary.ended_at = now()
    return summary


def _write_all(
    files: list[Path], indexer: Indexer, voices: VoiceBook, summary: ReindexSummary, reporter: Reporter
) -> list[Written]:
    """Each transcript's chunks into the new index; one that cannot be read (or whose metadata
    cannot) is counted as failed and the others go on."""
    reader = MetadataReader()
    written: list[Written] = []
    for number, path in enumerate(files, 1):
        reporter.start(path, number, len(files))
        try:
            saved = load_saved(path, reader)
        except (ConfigError, RecordingError) as exc:
            summary.failed += 1
            summary.failures.append({"path": str(path), "reason": str(exc)})
            reporter.failed(path, str(exc))
            continue
        for done in index_recordings(indexer, voices, [saved], mark=False):
            written.append(done)
            summary.recordings += 1
            summary.chunks_written += done.chunks
            reporter.done(path, f"indexed {done.chunks} chunks")
    return written


def _refresh_keyword_cache(settings: Settings, summary: ReindexSummary, reporter: Reporter, started: float) -> ReindexSummary:
    """With a Chroma server the vectors live there, and only the keyword index is this machine's: it
    is rebuilt from the server's chunks. (The rebuild of vectors is a new local folder swapped in at
    the end, and a server's collection is not a folder: for a new embedding model, delete the
    server's collection and run `heard ingest`, which reuses the transcripts.)"""
    from pipeline.indexing.store import open_store

    store = open_store(settings)
    try:
        chunks = store.rebuild_keywords()
    finally:
        store.close()
    summary.recordings = len({c.recording_id for c in chunks})
    summary.chunks_written = len(chunks)
    reporter.note(f"{settings.store.url}: the vectors stay in the server; rebuilt this machine's keyword index from its chunks")
    summary.wall_seconds = round(time.monotonic() - started, 2)
    summary.ended_at = now()
    return summary


def _swap_in(new: Path, index_dir: Path) -> None:
    old = retired_dir(index_dir)
    if index_dir.exists():
        index_dir.rename(old)
    new.rename(index_dir)
    shutil.rmtree(old, ignore_errors=True)
