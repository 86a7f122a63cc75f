"""The last step of a run: files under the given paths that are gone leave the index."""

from __future__ import annotations

from pathlib import Path

from pipeline import transcripts
from pipeline.jobs.catalog import FAILED, INDEXED, MISSING
from pipeline.jobs.changes import unused
from pipeline.jobs.run_state import RunState


def remove_missing(state: RunState, roots: list[Path], seen: set[str]) -> None:
    """Remove (or with --keep-missing, keep as `missing`) what the catalog holds under `roots` that
    this run did not find. Only files under the paths given count: `heard ingest calls/` never
    removes what `heard ingest podcasts/` indexed."""
    gone = [entry for path, entry in sorted(state.catalog.all().items()) if path not in seen and _under(Path(path), roots)]
    for entry in gone:
        path = Path(entry.path)
        if state.options.keep_missing:
            if entry.status == INDEXED:
                entry.status = MISSING
                state.catalog.put(entry)
            if entry.status == MISSING:
                state.summary.kept_missing += 1
                state.reporter.removed(path, "file is gone; chunks kept (--keep-missing)")
            continue
        if entry.recording_id and not unused(state, entry.recording_id, path):
            state.catalog.delete(entry.path)  # moved: its content lives on at another path
            continue
        removed = 0
        if entry.recording_id:
            # Chunks first, row last: a kill in between leaves the row, and the next run finishes.
            removed = state.store.remove_recording(entry.recording_id)
            if state.options.prune:
                transcripts.delete(state.settings.transcripts_dir, entry.recording_id)
        state.catalog.delete(entry.path)
        if entry.status != FAILED or removed:
            state.summary.removed += 1
            state.summary.chunks_removed += removed
            kept = "" if state.options.prune else "; transcript kept (--prune deletes it)"
            state.reporter.removed(path, f"file is gone; removed {removed} chunks{kept}")


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
