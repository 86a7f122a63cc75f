"""Audio clips of quotes: the recording cut at the quote's first and last word (plus a pad), encoded
with the FFmpeg libraries PyAV bundles (no system ffmpeg). `heard clip`, the page's downloads and
the reports' embedded clips all come from `cut_audio`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import RecordingError, UsageError
from pipeline.evidence.spans import Recordings
from pipeline.finding.hits import parse_quote_id
from pipeline.sources.discovery import AUDIO_EXTENSIONS
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.config import Settings


@dataclass(frozen=True)
class ClipFormat:
    container: str  # FFmpeg's muxer
    codec: str
    rate: int  # samples per second encoded
    bitrate: int  # bits per second (0: uncompressed)
    media_type: str
    options: tuple[tuple[str, str], ...] = ()  # the encoder's own options


# Mono speech: 64 kbit/s is clear in mp3 and AAC; Opus is as clear at half that.
CLIP_FORMATS = {
    ".mp3": ClipFormat("mp3", "libmp3lame", 44_100, 64_000, "audio/mpeg"),
    ".m4a": ClipFormat("ipod", "aac", 44_100, 64_000, "audio/mp4"),
    ".ogg": ClipFormat("ogg", "libopus", 48_000, 32_000, "audio/ogg"),
    ".opus": ClipFormat("ogg", "libopus", 48_000, 32_000, "audio/ogg"),
    ".wav": ClipFormat("wav", "pcm_s16le", 44_100, 0, "audio/wav"),
}
# What a report embeds: Opus in WebM, which Chromium, Firefox and Safari (15 and later) play from a
# data: URL; its bit rate is evidence.report_bitrate. Encoder effort 5 of 10 and 60 ms frames took a
# 10 s clip from 0.11 s to 0.035 s of CPU (a third of the packets to mux) at the same size.
EMBEDDED = ClipFormat("webm", "libopus", 48_000, 24_000, "audio/webm", (("compression_level", "5"), ("frame_duration", "60")))
# Decoding starts this long before the clip: a seek lands on a packet boundary at or before it.
SEEK_MARGIN = 2.0


def clip_format(path: str | Path) -> ClipFormat:
    suffix = Path(path).suffix.lower()
    if suffix not in CLIP_FORMATS:
        raise UsageError(f"{path}: a clip is written as {', '.join(CLIP_FORMATS)}; end the file name with one of them")
    return CLIP_FORMATS[suffix]


@dataclass
class ClipSource:
    """Where a quote's audio is: the file and the seconds to cut, and what it is called."""

    audio: Path
    start: float
    end: float
    title: str


def no_audio_reason(transcript: Transcript, meta: dict[str, Any]) -> str | None:
    """Why the recording has no audio to cut, one line with the fix; None when its file is there."""
    source = Path(transcript.source)
    title = meta.get("title") or transcript.title
    if source.suffix.lower() not in AUDIO_EXTENSIONS:
        if meta.get("kind") == "podcast":
            return f"“{title}” is a podcast episode heard has only as its publisher's transcript ({source.name}): no audio to cut"
        return (
            f"“{title}” is an imported transcript ({source.name}) with no audio beside it: there is none to cut; put the "
            "recording next to it under the same name and run `heard ingest` again"
        )
    if not source.is_file():
        return f"the audio of “{title}” is no longer at {source}; run `heard ingest` on the folder it is in now"
    return None


def source_of(quote_id: str, recordings: Recordings, *, pad: float) -> ClipSource:
    """The audio and span of a quote id, padded; UsageError saying why when there is no audio."""
    span = parse_quote_id(quote_id)
    transcript = recordings.transcript(span.recording_id)
    if transcript is None:
        raise UsageError(
            f"{quote_id}: no recording with the id {span.recording_id} in {recordings.settings.data_dir}; "
            "copy the quote id from a search of this data dir"
        )
    reason = no_audio_reason(transcript, recordings.metadata(transcript))
    if reason:
        raise UsageError(reason)
    start = max(0.0, span.start - pad)
    end = min(span.end + pad, transcript.duration + pad) if transcript.duration else span.end + pad
    return ClipSource(Path(transcript.source), start, end, recordings.title(transcript))


def write_clip(settings: Settings, quote_id: str, output: Path, *, pad: float | None = None) -> ClipSource:
    """`heard clip`: the quote's audio written to `output` in the format its extension names."""
    found = clip_format(output)
    source = source_of(quote_id, Recordings(settings), pad=settings.evidence.clip_pad if pad is None else pad)
    data = cut_audio(source.audio, source.start, source.end, found)
    from pipeline.files import atomic_path

    try:
        with atomic_path(output) as staging:
            staging.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the clip ({exc.strerror or exc}); pick another -o") from exc
    return source


def cut_audio(path: Path, start: float, end: float, found: ClipFormat, *, bitrate: int | None = None) -> bytes:
    """The audio of `path` from `start` to `end` seconds, mono, encoded as `found` says."""
    samples = decode_span(path, start, end, rate=found.rate)
    if samples.size == 0:
        raise RecordingError(path, f"has no audio between {start:.2f} s and {end:.2f} s; run `heard ingest` to check the file")
    return encode(samples, found, bitrate=bitrate or found.bitrate)


def decode_span(path: Path, start: float, end: float, *, rate: int) -> np.ndarray:
    """Mono float32 samples at `rate` of `path` between `start` and `end` seconds, located by the
    decoded frames' own timestamps after seeking a little before `start`."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    pieces: list[np.ndarray] = []
    decoded = 0  # samples in pieces
    first: float | None = None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            if start > SEEK_MARGIN:
                container.seek(int((start - SEEK_MARGIN) * av.time_base), backward=True, any_frame=False)
            for frame in container.decode(stream):
                if first is None:
                    first = float(frame.time) if frame.time is not None else 0.0
                frame.pts = None  # the resampler counts samples from the first frame on
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
                    decoded += len(pieces[-1])
                if first + decoded / rate >= end:
                    break
            pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except (av.FFmpegError, IndexError) as exc:
        raise RecordingError(path, f"cannot cut a clip from it ({exc}); run `heard ingest` to check the file") from exc
    joined = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    offset = first or 0.0
    return joined[max(0, round((start - offset) * rate)) : max(0, round((end - offset) * rate))]


def encode(samples: np.ndarray, found: ClipFormat, *, bitrate: int) -> bytes:
    """`samples` (mono float32 at found.rate) as a file in `found`'s container and codec."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=found.container) as container:
        stream: Any = container.add_stream(found.codec, rate=found.rate, options=dict(found.options))  # typed per kind
        stream.layout = "mono"
        if bitrate:
            stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = found.rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
