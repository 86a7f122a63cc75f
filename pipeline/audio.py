"""Decode any audio or video container to 16 kHz mono float32 with PyAV (no system ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import RecordingError

SAMPLE_RATE = 16_000
# Below this peak level (about -60 dBFS) a recording holds nothing Whisper could transcribe.
SILENCE_PEAK = 0.001


def decode_audio(path: str | Path) -> np.ndarray:
    """The recording's first audio track as 16 kHz mono float32 samples in [-1, 1].

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
    pieces: list[np.ndarray] = []
    with container:
        if not container.streams.audio:
            raise RecordingError(path, "has no audio track")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler ignore gaps in damaged timestamps
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise RecordingError(path, f"corrupt audio data ({_reason(exc)}); re-export or re-download it") from exc
    samples = _join(pieces)
    if samples.size < SAMPLE_RATE // 10:
        raise RecordingError(path, "contains no audio (under 0.1 s decoded)")
    peak = float(np.max(np.abs(samples)))
    if peak < SILENCE_PEAK:
        db = 20 * np.log10(peak) if peak > 0 else float("-inf")
        raise RecordingError(path, f"silent (peak {db:.0f} dBFS): nothing to transcribe")
    return samples


def _join(pieces: list[np.ndarray]) -> np.ndarray:
    """One array from many frames, freeing each frame as it is copied: peak memory stays near the
    audio's own size instead of twice it (460 MB for 2 hours, not 920)."""
    samples = np.empty(sum(len(p) for p in pieces), dtype=np.float32)
    at = 0
    pieces.reverse()
    while pieces:
        piece = pieces.pop()
        samples[at:at + len(piece)] = piece
        at += len(piece)
    return samples


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
