"""Who spoke when: pyannote segmentation-3.0 finds up to three voices in each 10 s window
(segmentation.py), CAM++ gives each of them a voice vector (encoder.py), clustering.py joins them
across windows into speakers, relisten.py hears again the runs of a voice that pauses (it may hold
two people), and assign.py gives each word its speaker.

Measured on real recordings with references (scripts/bench_speakers.py, docs/benchmarks.md
"Speakers"): DER 0.18 on the dev clips and 0.48 on the held-back ones (30 s each); on 5-60 min
conversations of held-back people 0.06-0.07 at every length, with the right speaker count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.errors import HeardError, RecordingError
from pipeline.files import JsonObject
from pipeline.hearing.speakers import clustering, relisten
from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.hearing.speakers.networks import SpeakerModels as _Models
from pipeline.hearing.speakers.networks import shared_models
from pipeline.hearing.speakers.pieces import PIECE_SECONDS, Pieces, embedded_pieces, runs, speaker_spans
from pipeline.hearing.speakers.segmentation import FRAME_STEP, SAMPLE_RATE, Window, frame_seconds
from pipeline.transcripts import Transcript

# /2: clusters consolidated (clustering.py); /3: slots split at their pauses (relisten.py)
METHOD = "segmentation-3.0+campplus+agglomerative/3"
CHANNELS_METHOD = "channels+segmentation-3.0+campplus/2"  # /2: echo left out (_echo)
# One speaker's pauses shorter than this stay inside the turn (a breath between two sentences):
# dev clips DER 0.183 against 0.186 without, and turns as people (and the examples' truth) count them.
MAX_PAUSE_SECONDS = 1.0


@dataclass
class Voice:
    seconds: float  # speech in the speaker's turns
    embedding: list[float]  # unit mean CAM++ vector, comparable across recordings


@dataclass
class Diarization:
    turns: list[SpeakerTurn]
    voices: dict[str, Voice] = field(default_factory=dict)
    confident: bool = True
    reason: str | None = None  # why not confident
    method: str = METHOD

    def to_dict(self) -> JsonObject:
        """What the transcript keeps (its `diarization` entry, besides the request and timing)."""
        out: JsonObject = {"method": self.method, "speakers": len(self.voices), "confident": self.confident}
        if self.reason:
            out["reason"] = self.reason
        out["voices"] = {
            name: {"seconds": round(v.seconds, 2), "embedding": [round(x, 5) for x in v.embedding]}
            for name, v in self.voices.items()
        }
        return out


def diarize(
    samples: np.ndarray,
    *,
    num_speakers: int | None = None,
    threads: int = 1,
    channels: np.ndarray | None = None,
    windows: list[Window] | None = None,
) -> Diarization:
    """Speaker turns of 16 kHz mono audio, speakers named S1, S2, ... in order of first speech.

    `channels` (2, samples) of a stereo recording: when each channel holds its own person
    (separate_channels), each channel is one speaker and no clustering is needed. `windows`: the
    segmentation model's windows of `samples`, when already computed (for Whisper: speech.py).
    """
    if num_speakers is not None:
        config.check("speakers.count", num_speakers, "number of speakers")
    models = shared_models(threads or 1)
    if channels is not None and num_speakers in (None, 2) and separate_channels(channels):
        return _by_channel(channels, models)
    return _by_voice(samples, num_speakers, models, windows)


def _by_voice(samples: np.ndarray, num_speakers: int | None, models: _Models, windows: list[Window] | None = None) -> Diarization:
    found = embedded_pieces(samples, models.segmenter, models.encoder, windows=windows)
    return from_pieces(found, num_speakers, samples=samples, encoder=models.encoder)


def speech_windows(samples: np.ndarray, *, threads: int = 1) -> list[Window]:
    """The segmentation model's windows of the samples: where anyone speaks, for Whisper
    (speech.reconcile) and then for the diarizer, computed once."""
    return list(shared_models(threads or 1).segmenter.windows(samples))


def speech_probability(samples: np.ndarray, *, threads: int = 1) -> list[tuple[int, np.ndarray]]:
    """Per window, the segmentation model's probability that anyone speaks in each frame (for the
    last-resort listening of speech.quiet_speech_regions)."""
    return list(shared_models(threads or 1).segmenter.speech_probability(samples))


def from_pieces(
    found: Pieces, num_speakers: int | None, *, samples: np.ndarray | None = None, encoder: relisten.Encoder | None = None
) -> Diarization:
    """Speakers from what the networks found (the bench re-clusters saved pieces). With the audio
    and the voice encoder, slots whose speech pauses are split and their runs heard again
    (relisten.py)."""
    if not found.pieces:
        return Diarization([], confident=False, reason="no speech found")
    speaker_of = clustering.speakers_of_pieces(found.pieces, found.embeddings, num_speakers)
    frame_speakers: dict[tuple[int, int], np.ndarray] = {}
    if samples is not None and encoder is not None:
        means = clustering.speaker_means(found.pieces, found.embeddings, speaker_of)
        frame_speakers = relisten.frame_speakers(found, speaker_of, means, samples, encoder)
    spans = speaker_spans(found.windows, speaker_of, found.n_samples, frame_speakers=frame_speakers)
    vectors_of = {
        k: found.embeddings[[i for i, p in enumerate(found.pieces) if speaker_of.get((p.window, p.local)) == k]] for k in spans
    }
    return _result(spans, vectors_of, METHOD, forced=num_speakers is not None)


def _result(
    spans: dict[int, list[list[float]]], vectors_of: dict[int, np.ndarray], method: str, *, forced: bool = False
) -> Diarization:
    """Turns (touching spans of one speaker joined), speakers renamed S1.. by first speech, and
    confidence (a count given by the user is taken as known)."""
    order = sorted(spans, key=lambda k: min(a for a, _ in spans[k]))
    turns: list[SpeakerTurn] = []
    voices: dict[str, Voice] = {}
    for n, k in enumerate(order):
        name = f"S{n + 1}"
        joined: list[list[float]] = []
        for a, b in sorted(spans[k]):
            if joined and a <= joined[-1][1] + MAX_PAUSE_SECONDS:
                joined[-1][1] = max(joined[-1][1], b)
            else:
                joined.append([a, b])
        own = [SpeakerTurn(round(a, 3), round(b, 3), name) for a, b in joined]
        turns += own
        mean = vectors_of[k].mean(axis=0) if len(vectors_of[k]) else np.zeros(0)
        mean = mean / max(float(np.linalg.norm(mean)), 1e-8) if len(mean) else mean
        voices[name] = Voice(sum(t.end - t.start for t in own), mean.tolist())
    turns.sort(key=lambda t: (t.start, t.speaker))
    result = Diarization(turns, voices, method=method)
    if len(voices) == 1 and not forced:
        result.confident, result.reason = False, "one voice found"
    means = np.array([v.embedding for v in voices.values() if len(v.embedding)])
    closest = clustering.closest_pair(means) if len(means) == len(voices) else None
    if closest is not None and closest < clustering.CLOSE_VOICES and not forced:
        result.confident, result.reason = False, f"two voices close together (cosine distance {closest:.2f})"
    return result


# --- stereo recordings with one person per channel -----------------------------------------------

BLOCK = SAMPLE_RATE // 10  # 100 ms energy blocks
# A channel "leads" a block when it is this much louder than the other: a person's own microphone
# against the other's bleed or echo.
LEAD_DB = 10.0
# Channels are separate people when each leads in at least this share of the blocks with sound.
LEAD_SHARE = 0.1
# A channel's speech does not count where the other channel is this much louder (its person's voice
# leaking in, or the line's echo), nor for ECHO_TAIL_BLOCKS after. A DEV interview as a phone call
# (8 kHz mu-law, echo 60 ms late): echo at -25 dB / -12 dB gave DER 0.18 / 1.00 when only blocks
# where the other led by 10 dB were dropped (the level flickers within a word, and one person's
# pauses are filled up to 1 s); 0.06 / 0.07 with this (docs/benchmarks.md, "Stereo phone calls").
ECHO_DB = 6.0
ECHO_TAIL_BLOCKS = 2


def _block_db(channel: np.ndarray) -> np.ndarray:
    """Level of each 100 ms block in dBFS; a channel may be a strided view of interleaved audio,
    so it is copied a minute at a time, never whole."""
    usable = len(channel) // BLOCK * BLOCK
    out = []
    for start in range(0, usable, 600 * BLOCK):
        blocks = np.ascontiguousarray(channel[start : min(start + 600 * BLOCK, usable)]).reshape(-1, BLOCK)
        out.append(10 * np.log10(np.einsum("ij,ij->i", blocks, blocks) / BLOCK + 1e-10))
    return np.concatenate(out) if out else np.zeros(0)


def split_stereo(decoded: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Decoded audio (mono, or (2, n) from decode_audio(stereo=True)) -> (mono samples for Whisper and
    the diarizer, the two channels when each holds one person, else None). Most stereo files carry
    one mix twice: only channels that hold separate people are kept."""
    if decoded.ndim != 2:
        return decoded, None
    return decoded.mean(axis=0, dtype=np.float32), (decoded if separate_channels(decoded) else None)


