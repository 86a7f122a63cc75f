"""`heard reindex`: rebuild the index from transcripts/ without transcribing anything.

For a changed embedding model or chunking, or a damaged store. The new index is built in
`index.rebuild/` beside the old one and swapped in by renaming, so until the swap search keeps
answering from the old index, and a kill at any point leaves one whole index behind.

Nothing indexed is lost by a rebuild: a recording whose transcript or metadata cannot be read now
(a sidecar broken since) is counted as failed, and its chunks as the old index holds them are
carried into the new one (their vectors made again when the embedding recipe changed), as an
ingest keeps them. A rebuild that cannot be written (a full disk) is removed and the old index
stays in use.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.errors import ConfigError, HeardError, IndexDamagedError, RecordingError
from pipeline.indexing.identities import VoiceBook, voices_path
from pipeline.jobs.catalog import Catalog, catalog_path, now
from pipeline.jobs.from_transcript import Written, index_recordings, load_saved
from pipeline.jobs.lock import data_dir_lock
from pipeline.jobs.progress import Reporter, SilentReporter
from pipeline.jobs.summary import RunSummary
from pipeline.messages import counted
from pipeline.sources.metadata import MetadataReader

if TYPE_CHECKING:
    from pipeline.indexing.indexer import Indexer


@dataclass
class ReindexSummary(RunSummary):
    recordings: int = 0
    chunks_written: int = 0
    failed: int = 0
    kept: int = 0  # failed recordings whose chunks were carried over from the old index
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
    from pipeline.indexing.store import forget_cached_client

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
        voices.refresh(settings.transcripts_dir, wanted)
        written, kept = _build(settings, target, files, voices, summary, reporter)
        _swap_in(target, settings.index_dir)
        forget_cached_client(settings.index_dir)
        counts = {**{w.recording_id: w.chunks for w in written}, **kept}
        catalog.set_indexed(counts, settings.embedding.model, asdict(settings.chunking))
        # Only now do the index's chunks carry these names: a kill before the swap leaves the old
        # index, and the voice book saying so, in place.
        for done in written:
            voices.mark_indexed(done.recording_id, done.identities)
    finally:
        voices.close()
    summary.wall_seconds = round(time.monotonic() - started, 2)
    summary.ended_at = now()
    return summary


def _build(
    settings: Settings, target: Path, files: list[Path], voices: VoiceBook, summary: ReindexSummary, reporter: Reporter
) -> tuple[list[Written], dict[str, int]]:
    """The new index in `target`: every readable transcript's chunks, and the failed recordings'
    chunks carried over. On any fault the half-built folder is removed (it would only hold disk
    space) and the index in use stays as it was; the new folder's faults are never called damage
    of the index (`heard reindex` is what is running)."""
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.indexer import Indexer
    from pipeline.indexing.store import Store, forget_cached_client
    from pipeline.jobs.measure import measure_index

    try:
        store = Store(target, settings.store.collection)
        try:
            indexer = Indexer(store, Embedder(settings.embedding), settings.chunking)
            indexer.check_model()
            written = _write_all(files, indexer, voices, summary, reporter)
            kept = _keep_previous(settings, indexer, summary, reporter)
            if not written and not kept:
                store.rebuild_keywords()  # an empty index is a whole one: its keyword file exists
            measure_index(settings, store, indexer.embedder)  # what the score cuts follow
        finally:
            store.close()
    except BaseException as exc:
        forget_cached_client(target)
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, IndexDamagedError):
            detail = str(exc).split(": ", 1)[-1].split("; run `heard reindex`")[0]
            raise HeardError(f"{target}: could not build the new index ({detail}); the index in use is unchanged") from exc
        raise
    return written, kept


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
            reporter.done(path, f"indexed {counted(done.chunks, 'chunk')}")
    return written


def _keep_previous(settings: Settings, indexer: Indexer, summary: ReindexSummary, reporter: Reporter) -> dict[str, int]:
    """Carry each failed recording's chunks from the old index into the new one: recording id ->
    chunks kept. Their vectors are reused when the old index was made with the same recipe, else
    made again from their texts; each failure says what was kept."""
    from pipeline.indexing.indexer import embed_chunks
    from pipeline.indexing.recipe import differences, recipe_of
    from pipeline.indexing.store import index_exists, open_store

    if not summary.failures or not index_exists(settings):
        return {}
    kept: dict[str, int] = {}
    unreadable = "; its chunks could not be read from the old index either ({})"
    try:
        old = open_store(settings, create=False)
    except HeardError as exc:  # the old index is damaged (what a reindex is for): nothing to carry
        for failure in summary.failures:
            failure["reason"] += unreadable.format(exc)
        return kept
    try:
        try:
            same_recipe = not differences(old.recipe(), recipe_of(indexer.embedder))
        except HeardError as exc:
            for failure in summary.failures:
                failure["reason"] += unreadable.format(exc)
            return kept
        for failure in summary.failures:
            recording_id = Path(failure["path"]).stem
            try:
                chunks, vectors = old.recording_chunks(recording_id)
            except HeardError as exc:
                failure["reason"] += unreadable.format(exc)
                continue
            if not chunks:
                continue
            if not same_recipe:
                vectors = embed_chunks([chunks], indexer.embedder)
            indexer.store.replace_recording(recording_id, chunks, vectors)  # a full disk stops the rebuild
            kept[recording_id] = len(chunks)
            failure["reason"] += f"; kept its {len(chunks)} chunks from the previous index"
            reporter.note(f"{failure['path']}: kept its {len(chunks)} chunks from the previous index")
    finally:
        old.close()
    summary.kept = len(kept)
    return kept


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
