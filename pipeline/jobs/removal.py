"""The last step of a run: files under the given paths that are gone leave the index.

Only a file known to be gone is removed: never one under a folder that could not be read, nor one
whose existence cannot be checked, nor anything under a folder that came up empty while the catalog
holds recordings there (an unmounted share looks exactly like that) unless --allow-empty says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import transcripts
from pipeline.errors import HeardError
from pipeline.jobs.catalog import FAILED, INDEXED, MISSING, Entry
from pipeline.jobs.changes import unused
from pipeline.jobs.run_state import RunState


def remove_missing(state: RunState, roots: list[Path], seen: set[str], *, unreadable: dict[Path, str]) -> None:
    """Remove (or with --keep-missing, keep as `missing`) what the catalog holds under `roots` that
    this run did not find. Only files under the paths given count: `heard ingest calls/` never
    removes what `heard ingest podcasts/` indexed. Folders in `unreadable` are failures of this run."""
    for folder, reason in sorted(unreadable.items()):
        state.fail_path(folder, f"{reason}; what is indexed from it is kept")
    unseen = [entry for path, entry in sorted(state.catalog.all().items()) if path not in seen and _under(Path(path), roots)]
    untouched = list(unreadable) + _empty_roots(state, roots, seen, unseen)
    for entry in unseen:
        path = Path(entry.path)
        if _under(path, untouched):
            continue
        doubt = _existence_unknown(path)
        if doubt:
            state.fail_path(path, f"cannot tell whether it still exists ({doubt}); its chunks are kept")
            continue
        if state.options.keep_missing:
            if entry.status == INDEXED:
                entry.status = MISSING
                state.catalog.put(entry)
            if entry.status == MISSING:
                state.summary.kept_missing += 1
                state.reporter.removed(path, "file is gone; chunks kept (--keep-missing)")
            continue
        if entry.recording_id and not unused(state, entry.recording_id, path):
            state.catalog.delete(entry.path)  # moved, or a copy: its content lives on at another path
            _follow_copies(state, entry.recording_id, path)
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


def _follow_copies(state: RunState, recording_id: str, gone: Path) -> None:
    """Point the recording's chunks and its transcript's `source` from `gone` at a copy that is still
    there (the one seen last), so hits, the page and a later reindex name a file that exists."""
    copies = [e for e in state.catalog.with_recording_id(recording_id) if e.status == INDEXED and os.path.isfile(e.path)]
    if not copies:
        return
    there = max(copies, key=lambda e: e.updated_at).path
    if state.store.recording_id_at(str(gone)) == recording_id:
        state.store.set_recording_path(recording_id, there)
    try:
        transcript = transcripts.load_if_exists(state.settings.transcripts_dir, recording_id)
    except HeardError:
        return  # a damaged transcript is reported when the recording is next read
    if transcript is not None and transcript.source == str(gone):
        transcript.source = there
        transcripts.save(transcript, state.settings.transcripts_dir)


def _empty_roots(state: RunState, roots: list[Path], seen: set[str], unseen: list[Entry]) -> list[Path]:
    """Folders given to this run that yielded no recording while the catalog holds indexed ones under
    them: reported, and (unless --allow-empty) nothing under them is removed."""
    empty = []
    for root in roots:
        if state.options.allow_empty or any(_under(Path(p), [root]) for p in seen):
            continue
        held = [e for e in unseen if e.status != FAILED and e.recording_id and _under(Path(e.path), [root])]
        if held and root.is_dir():
            state.fail_path(
                root,
                f"no recordings found in it, but {len(held)} indexed recordings are under it: nothing was removed "
                "(is a share unmounted?); if they are really gone, rerun with --allow-empty",
            )
            empty.append(root)
    return empty


def _existence_unknown(path: Path) -> str | None:
    """Why it cannot be told whether `path` exists (a folder on the way that cannot be searched, a
    failing disk or share), or None: the file is gone, or there and no longer a recording of its own."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