def separate_channels(channels: np.ndarray) -> bool:
    """True when a stereo recording holds one person per channel (a phone system, Zoom's separate
    tracks, a double-ender): each channel is clearly the louder one for a good share of the time.
    A mono recording saved as stereo, or a mix panned to one side, leads on one side only."""
    if channels.ndim != 2 or len(channels) != 2:
        return False
    left, right = _block_db(channels[0]), _block_db(channels[1])
    sound = np.maximum(left, right) > -50
    if sound.sum() < 20:  # under 2 s of sound: nothing to decide on
        return False
    lead_left = (left - right > LEAD_DB) & sound
    lead_right = (right - left > LEAD_DB) & sound
    return bool(lead_left.sum() >= LEAD_SHARE * sound.sum() and lead_right.sum() >= LEAD_SHARE * sound.sum())


def _by_channel(channels: np.ndarray, models: _Models) -> Diarization:
    """S1 = left, S2 = right: each channel's speech (segmentation model), less the 100 ms blocks
    where the other channel leads (this one only hears the other's bleed or echo)."""
    left, right = _block_db(channels[0]), _block_db(channels[1])
    spans: dict[int, list[list[float]]] = {}
    vectors_of: dict[int, np.ndarray] = {}
    for side, (own, other) in enumerate(((left, right), (right, left))):
        speech = np.zeros(len(own), dtype=bool)  # per 100 ms block
        for window in models.segmenter.windows(channels[side]):
            start = window.start / SAMPLE_RATE
            for first, last in runs(np.asarray(window.active.any(axis=1))):  # frames where anyone speaks
                a, b = start + frame_seconds(first) - FRAME_STEP / 2, start + frame_seconds(last - 1) + FRAME_STEP / 2
                speech[int(a * 10) : int(np.ceil(b * 10))] = True
        speech &= ~_echo(own, other)
        pieces: list[np.ndarray] = []
        for first, last in runs(speech):
            spans.setdefault(side, []).append([first / 10, last / 10])
            if len(pieces) < 10 and last - first >= 10:  # up to ten 1.5 s pieces of its voice
                pieces.append(channels[side][first * BLOCK : first * BLOCK + int(PIECE_SECONDS * SAMPLE_RATE)])
        vectors_of[side] = models.encoder.embed(pieces) if pieces else np.zeros((0, 0))
    if not spans:
        return Diarization([], confident=False, reason="no speech found", method=CHANNELS_METHOD)
    return _result(spans, vectors_of, CHANNELS_METHOD, forced=True)


