"""Step 2 of ingesting a file: its transcript (saved, imported, or Whisper's) and its speakers.

Whisper runs on the executor's threads (pipeline/jobs/executors.py), a recording or two ahead of
the ingest loop: `look_ahead` submits the next recordings that need it, so while Whisper transcribes
recording N+1 the loop diarizes, chunks, embeds and writes recording N. The worker hands back the
decoded samples with the transcript and diarization uses them: each recording is decoded once.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import threads, transcripts
from pipeline.crash import crash_point
from pipeline.errors import RecordingError
from pipeline.files import JsonObject
from pipeline.hearing import transcribe
from pipeline.hearing.speakers.diarize import ensure_diarized
from pipeline.jobs.catalog import FAILED, INDEXED, MISSING
from pipeline.jobs.changes import identify, other_transcription
from pipeline.jobs.executors import Executor, Heard, Pending
from pipeline.jobs.run_state import RunState, storage_error
from pipeline.sources import importers
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Transcript

# How often the loop, waiting for Whisper, shows the worker's progress (seconds); it wakes at once
# when the transcript is done.
PROGRESS_INTERVAL = 0.2


class _Progress:
    """Seconds of audio done, written by the worker thread, read by the loop while it waits."""

    def __init__(self) -> None:
        self.done, self.total = 0.0, 0.0

    def __call__(self, done: float, total: float) -> None:
        self.done, self.total = done, total
        if done > 0:
            crash_point("transcribing")


class Transcription:
    def __init__(self, state: RunState) -> None:
        self.state = state
        self._transcriber = transcribe.make_transcriber(state.settings.transcribe)  # validates; loads lazily
        self._executor: Executor | None = None
        self._pending: dict[Path, tuple[Pending, _Progress]] = {}
        self._submitted: set[str] = set()  # recording ids: a copy of the same content is transcribed once
        self._identified: dict[Path, Recording] = {}  # hashed while looking ahead, not hashed again
        self._files: list[Path] = []
        self._next = 0  # the first file look_ahead has not considered yet

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()

    def plan(self, files: list[Path]) -> None:
        """The run's files, in the order the loop will take them."""
        self._files, self._next = files, 0

    def look_ahead(self, position: int) -> None:
        """Submit the file at `position` and the next ones that need Whisper, up to the executor's
        `ahead` beyond the one the loop is at."""
        while self._next < len(self._files) and (self._next <= position or len(self._pending) <= self._ahead()):
            path = self._files[self._next]
            self._next += 1
            recording = self._needs_whisper(path)
            if recording is not None and recording.id not in self._submitted:
                self._submit(path, recording)

    def ready(self, path: Path) -> bool:
        """Whether obtaining this file's transcript would not wait for Whisper."""
        pending = self._pending.get(path)
        return pending is None or pending[0].wait(0)

    def forget(self, path: Path) -> None:
        """The loop is done with `path`: a transcription it did not use is dropped."""
        self._pending.pop(path, None)
        self._identified.pop(path, None)

    def identified(self, path: Path) -> Recording | None:
        """The Recording look_ahead made for `path`, if it hashed it."""
        return self._identified.get(path)

    def obtain(self, recording: Recording) -> tuple[Transcript, bool, Heard | None]:
        """The saved transcript, or a new one when there is none (or --retranscribe asks for it);
        True when it is new; and what Whisper heard, decoded audio included, when it made it here."""
        state = self.state
        folder = state.settings.transcripts_dir
        path = Path(recording.path)
        transcript = transcripts.load_if_exists(folder, recording.id)
        other_model = transcript is not None and other_transcription(state, transcript.transcriber)
        if transcript is not None and not (state.options.retranscribe and other_model):
            self._pending.pop(path, None)
            if other_model:
                state.summary.stale += 1
            if transcript.source != str(recording.path):
                transcript.source = str(recording.path)
                self._save(transcript)
            return transcript, False, None
        heard: Heard | None = None
        if path not in self._pending and recording.transcript is not None:
            transcript = importers.import_transcript(
                recording.transcript,
                recording_id=recording.id,
                sha256=recording.sha256,
                source=recording.path,
                title=recording.title,
            )
        else:
            if path not in self._pending:
                self._submit(path, recording)
            heard = self._wait(*self._pending.pop(path))
            transcript = heard.transcript
            transcript.source = str(recording.path)
        self._save(transcript)
        crash_point("transcript-saved")
        if not importers.is_imported(transcript):
            state.summary.transcribed += 1
            state.summary.audio_seconds += transcript.duration
        return transcript, True, heard

    def find_speakers(self, recording: Recording, transcript: Transcript, meta: JsonObject, heard: Heard | None = None) -> bool:
        """Diarize unless done (with the same requested count); True if the speakers changed.
        `heard`: the audio decoded for Whisper, if at hand; else it is decoded only if needed."""
        speakers = self.state.settings.speakers
        if not speakers.diarize:
            return False
        count = meta.get("num_speakers") or speakers.count
        if not ensure_diarized(
            transcript,
            recording.path if recording.has_audio else None,
            num_speakers=count,
            threads=threads.speaker_threads(speakers),
            samples=heard.samples if heard and recording.has_audio else None,
            channels=heard.channels if heard else None,
            windows=heard.windows if heard and recording.has_audio else None,
        ):
            return False
        if transcript.diarization and transcript.diarization.get("confident") is False:
            self.state.summary.speakers_unsure += 1
        self._save(transcript)
        return True

    def _needs_whisper(self, path: Path) -> Recording | None:
        """The Recording if this file will need Whisper this run (hashing it if needed), else None."""
        state = self.state
        entry = state.catalog.get(str(path))
        try:
            stat = path.stat()
            if entry and entry.same_file(stat.st_size, stat.st_mtime_ns):
                redo = state.options.retranscribe and other_transcription(state, entry.transcriber)
                if entry.status in (INDEXED, MISSING) and not redo:
                    return None
                if entry.status == FAILED and not state.retry_due(entry):
                    return None
            recording = identify(path, entry, stat)
        except (OSError, RecordingError):
            return None  # the loop reports it
        self._identified[path] = recording
        if recording.transcript is not None:
            return None  # imported from its transcript file, no Whisper
        saved = transcripts.load_if_exists(state.settings.transcripts_dir, recording.id)
        if saved is not None and not (state.options.retranscribe and other_transcription(state, saved.transcriber)):
            return None
        return recording

    def _ahead(self) -> int:
        if self._executor is None:
            from pipeline.jobs.executors import make_executor

            settings = self.state.settings
            self._executor = make_executor(settings.transcribe, speech=settings.speakers.diarize)
        return self._executor.ahead

    def _submit(self, path: Path, recording: Recording) -> None:
        self._ahead()  # the executor exists
        assert self._executor is not None
        progress = _Progress()
        self._pending[path] = (self._executor.submit(recording, on_progress=progress), progress)
        self._submitted.add(recording.id)

    def _wait(self, pending: Pending, progress: _Progress) -> Heard:
        while not pending.wait(PROGRESS_INTERVAL):
            if progress.total:
                self.state.reporter.progress(progress.done, progress.total)
        return pending.result()

    def _save(self, transcript: Transcript) -> None:
        try:
            transcripts.save(transcript, self.state.settings.transcripts_dir)
        except OSError as exc:
            raise storage_error(exc, self.state.settings.transcripts_dir) from exc
