"""Where transcription runs when it is not ingest's own loop: on several threads, or fanned out on
a Ray cluster.

Ingest submits every recording that needs Whisper up front and then takes the transcripts back in
order; it chunks, embeds and writes each one while the executor works on the next ones. So with
`workers: 2` one file is transcribed while the previous one is embedded, or two files transcribe at
once with the CPU threads split between them. With Ray, workers transcribe and only the driver
writes transcripts and the index.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from pipeline.config import TranscribeSettings
from pipeline.errors import ConfigError, RecordingError
from pipeline.hearing import transcribe
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Transcript


class Pending(Protocol):
    def result(self) -> Transcript:
        """The transcript, or raises RecordingError."""


class Executor(Protocol):
    def submit(self, recording: Recording) -> Pending: ...

    def close(self) -> None: ...


def make_executor(settings: TranscribeSettings) -> Executor:
    """Threads on this machine for workers > 1, or Ray (settings are checked when loaded: config.py)."""
    return RayExecutor(settings) if settings.executor == "ray" else ThreadExecutor(settings)


def split_threads(settings: TranscribeSettings, workers: int) -> TranscribeSettings:
    """Each worker's share of the CPU threads (transcribe.threads, or all cores when 0)."""
    total = settings.threads or os.cpu_count() or 1
    return dataclasses.replace(settings, threads=max(1, total // workers))


class ThreadExecutor:
    """`workers` threads, each with its own model; CTranslate2 releases the GIL while it decodes."""

    def __init__(self, settings: TranscribeSettings):
        self._settings = split_threads(settings, settings.workers)
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="transcribe")

    def _run(self, recording: Recording) -> Transcript:
        if not hasattr(self._local, "transcriber"):
            self._local.transcriber = transcribe.make_transcriber(self._settings)
        return transcribe.transcribe_recording(recording, self._local.transcriber)

    def submit(self, recording: Recording) -> Future:
        return self._pool.submit(self._run, recording)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _transcribe_bytes(data: bytes, recording: Recording, settings: TranscribeSettings):
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
    def __init__(self, ref, recording: Recording):
        self._ref, self._recording = ref, recording

    def result(self) -> Transcript:
        import ray

        try:
            transcript, reason = ray.get(self._ref)
        except ray.exceptions.RayError as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RecordingError(self._recording.path, f"Ray worker failed ({first_line})") from exc
        if reason is not None:
            raise RecordingError(self._recording.path, reason)
        transcript.source = str(self._recording.path)
        return transcript


class RayExecutor:
    """Each recording is one Ray task with `transcribe.threads` CPUs (one GPU when device is cuda).

    transcribe.address is the cluster (`ray://head:10001` or `head:6379`); None starts Ray on this
    machine. Workers need heard installed (or on PYTHONPATH); recordings are sent to them as bytes.
    """

    def __init__(self, settings: TranscribeSettings):
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
        self._remote = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=2)(_transcribe_bytes)

    def submit(self, recording: Recording) -> Pending:
        data = Path(recording.path).read_bytes()
        return _RayPending(self._remote.remote(data, recording, self._settings), recording)

    def close(self) -> None:
        import ray

        if self._started:
            ray.shutdown()
