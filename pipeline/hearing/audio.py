"""Decode any audio or video container to 16 kHz mono float32 with PyAV (no system ffmpeg)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import RecordingError

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer

SAMPLE_RATE = 16_000
# Below this peak level (about -60 dBFS) a recording holds nothing Whisper could transcribe.
SILENCE_PEAK = 0.001
# A file that decodes this much shorter than its header announces was cut off (a copy that stopped,
# a download that broke): the first 3 KB of a 42 s mp3 decode to 0.6 s and used to be indexed as a
# success. The slack covers encoder padding and rounding in headers that give an exact length.
TRUNCATION_SLACK_SECONDS = 1.0
TRUNCATION_SLACK_SHARE = 0.02


def decode_audio(path: str | Path, *, stereo: bool = False) -> np.ndarray:
    """The recording's first audio track as 16 kHz mono float32 samples in [-1, 1].

    With stereo=True a two-channel track comes back as (2, samples), left and right, so speakers
    recorded on separate channels can be told apart; any other track is still mono (1-D).
    Raises RecordingError with a one-line reason for empty, corrupt, non-audio or silent files.
    """
    import av

    path = Path(path)
    if path.stat().st_size == 0:
        raise RecordingError(path, "empty file (0 bytes); replace it with the full recording")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise RecordingError(path, f"not a readable audio or video file ({_reason(exc)})") from exc
    pieces = _Blocks()
    with container:
        if not container.streams.audio:
            raise RecordingError(path, "has no audio track")
        stream = container.streams.audio[0]
        announced = _announced_seconds(path, container, stream)
        two = stereo and stream.codec_context.channels == 2
        resampler = av.AudioResampler(format="flt", layout="stereo" if two else "mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler ignore gaps in damaged timestamps
                for out in resampler.resample(frame):
                    pieces.add(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.add(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise RecordingError(path, f"corrupt audio data ({_reason(exc)}); re-export or re-download it") from exc
    samples = pieces.join()
    if two:  # packed frames interleave left and right: a (2, samples) view, no copy
        samples = samples.reshape(-1, 2).T
    decoded = samples.shape[-1] / SAMPLE_RATE
    if announced and announced - decoded > max(TRUNCATION_SLACK_SECONDS, TRUNCATION_SLACK_SHARE * announced):
        raise RecordingError(
            path, f"truncated: decoded {decoded:.1f} s of the {announced:.1f} s its header announces; copy the whole file again"
        )
    if samples.size < SAMPLE_RATE // 10:
        raise RecordingError(path, "contains no audio (under 0.1 s decoded)")
    peak = max(float(samples.max()), -float(samples.min()))  # np.abs would copy all the audio
    if peak < SILENCE_PEAK:
        db = 20 * np.log10(peak) if peak > 0 else float("-inf")
        raise RecordingError(path, f"silent (peak {db:.0f} dBFS): nothing to transcribe")
    return samples


def probe_seconds(path: str | Path) -> float:
    """The recording's length from its container, without decoding it; RecordingError if it is not audio."""
    import av

    path = Path(path)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise RecordingError(path, "has no audio track")
            if container.duration:
                return container.duration / av.time_base
            stream = container.streams.audio[0]
            return float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    except av.FFmpegError as exc:
        raise RecordingError(path, f"not a readable audio or video file ({_reason(exc)})") from exc


class _Blocks:
    """Decoded samples copied into blocks of 64 MB as they come, then joined into one array.

    Keeping each frame's array instead would keep its FFmpeg buffer alive (padded, with per-object
    overhead): 2 hours decoded that way peaked at 1.4 GB for 440 MB of samples. Blocks this large
    are their own memory mappings, so freeing one as it is joined returns it to the system: the
    peak stays near the audio's own size.
    """

    SIZE = 1 << 24  # samples per block: 64 MB, above glibc's largest mmap threshold (32 MB)

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.current = np.empty(self.SIZE, dtype=np.float32)
        self.used = 0

    def add(self, samples: np.ndarray) -> None:
        while len(samples):
            take = min(len(samples), self.SIZE - self.used)
            self.current[self.used : self.used + take] = samples[:take]
            self.used += take
            samples = samples[take:]
            if self.used == self.SIZE:
                self.blocks.append(self.current)
                self.current, self.used = np.empty(self.SIZE, dtype=np.float32), 0

    def join(self) -> np.ndarray:
        self.blocks.append(self.current[: self.used])
        samples = np.empty(sum(len(b) for b in self.blocks), dtype=np.float32)
        at = 0
        self.blocks.reverse()
        while self.blocks:
            block = self.blocks.pop()
            samples[at : at + len(block)] = block
            at += len(block)
            del block
        self.current = np.empty(0, dtype=np.float32)  # the last block's memory goes back now
        return samples


def _announced_seconds(path: Path, container: InputContainer, stream: AudioStream) -> float | None:
    """The length the file's header gives its audio, when that is a count rather than a guess:
    FFmpeg guesses a raw mp3's length from its bitrate unless a Xing/Info/VBRI header counts the
    frames, and always guesses raw ADTS AAC's, so those are not compared."""
    name = container.format.name
    if name == "aac":
        return None
    if name == "mp3":
        with open(path, "rb") as handle:
            head = handle.read(16384)
        if not any(tag in head for tag in (b"Xing", b"Info", b"VBRI")):
            return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return container.duration / 1_000_000 if container.duration else None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
