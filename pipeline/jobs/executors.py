"""Where transcription runs: on `workers` threads of this process, or fanned out on a Ray cluster.

Ingest submits the next recordings that need Whisper a few ahead of its loop and takes the
transcripts back in order; it diarizes, chunks, embeds and writes each one while the executor works
on the next ones. So a folder's ingest is paced by Whisper: with one worker the next file is
transcribed while the previous one is diarized and indexed, with two, two files transcribe at once
with the cores divided between them (pipeline/threads.py). A local worker hands back the decoded
samples with the transcript, so diarization does not decode the file again. With Ray, workers
transcribe and only the driver writes transcripts and the index.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from pipeline.config import TranscribeSettings
from pipeline.errors import ConfigError, RecordingError
from pipeline.hearing import audio, transcribe
from pipeline.hearing.speakers.diarize import speech_windows, split_stereo
from pipeline.hearing.speakers.segmentation import Window
from pipeline.hearing.transcribe import Progress
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from ray import ObjectRef

# What a Ray task hands back: the transcript, or the reason it failed (plain values cross processes).
_TaskResult = tuple[Transcript | None, str | None]


@dataclasses.dataclass
class Heard:
    """What Whisper made of a recording, and its decoded audio when at hand (local workers): the mono
    samples Whisper was given, and the two channels when each holds one person (for the diarizer)."""

    transcript: Transcript
    samples: np.ndarray | None = None
    channels: np.ndarray | None = None
    windows: list[Window] | None = None  # the speaker model's, when it ran with Whisper


class Pending(Protocol):
    def wait(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds; whether result() would now return without waiting."""

    def result(self) -> Heard:
        """The transcript, or raises RecordingError."""


class Executor(Protocol):
    ahead: int  # recordings the ingest loop keeps submitted beyond the one it waits for

    def submit(self, recording: Recording, on_progress: Progress | None = None) -> Pending: ...

    def close(self) -> None: ...


def make_executor(settings: TranscribeSettings, *, speech: bool = False) -> Executor:
    """Threads on this machine, or Ray (settings are checked when loaded: config.py). `speech`: local
    workers also run the speaker model's segmentation, so Whisper listens again wherever it hears
    someone (hearing/speech.py) and the diarizer reuses its windows."""
    return RayExecutor(settings) if settings.executor == "ray" else ThreadExecutor(settings, speech=speech)


class _FuturePending:
    def __init__(self, future: Future[Heard]) -> None:
        self._future = future

    def wait(self, timeout: float) -> bool:
        return bool(futures.wait([self._future], timeout=timeout).done)

    def result(self) -> Heard:
        return self._future.result()


class ThreadExecutor:
    """`workers` threads, each with its own model; CTranslate2 releases the GIL while it decodes, so
    the ingest loop diarizes and indexes on the main thread meanwhile."""

    def __init__(self, settings: TranscribeSettings, *, speech: bool = False) -> None:
        self._settings = settings  # each worker's threads: threads.transcribe_threads(settings)
        self._speech = speech
        # One per worker and no more: each finished one holds its decoded samples until the loop
        # has diarized it, so memory stays at (workers + 1) recordings' audio.
        self.ahead = settings.workers
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="transcribe")

    def _run(self, recording: Recording, on_progress: Progress | None) -> Heard:
        if not hasattr(self._local, "transcriber"):
            self._local.transcriber = transcribe.make_transcriber(self._settings)
        samples, channels = split_stereo(audio.decode_audio(recording.path, stereo=True))
        windows = speech_windows(samples) if self._speech else None
        transcript = transcribe.transcribe_recording(
            recording,
            self._local.transcriber,
            samples=samples,
            on_progress=on_progress,
            speech=None if windows is None else lambda _: windows,
            rehear=self._settings.rehear,
        )
        return Heard(transcript, samples, channels, windows)

    def submit(self, recording: Recording, on_progress: Progress | None = None) -> Pending:
        return _FuturePending(self._pool.submit(self._run, recording, on_progress))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _transcribe_bytes(data: bytes, recording: Recording, settings: TranscribeSettings) -> _TaskResult:
    """Runs on a Ray worker: the file travels as bytes, so workers need no shared file system."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="heard-") as folder:
        local = Path(folder) / Path(recording.path).name  # the name gives the title
        local.write_bytes(data)
        try:
            transcript = transcribe.transcribe_recording(
                dataclasses.replace(recording, path=local), _worker_transcriber(settings)
            )
        except RecordingError as exc:
            # Plain values cross the process boundary; the driver raises with the original path.
            return None, exc.reason
    return transcript, None


_WORKER_MODELS: dict[str, transcribe.Transcriber] = {}


def _worker_transcriber(settings: TranscribeSettings) -> transcribe.Transcriber:
    # A Ray worker process runs many tasks: load the model once per process, not per file.
    key = repr(settings)
    if key not in _WORKER_MODELS:
        _WORKER_MODELS[key] = transcribe.make_transcriber(settings)
    return _WORKER_MODELS[key]


class _RayPending:
    def __init__(self, ref: ObjectRef[_TaskResult], recording: Recording) -> None:
        self._ref, self._recording = ref, recording

    def wait(self, timeout: float) -> bool:
        import ray

        ready, _ = ray.wait([self._ref], timeout=timeout)
        return bool(ready)

    def result(self) -> Heard:
        import ray

        try:
            transcript, reason = ray.get(self._ref)
        except ray.exceptions.RayError as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RecordingError(self._recording.path, f"Ray worker failed ({first_line})") from exc
        if reason is not None or transcript is None:  # _transcribe_bytes gives one or the other
            raise RecordingError(self._recording.path, reason or "the Ray task returned no transcript")
        transcript.source = str(self._recording.path)
        return Heard(transcript)  # the driver decodes the audio itself if it diarizes


class RayExecutor:
    """Each recording is one Ray task with `transcribe.threads` CPUs (one GPU when device is cuda).

    transcribe.address is the cluster (`ray://head:10001` or `head:6379`); None starts Ray on this
    machine. Workers need heard installed (or on PYTHONPATH); recordings are sent to them as bytes.
    """

    def __init__(self, settings: TranscribeSettings) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("transcribe.executor 'ray' needs Ray; run: pip install 'heard[ray]'") from exc
        self._settings = settings
        # Shut down at the end only a Ray this run started, never one the caller had running.
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=settings.address, log_to_driver=False, logging_level=logging.ERROR)
            except Exception as exc:  # connection errors differ by Ray version and address form
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(
                    f"transcribe.address '{settings.address}': cannot connect to Ray ({first_line}); "
                    "is the cluster up (`ray start --head`)?"
                ) from exc
        cpus = settings.threads or 1
        gpus = 1 if settings.device == "cuda" else 0
        # A task's Whisper takes the CPUs Ray reserved for it, whatever the worker machine has.
        self._settings = dataclasses.replace(settings, threads=cpus, workers=1)
        # The cluster decides how many run at once; the loop keeps this many (files' bytes, in Ray's
        # object store) submitted ahead.
        self.ahead = max(settings.workers, 32)
        self._remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=2)(_transcribe_bytes)

    def submit(self, recording: Recording, on_progress: Progress | None = None) -> Pending:
        data = Path(recording.path).read_bytes()
        return _RayPending(self._remote.remote(data, recording, self._settings), recording)

    def close(self) -> None:
        import ray

        if self._started:
            ray.shutdown()
