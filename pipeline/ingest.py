"""The batch run: discover, transcribe what is new, index what is not indexed, summarize."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import chunking, sources, transcribe, transcripts
from pipeline.config import Settings
from pipeline.errors import RecordingError
from pipeline.progress import Reporter, SilentReporter


@dataclass
class IngestSummary:
    new: int = 0  # recordings indexed for the first time
    unchanged: int = 0  # already transcribed and indexed: no work
    failed: int = 0
    removed: int = 0
    transcribed: int = 0  # Whisper runs this time
    stale: int = 0  # transcripts made with other transcription settings, kept (see --retranscribe)
    chunks_written: int = 0
    audio_seconds: float = 0.0  # audio transcribed this time
    wall_seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest(
    paths: list[str | Path],
    settings: Settings,
    reporter: Reporter | None = None,
    retranscribe: bool = False,
) -> IngestSummary:
    """Index every recording under `paths`; a bad recording is reported and skipped, never fatal."""
    from pipeline.embed import Embedder
    from pipeline.executors import make_executor
    from pipeline.store import open_store

    reporter = reporter or SilentReporter()
    started = time.monotonic()
    summary = IngestSummary()
    files = sources.discover(paths)
    store = open_store(settings)
    wanted = transcribe.describe(settings.transcribe)
    embedder = Embedder(settings.embedding)
    model_checked = False
    executor = make_executor(settings.transcribe, reporter.progress)
    # Everything that needs Whisper is submitted first, so the executor works ahead (several files
    # at once, or the next file while this loop embeds the previous one); results are taken in order.
    planned = [_plan(path, settings, wanted, retranscribe, executor) for path in files]

    try:
        for number, (path, recording, transcript, pending) in enumerate(planned, 1):
            reporter.start(path, number, len(files))
            try:
                if isinstance(recording, RecordingError):
                    raise recording
                fresh = pending is not None
                if fresh:
                    transcript = pending.result()
                    transcripts.save(transcript, settings.transcripts_dir)
                    summary.transcribed += 1
                    summary.audio_seconds += transcript.duration
                elif transcript.transcriber != wanted:
                    summary.stale += 1
                if transcript.source != str(path):
                    # Moved or renamed: same content, same id; only the path changes.
                    transcript.source = str(path)
                    transcripts.save(transcript, settings.transcripts_dir)
                    store.set_recording_path(recording.id, str(path))

                if not fresh and store.has_recording(recording.id):
                    summary.unchanged += 1
                    reporter.done(path, "unchanged")
                    continue
                chunks = chunking.chunk_transcript(transcript, settings.chunking)
                if not model_checked:
                    store.check_embedding_model(settings.embedding.model, embedder.dimension)
                    model_checked = True
                store.replace_recording(recording.id, chunks, embedder.encode([c.text for c in chunks]))
                summary.new += 1
                summary.chunks_written += len(chunks)
                reporter.done(path, f"indexed {len(chunks)} chunks")
            except RecordingError as exc:
                summary.failed += 1
                summary.failures.append({"path": exc.path, "reason": exc.reason})
                reporter.failed(path, exc.reason)
    finally:
        executor.close()
    summary.audio_seconds = round(summary.audio_seconds, 2)
    summary.wall_seconds = round(time.monotonic() - started, 2)
    return summary


def _plan(path: Path, settings: Settings, wanted: dict, retranscribe: bool, executor):
    """(path, recording or its error, stored transcript, pending transcription or None)."""
    try:
        recording = _identify(path)
    except RecordingError as exc:
        return path, exc, None, None
    transcript = transcripts.load_if_exists(settings.transcripts_dir, recording.id)
    if transcript is None or (retranscribe and transcript.transcriber != wanted):
        return path, recording, transcript, executor.submit(recording)
    return path, recording, transcript, None


def _identify(path: Path) -> sources.Recording:
    try:
        return sources.identify(path)
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check the file's permissions") from exc
