"""Step 1 of ingesting a file: what changed since the catalog last saw it.

An unchanged file (same size and mtime, same metadata and companion transcript) costs a stat, a
catalog lookup and reading its metadata (each folder's heard.yaml and manifest.csv once per run);
it is never hashed. Moved or touched content is recognised by its hash and costs no other work.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import RecordingError
from pipeline.files import JsonObject
from pipeline.jobs.catalog import FAILED, INDEXED, MISSING, Entry
from pipeline.jobs.run_state import STORAGE_ERRNOS, RunState
from pipeline.sources import discovery, metadata
from pipeline.transcripts import Transcript


def companion_fingerprint(path: Path, meta: JsonObject, speakers_count: object = None) -> str:
    """What beside the file shapes its index: its metadata, a transcript file of the same name, and
    the number of speakers asked for (any JSON value: ingest gives the count and the diarizer)."""
    beside = discovery.transcript_beside(path) if path.suffix.lower() in discovery.AUDIO_EXTENSIONS else None
    stamp: list[str | int] | None = None
    if beside is not None:
        stat = beside.stat()
        stamp = [str(beside), stat.st_size, stat.st_mtime_ns]
    return metadata.fingerprint(meta, {"transcript": stamp, "speakers": speakers_count})


def identify(path: Path, entry: Entry | None, stat: os.stat_result) -> discovery.Recording:
    """The Recording for a file, hashing it only if the catalog has no hash for this size and mtime."""
    if entry and entry.sha256 and entry.same_file(stat.st_size, stat.st_mtime_ns):
        transcript = path if discovery.is_transcript_file(path) else discovery.transcript_beside(path)
        return discovery.Recording(path=path, sha256=entry.sha256, size=stat.st_size, transcript=transcript)
    try:
        return discovery.identify(path)
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check the file's permissions") from exc


def stat_of(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check that the file still exists") from exc


def other_transcription(state: RunState, transcriber: JsonObject | None) -> bool:
    """Whether Whisper made a transcript with other settings than those configured (a stale one,
    redone with --retranscribe). An imported transcript never is: no Whisper setting made it."""
    return transcriber is not None and transcriber.get("backend") != "import" and transcriber != state.wanted


def settled(state: RunState, path: Path, entry: Entry) -> bool:
    """Whether an unchanged file (same size and mtime) needs nothing this run; counts it if so."""
    if entry.status in (INDEXED, MISSING):
        if other_transcription(state, entry.transcriber):
            if state.options.retranscribe:
                return False
            state.summary.stale += 1
        if entry.status == MISSING:  # it came back
            entry.status = INDEXED
            state.catalog.put(entry)
        state.count(path, "unchanged", "unchanged")
        return True
    if entry.status == FAILED and not state.retry_due(entry):
        state.summary.failed += 1
        state.summary.failures.append({"path": str(path), "reason": entry.last_error, "retried": False})
        state.reporter.failed(
            path,
            f"{entry.last_error} (unchanged since it failed at {entry.updated_at}; not retried until "
            "the file changes or with --retry-failed)",
        )
        return True
    return False


def names_changed(state: RunState, entry: Entry) -> bool:
    """Whether an indexed recording's voices were named (or renamed) since its chunks were written."""
    return entry.status in (INDEXED, MISSING) and state.voices.stale(entry.recording_id)


def unused(state: RunState, recording_id: str | None, path: Path) -> tuple[str, ...]:
    """(recording_id,) if no file but `path` still holds that content, else ()."""
    if recording_id is None:
        return ()
    users = [e for e in state.catalog.with_recording_id(recording_id) if e.path != str(path)]
    return () if users else (recording_id,)


def already_indexed(
    state: RunState,
    recording: discovery.Recording,
    path: Path,
    stat: os.stat_result,
    transcript: Transcript,
    *,
    replaces: tuple[str, ...],
    companion: str | None,
) -> bool:
    """Same content already indexed, under this path (touched) or another (moved, renamed or
    copied): no work but pointing its chunks at this path (and dropping what it replaces)."""
    holders = [e for e in state.catalog.with_recording_id(recording.id) if e.status in (INDEXED, MISSING)]
    # Indexed with other metadata (or another transcript beside it): index again.
    if not holders or all(e.companion != companion for e in holders):
        return False
    for earlier in replaces:
        state.summary.chunks_removed += state.store.remove_recording(earlier)
    if any(e.path == str(path) for e in holders):
        state.record(path, stat, recording, transcript, holders[0].chunks, companion)
        state.count(path, "unchanged", "unchanged (only its modification time changed)")
        return True
    state.store.set_recording_path(recording.id, str(path))
    state.record(path, stat, recording, transcript, holders[0].chunks, companion)
    state.summary.moved += 1
    state.count(path, "unchanged", f"same content as {holders[0].path}: no work")
    return True