def _echo(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """100 ms blocks where this channel only hears the other person (bleed, line echo): the other
    channel is ECHO_DB louder, over the block and its neighbours (levels flicker within a word), and
    ECHO_TAIL_BLOCKS after (an echo arrives late and rings on)."""
    lead = other - own
    smooth = np.maximum(lead, np.minimum(np.roll(lead, 1), np.roll(lead, -1)))
    echo: np.ndarray = smooth > ECHO_DB
    for shift in range(1, ECHO_TAIL_BLOCKS + 1):
        echo[shift:] |= echo[:-shift].copy()
    return echo


# --- the ingest step -------------------------------------------------------------------------------


def ensure_diarized(
    transcript: Transcript,
    audio_path: Path | None,
    *,
    num_speakers: int | None,
    threads: int = 1,
    samples: np.ndarray | None = None,
    channels: np.ndarray | None = None,
    windows: list[Window] | None = None,
) -> bool:
    """Diarize the transcript's audio unless done with the same requested count; True if it changed.

    Transcripts whose text came with speaker names (imports) keep them. `samples` (mono) and
    `channels` (one person per channel, or None) are the decoded audio when the caller has them, as
    `split_stereo` gives them (ingest decodes once for Whisper and this); else the file is decoded
    here. The words are never re-transcribed.
    """
    settled = _settled_without_audio(
        transcript, num_speakers=num_speakers, has_audio=audio_path is not None or samples is not None
    )
    if settled is not None:
        return settled
    started = time.monotonic()
    if samples is None:
        from pipeline.hearing import audio

        assert audio_path is not None  # returned above otherwise
        samples, channels = split_stereo(audio.decode_audio(audio_path, stereo=True))
    try:
        result = diarize(samples, num_speakers=num_speakers, threads=threads, channels=channels, windows=windows)
    except HeardError:
        raise
    except Exception as exc:  # odd audio must not stop the other recordings; the transcript is kept
        raise RecordingError(
            audio_path or Path(transcript.source), f"finding speakers failed ({type(exc).__name__}: {exc})"
        ) from exc
    if not result.turns and any(s.text.strip() for s in transcript.segments):
        result = _one_speaker(len(samples) / SAMPLE_RATE, result.method)
    for segment in transcript.segments:
        segment.speaker = None
    assign(transcript, result.turns)
    transcript.diarization = {"num_speakers": num_speakers, **result.to_dict(), "seconds": round(time.monotonic() - started, 3)}
    return True


def _settled_without_audio(transcript: Transcript, *, num_speakers: int | None, has_audio: bool) -> bool | None:
    """What ensure_diarized decides before any audio is heard: False when the transcript is already
    settled, True when it was settled here (speakers named by an import, or no audio to diarize),
    None when the speaker models must run."""
    if any(s.speaker for s in transcript.segments) and (transcript.diarization or {}).get("method") in (None, "transcript"):
        if transcript.diarization is None:
            transcript.diarization = {"method": "transcript"}
            return True
        return False
    done = transcript.diarization or {}
    if done.get("method") in (METHOD, CHANNELS_METHOD) and done.get("num_speakers") == num_speakers:
        return False
    if not has_audio:
        if done.get("method") == "none":
            return False
        transcript.diarization = {"method": "none", "reason": "no audio"}
        return True
    return None


def _one_speaker(seconds: float, method: str) -> Diarization:
    """Whisper heard words the speaker model did not take for speech (far-field, whispered): one
    speaker, not a failed recording, and not confident."""
    return Diarization(
        [SpeakerTurn(0.0, round(seconds, 3), "S1")],
        {"S1": Voice(0.0, [])},
        confident=False,
        reason="no speech found by the speaker model; one speaker assumed",
        method=method,
    )
