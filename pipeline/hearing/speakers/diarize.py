"""Who spoke when: pyannote segmentation-3.0 finds up to three voices in each 10 s window
(segmentation.py), CAM++ gives each of them a voice vector (encoder.py), clustering.py joins them
across windows into speakers, and assign.py gives each word its speaker.

Measured on real recordings with references (scripts/bench_speakers.py, docs/benchmarks.md
"Speakers"): DER 0.18 on the dev clips and 0.49 on the held-back ones, against 0.28 and 0.52 for
the resemblyzer windows it replaced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import config
from pipeline.errors import HeardError, RecordingError
from pipeline.files import JsonObject
from pipeline.hearing.speakers import clustering
from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.hearing.speakers.networks import SpeakerModels as _Models
from pipeline.hearing.speakers.networks import shared_models
from pipeline.hearing.speakers.segmentation import FRAME_STEP, FRAMES, SAMPLE_RATE, WINDOW, Window, frame_seconds
from pipeline.transcripts import Transcript

METHOD = "segmentation-3.0+campplus+agglomerative/1"
CHANNELS_METHOD = "channels+segmentation-3.0+campplus/1"
# Each local speaker of a window is embedded from at most this much of its speech heard alone. On
# the dev clips: 1.5 s DER 0.189 with 19% less CPU than 2 s (0.186); 1.25 s 0.190 with more
# speaker-count errors; 1 s 0.425. The encoder's cost grows with it.
PIECE_SECONDS = 1.5
MIN_PIECE_SECONDS = 0.3  # less is not embedded (its frames are left out of the turns)
# Local speakers with less speech than this in their window do not shape the clusters (a word or a
# cough gives a poor voice vector); they still join the nearest speaker.
CLUSTER_SECONDS = 1.0
# One speaker's pauses shorter than this stay inside the turn (a breath between two sentences):
# dev clips DER 0.183 against 0.186 without, and turns as people (and the examples' truth) count them.
MAX_PAUSE_SECONDS = 1.0
PENDING = 32  # pieces embedded at once: only their audio is held, never the whole recording's


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
    samples: np.ndarray, *, num_speakers: int | None = None, threads: int = 1, channels: np.ndarray | None = None
) -> Diarization:
    """Speaker turns of 16 kHz mono audio, speakers named S1, S2, ... in order of first speech.

    `channels` (2, samples) of a stereo recording: when each channel holds its own person
    (separate_channels), each channel is one speaker and no clustering is needed.
    """
    if num_speakers is not None:
        config.check("speakers.count", num_speakers, "number of speakers")
    models = shared_models(threads or 1)
    if channels is not None and num_speakers in (None, 2) and separate_channels(channels):
        return _by_channel(channels, models)
    return _by_voice(samples, num_speakers, models)


@dataclass
class _Piece:
    window: int
    local: int  # 0-2, the segmentation model's speaker slot in that window
    seconds: float  # the local speaker's speech in the window


def _by_voice(samples: np.ndarray, num_speakers: int | None, models: _Models) -> Diarization:
    windows, pieces, embeddings = _embedded_pieces(samples, models)
    if not pieces:
        return Diarization([], confident=False, reason="no speech found")
    speaker_of = _speakers_of_pieces(pieces, embeddings, num_speakers)
    spans = _speaker_spans(windows, speaker_of, len(samples))
    vectors_of = {k: embeddings[[i for i, p in enumerate(pieces) if speaker_of.get((p.window, p.local)) == k]] for k in spans}
    return _result(spans, vectors_of, METHOD, forced=num_speakers is not None)


def _embedded_pieces(samples: np.ndarray, models: _Models) -> tuple[list[Window], list[_Piece], np.ndarray]:
    """The segmentation windows, each local speaker's piece of speech and its voice vector (one row
    per piece). Pieces are embedded PENDING at a time, so only their audio is held."""
    windows: list[Window] = []
    pieces: list[_Piece] = []
    vectors: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for window in models.segmenter.windows(samples):
        for local, (piece, seconds) in _window_pieces(samples, window).items():
            pieces.append(_Piece(len(windows), local, seconds))
            pending.append(piece)
        windows.append(window)
        if len(pending) >= PENDING:
            vectors.append(models.encoder.embed(pending))
            pending = []
    if pending:
        vectors.append(models.encoder.embed(pending))
    return windows, pieces, (np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))


def _speakers_of_pieces(pieces: list[_Piece], embeddings: np.ndarray, num_speakers: int | None) -> dict[tuple[int, int], int]:
    """(window, local speaker) -> speaker index, from clustering the pieces with enough speech."""
    shaping = np.array([p.seconds >= CLUSTER_SECONDS for p in pieces])
    if shaping.sum() < max(2, num_speakers or 0):  # a forced count needs that many pieces to split
        shaping[:] = True
    labels = clustering.cluster(embeddings[shaping], num_speakers=num_speakers)
    means = clustering.centroids(embeddings[shaping], labels)
    # Each piece keeps its cluster; pieces that did not shape the clusters, and windows where two
    # local speakers landed in one cluster, are matched to the nearest distinct speakers instead.
    label_of = np.full(len(pieces), -1)
    label_of[shaping] = labels
    similarity = embeddings @ means.T
    speaker_of: dict[tuple[int, int], int] = {}
    by_window: dict[int, list[int]] = {}
    for i, item in enumerate(pieces):
        by_window.setdefault(item.window, []).append(i)
    for w, members in by_window.items():
        chosen = label_of[members]
        if (chosen < 0).any() or len(set(chosen.tolist())) < len(members):
            chosen = clustering.match_window(similarity[members])
        for i, speaker in zip(members, chosen):
            speaker_of[(w, pieces[i].local)] = int(speaker)
    return speaker_of


def _speaker_spans(windows: list[Window], speaker_of: dict[tuple[int, int], int], n_samples: int) -> dict[int, list[list[float]]]:
    """Speaker index -> [start, end] seconds of each run of its frames, window by window."""
    spans: dict[int, list[list[float]]] = {}
    for w, window in enumerate(windows):
        start = window.start / SAMPLE_RATE
        # The last window may start inside the one before: it only speaks for the part after it.
        floor = (windows[w - 1].start + WINDOW) / SAMPLE_RATE if w else 0.0
        end = min(start + WINDOW / SAMPLE_RATE, n_samples / SAMPLE_RATE)
        for local in range(3):
            speaker = speaker_of.get((w, local))
            if speaker is None:
                continue
            for first, last in _runs(window.active[:, local]):
                # Speech running into the window's edge runs to the edge: the next window goes on.
                a = max(floor, start if first == 0 else start + frame_seconds(first) - FRAME_STEP / 2)
                b = min(end, end if last == FRAMES else start + frame_seconds(last - 1) + FRAME_STEP / 2)
                if b > a:
                    spans.setdefault(speaker, []).append([a, b])
    return spans


def _window_pieces(samples: np.ndarray, window: Window) -> dict[int, tuple[np.ndarray, float]]:
    """Local speaker -> (up to PIECE_SECONDS of its speech, preferring frames where it talks alone; its speech seconds)."""
    active = window.active
    alone = active & (active.sum(axis=1, keepdims=True) == 1)
    out = {}
    for local in range(3):
        seconds = float(active[:, local].sum() * FRAME_STEP)
        if seconds < MIN_PIECE_SECONDS:
            continue
        mask = alone[:, local] if alone[:, local].sum() * FRAME_STEP >= MIN_PIECE_SECONDS else active[:, local]
        parts = []
        for first, last in _runs(mask):
            a = window.start + int((frame_seconds(first) - 0.01) * SAMPLE_RATE)
            b = window.start + int((frame_seconds(last - 1) + 0.01) * SAMPLE_RATE)
            parts.append(samples[max(a, 0) : min(b, len(samples))])
        piece = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        cap = int(PIECE_SECONDS * SAMPLE_RATE)
        if len(piece) > cap:  # the middle: the edges of a turn carry the neighbours' voices most
            piece = piece[(len(piece) - cap) // 2 :][:cap]
        if len(piece) >= MIN_PIECE_SECONDS * SAMPLE_RATE:
            out[local] = (piece, seconds)
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) index ranges where mask is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


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
            for first, last in _runs(np.asarray(window.active.any(axis=1))):  # frames where anyone speaks
                a, b = start + frame_seconds(first) - FRAME_STEP / 2, start + frame_seconds(last - 1) + FRAME_STEP / 2
                speech[int(a * 10) : int(np.ceil(b * 10))] = True
        speech &= other - own <= LEAD_DB
        pieces: list[np.ndarray] = []
        for first, last in _runs(speech):
            spans.setdefault(side, []).append([first / 10, last / 10])
            if len(pieces) < 10 and last - first >= 10:  # up to ten 1.5 s pieces of its voice
                pieces.append(channels[side][first * BLOCK : first * BLOCK + int(PIECE_SECONDS * SAMPLE_RATE)])
        vectors_of[side] = models.encoder.embed(pieces) if pieces else np.zeros((0, 0))
    if not spans:
        return Diarization([], confident=False, reason="no speech found", method=CHANNELS_METHOD)
    return _result(spans, vectors_of, CHANNELS_METHOD, forced=True)


# --- the ingest step -------------------------------------------------------------------------------


def ensure_diarized(
    transcript: Transcript,
    audio_path: Path | None,
    *,
    num_speakers: int | None,
    threads: int = 1,
    samples: np.ndarray | None = None,
    channels: np.ndarray | None = None,
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
        result = diarize(samples, num_speakers=num_speakers, threads=threads, channels=channels)
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
