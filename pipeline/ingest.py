"""The batch run: discover, transcribe what is new, index what is not indexed, summarize."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import chunking, importers, metadata, sources, speakers, transcribe, transcripts
from pipeline.config import Settings
from pipeline.errors import RecordingError
from pipeline.progress import Reporter, SilentReporter


@dataclass
class IngestSummary:
    new: int = 0  # recordings indexed for the first time
    updated: int = 0  # re-indexed without transcribing: metadata or speakers changed
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
    from pipeline.store import Store

    reporter = reporter or SilentReporter()
    started = time.monotonic()
    summary = IngestSummary()
    files = sources.discover(paths, exclude=(settings.transcripts_dir, settings.index_dir))
    store = Store(settings.index_dir, settings.store.collection)
    transcriber = transcribe.make_transcriber(settings.transcribe)
    wanted = transcribe.describe(settings.transcribe)
    embedder = Embedder(settings.embedding)
    model_checked = False

    for number, path in enumerate(files, 1):
        reporter.start(path, number, len(files))
        try:
            recording = _identify(path)
            meta = metadata.for_recording(recording.path)
            transcript = transcripts.load_if_exists(settings.transcripts_dir, recording.id)
            other_model = transcript is not None and transcript.transcriber != wanted and not importers.is_imported(transcript)
            fresh = transcript is None or (retranscribe and other_model)
            if fresh:
                transcript = importers.import_or_transcribe(recording, transcriber, reporter.progress)
                transcripts.save(transcript, settings.transcripts_dir)
                if not importers.is_imported(transcript):
                    summary.transcribed += 1
                    summary.audio_seconds += transcript.duration
            elif other_model:
                summary.stale += 1
            if settings.speakers.diarize and speakers.ensure_diarized(
                transcript, recording.path if recording.has_audio else None,
                meta.get("num_speakers") or settings.speakers.count, settings.speakers.threads,
            ):
                transcripts.save(transcript, settings.transcripts_dir)
            if transcript.source != str(path):
                # Moved or renamed: same content, same id; only the path changes.
                transcript.source = str(path)
                transcripts.save(transcript, settings.transcripts_dir)
                store.set_recording_path(recording.id, str(path))

            indexed = store.fingerprint(recording.id)
            if not fresh and indexed == speakers.index_fingerprint(transcript, meta):
                summary.unchanged += 1
                reporter.done(path, "unchanged")
                continue
            chunks = speakers.label_chunks(chunking.chunk_transcript(transcript, settings.chunking), transcript, meta)
            if not model_checked:
                store.check_embedding_model(settings.embedding.model, embedder.dimension)
                model_checked = True
            store.replace_recording(recording.id, chunks, embedder.encode(speakers.embedding_texts(chunks)))
            store.drop_replaced(str(path), recording.id)
            if indexed is None:
                summary.new += 1
            else:
                summary.updated += 1
            summary.chunks_written += len(chunks)
            reporter.done(path, f"indexed {len(chunks)} chunks")
        except RecordingError as exc:
            summary.failed += 1
            summary.failures.append({"path": exc.path, "reason": exc.reason})
            reporter.failed(path, exc.reason)

    summary.audio_seconds = round(summary.audio_seconds, 2)
    summary.wall_seconds = round(time.monotonic() - started, 2)
    return summary


def _identify(path: Path) -> sources.Recording:
    try:
        return sources.identify(path)
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc}); check the file's permissions") from exc
