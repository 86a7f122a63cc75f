"""Step 2 of ingesting a file: its transcript (saved, imported, or Whisper's) and its speakers.

With workers > 1 or Ray, the recordings that need Whisper are submitted to an executor before the
loop starts, so it works ahead: several files at once, or the next ones while the loop embeds and
writes the previous one (pipeline/jobs/executors.py). Otherwise each is transcribed in the loop,
with its progress bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import transcripts
from pipeline.crash import crash_point
from pipeline.errors import RecordingError
from pipeline.hearing import transcribe
from pipeline.hearing.speakers.diarize import ensure_diarized
from pipeline.jobs.catalog import FAILED, INDEXED, MISSING
from pipeline.jobs.changes import identify
from pipeline.jobs.executors import Executor, Pending
from pipeline.jobs.run_state import RunState, storage_error
from pipeline.sources import importers
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Transcript


class Transcription:
    def __init__(self, state: RunState):
        self.state = state
        self._transcriber = transcribe.make_transcriber(state.settings.transcribe)  # validates; loads lazily
        self._executor: Executor | None = None
        self._pending: dict[str, Pending] = {}

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()

    def obtain(self, recording: Recording) -> tuple[Transcript, bool]:
        """The saved transcript, or a new one when there is none (or --retranscribe asks for it);
        True when it is new."""
        state = self.state
        folder = state.settings.transcripts_dir
        transcript = transcripts.load_if_exists(folder, recording.id)
        other_model = transcript is not None and transcript.transcriber != state.wanted and not importers.is_imported(transcript)
        if transcript is not None and not (state.options.retranscribe and other_model):
            if other_model:
                state.summary.stale += 1
            if transcript.source != str(recording.path):
                transcript.source = str(recording.path)
                self._save(transcript)
            return transcript, False
        pending = self._pending.pop(recording.id, None)
        if pending is not None:
            transcript = pending.result()
        elif recording.transcript is not None:
            transcript = importers.import_transcript(
                recording.transcript,
                recording_id=recording.id,
                sha256=recording.sha256,
                source=recording.path,
                title=recording.title,
            )
        else:
            transcript = transcribe.transcribe_recording(recording, self._transcriber, on_progress=self._progress)
        self._save(transcript)
        crash_point("transcript-saved")
        if not importers.is_imported(transcript):
            state.summary.transcribed += 1
            state.summary.audio_seconds += transcript.duration
        return transcript, True

    def submit_ahead(self, files: list[Path]) -> None:
        """Hand the executor every recording that will need Whisper (workers > 1 or Ray only)."""
        state = self.state
        ts = state.settings.transcribe
        if ts.executor == "local" and ts.workers == 1:
            return
        from pipeline.jobs.executors import make_executor

        for path in files:
            entry = state.catalog.get(str(path))
            try:
                stat = path.stat()
                if entry and entry.same_file(stat.st_size, stat.st_mtime_ns):
                    redo = state.options.retranscribe and entry.transcriber != state.wanted
                    if entry.status in (INDEXED, MISSING) and not redo:
                        continue
                    if entry.status == FAILED and not state.retry_due(entry):
                        continue
                recording = identify(path, entry, stat)
            except (OSError, RecordingError):
                continue  # the loop reports it
            if recording.transcript is not None:
                continue  # imported from its transcript file, no Whisper
            saved = transcripts.load_if_exists(state.settings.transcripts_dir, recording.id)
            if saved is not None and not (state.options.retranscribe and saved.transcriber != state.wanted):
                continue
            if recording.id not in self._pending:
                if self._executor is None:
                    self._executor = make_executor(ts)
                self._pending[recording.id] = self._executor.submit(recording)

    def find_speakers(self, recording: Recording, transcript: Transcript, meta: dict[str, Any]) -> bool:
        """Diarize unless done (with the same requested count); True if the speakers changed."""
        speakers = self.state.settings.speakers
        if not speakers.diarize:
            return False
        count = meta.get("num_speakers") or speakers.count
        audio = recording.path if recording.has_audio else None
        if not ensure_diarized(transcript, audio, num_speakers=count, threads=speakers.threads):
            return False
        if transcript.diarization and transcript.diarization.get("confident") is False:
            self.state.summary.speakers_unsure += 1
        self._save(transcript)
        return True

    def _save(self, transcript: Transcript) -> None:
        try:
            transcripts.save(transcript, self.state.settings.transcripts_dir)
        except OSError as exc:
            raise storage_error(exc, self.state.settings.transcripts_dir) from exc

    def _progress(self, done: float, total: float) -> None:
        self.state.reporter.progress(done, total)
        if done > 0:
            crash_point("transcribing")
