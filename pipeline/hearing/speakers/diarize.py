"""Who spoke when: speech regions, a voice vector per 1.6 s window, clustered into speakers.

Silero VAD (shipped with faster-whisper) finds speech; resemblyzer's speaker encoder (weights shipped
in its wheel, encoder.py) embeds 1.6 s windows of it; clustering.py groups the windows into 1-6
speakers unless the count is given; each 10 ms of speech takes the label of the nearest window, and
assign.py gives each word its speaker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError, HeardError, RecordingError
from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.hearing.speakers.clustering import MAX_SPEAKERS, cluster
from pipeline.hearing.speakers.encoder import VoiceEncoder, shared_encoder
from pipeline.hearing.speakers.features import HOP, SAMPLE_RATE, mel_frames
from pipeline.transcripts import Transcript

WINDOW_FRAMES = 160  # 1.6 s windows, the encoder's training length
STEP_FRAMES = 40  # a window every 0.4 s
MAX_WINDOWS = 4000  # about 27 minutes of speech at that step; longer recordings get a longer step
MIN_WINDOW_FRAMES = 50  # shorter speech regions are still embedded, as one shorter window
MIN_TURN_SECONDS = 0.3  # shorter label flips inside speech are smoothed away
MAX_PAUSE_SECONDS = 1.0  # one speaker's silences shorter than this stay inside the turn
METHOD = "vad+resemblyzer+agglomerative/1"


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) in mel frames of speech, from the Silero VAD that faster-whisper ships."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Far shorter silences than Whisper's default (2 s) split regions, so even a quick reply (0.15 s
    # gap) starts a region of its own and no window straddles the two voices.
    options = VadOptions(min_silence_duration_ms=100, speech_pad_ms=60, min_speech_duration_ms=150)
    return [(s["start"] // HOP, s["end"] // HOP) for s in get_speech_timestamps(samples, options)]


def diarize(samples: np.ndarray, *, num_speakers: int | None = None, encoder: VoiceEncoder | None = None) -> list[SpeakerTurn]:
    """Speaker turns of 16 kHz mono audio, speakers named S1, S2, ... in order of first speech."""
    if num_speakers is not None and not 1 <= num_speakers <= MAX_SPEAKERS:
        raise ConfigError(f"number of speakers must be 1 to {MAX_SPEAKERS}, got {num_speakers}")
    regions = speech_regions(samples)
    if not regions:
        return []
    mels = mel_frames(samples)
    centers, vectors = _window_embeddings(mels, regions, encoder or shared_encoder())
    labels = cluster(vectors, centers, num_speakers, window_step_seconds=STEP_FRAMES * HOP / SAMPLE_RATE)

    frame_labels = np.full(len(mels), -1)
    centers = np.asarray(centers)
    for start, end in regions:
        frames = np.arange(start, min(end, len(mels)))
        # The nearest window centre of each frame: the one at or after it, or the one before.
        after = np.clip(np.searchsorted(centers, frames), 0, len(centers) - 1)
        before = np.clip(after - 1, 0, len(centers) - 1)
        nearest = np.where(np.abs(centers[before] - frames) <= np.abs(centers[after] - frames), before, after)
        frame_labels[frames] = labels[nearest]
    return _turns(frame_labels)


def _window_embeddings(mels: np.ndarray, regions: list[tuple[int, int]], encoder: VoiceEncoder):
    full, full_centers, short = [], [], []
    # Long recordings get sparser windows, so clustering (quadratic in windows) stays affordable.
    speech = sum(min(end, len(mels)) - start for start, end in regions)
    step = max(STEP_FRAMES, speech // MAX_WINDOWS)
    for start, end in regions:
        end = min(end, len(mels))
        length = end - start
        if length >= WINDOW_FRAMES:
            starts = list(range(start, end - WINDOW_FRAMES + 1, step))
            if starts[-1] != end - WINDOW_FRAMES:
                starts.append(end - WINDOW_FRAMES)
            for s in starts:
                full.append(mels[s : s + WINDOW_FRAMES])
                full_centers.append(s + WINDOW_FRAMES // 2)
        elif length >= MIN_WINDOW_FRAMES:
            short.append((start, end))
        else:
            # Too short to judge a voice alone: judged with its surroundings.
            middle = (start + end) // 2
            lo = max(0, min(middle - MIN_WINDOW_FRAMES // 2, len(mels) - MIN_WINDOW_FRAMES))
            short.append((lo, lo + MIN_WINDOW_FRAMES))
    centers, vectors = [], []
    if full:
        vectors.append(encoder.embed(np.stack(full)))
        centers += full_centers
    for start, end in short:
        vectors.append(encoder.embed(mels[None, start:end]))
        centers.append((start + end) // 2)
    order = np.argsort(centers, kind="stable")
    return [centers[i] for i in order], np.concatenate(vectors)[order]


def _turns(frame_labels: np.ndarray) -> list[SpeakerTurn]:
    """Runs of one label -> turns; flips shorter than MIN_TURN_SECONDS inside speech are absorbed."""
    runs: list[list[int]] = []  # [label, start frame, end frame]
    for i, label in enumerate(frame_labels.tolist()):
        if runs and runs[-1][0] == label and runs[-1][2] == i:
            runs[-1][2] = i + 1
        else:
            runs.append([label, i, i + 1])
    min_frames = MIN_TURN_SECONDS * SAMPLE_RATE / HOP
    speech = [r for r in runs if r[0] >= 0]
    for i, run in enumerate(speech):
        if run[2] - run[1] < min_frames and 0 < i < len(speech) - 1:
            before, after = speech[i - 1], speech[i + 1]
            if before[0] == after[0] and before[2] == run[1] and after[1] == run[2]:
                run[0] = before[0]
    turns: list[SpeakerTurn] = []
    for label, start, end in speech:
        name = f"S{label + 1}"
        # A pause between two sentences of one speaker is part of the turn.
        if turns and turns[-1].speaker == name and start * HOP / SAMPLE_RATE - turns[-1].end < MAX_PAUSE_SECONDS:
            turns[-1].end = end * HOP / SAMPLE_RATE
        else:
            turns.append(SpeakerTurn(start * HOP / SAMPLE_RATE, end * HOP / SAMPLE_RATE, name))
    return [SpeakerTurn(round(t.start, 3), round(t.end, 3), t.speaker) for t in turns]


def ensure_diarized(
    transcript: Transcript, load_samples: Callable[[], np.ndarray] | None, *, num_speakers: int | None, threads: int
) -> bool:
    """Diarize the transcript's audio unless done with the same requested count; True if it changed.

    `load_samples` gives the recording's decoded audio (None: there is no audio); it is called only
    when diarization is due, so ingest hands over the samples Whisper was given, decoded once.
    Transcripts whose text came with speaker names (imports) keep them. The words are never
    re-transcribed.
    """
    if any(s.speaker for s in transcript.segments) and (transcript.diarization or {}).get("method") in (None, "transcript"):
        if transcript.diarization is None:
            transcript.diarization = {"method": "transcript"}
            return True
        return False
    done = transcript.diarization or {}
    if done.get("method") == METHOD and done.get("num_speakers") == num_speakers:
        return False
    if load_samples is None:
        if done.get("method") == "none":
            return False
        transcript.diarization = {"method": "none", "reason": "no audio"}
        return True
    samples = load_samples()
    started = time.monotonic()
    try:
        turns = diarize(samples, num_speakers=num_speakers, encoder=shared_encoder(threads))
    except HeardError:
        raise
    except Exception as exc:  # odd audio must not stop the other recordings; the transcript is kept
        raise RecordingError(Path(transcript.source), f"finding speakers failed ({type(exc).__name__}: {exc})") from exc
    for segment in transcript.segments:
        segment.speaker = None
    assign(transcript, turns)
    transcript.diarization = {
        "method": METHOD,
        "num_speakers": num_speakers,
        "speakers": len({t.speaker for t in turns}),
        "seconds": round(time.monotonic() - started, 3),
    }
    return True
