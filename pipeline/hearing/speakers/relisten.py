"""Second pass over the clustered slots: a local speaker of a window whose speech pauses may hold both
people, so each of its runs of speech gets its own voice vector and goes to the nearest speaker.

segmentation-3.0 hears two close voices in one 10 s window as one local speaker (a question and
its answer in one slot); the slot's one voice vector (the middle PIECE_SECONDS of its speech) then
files both under one speaker. On the DEV long 2-person interviews (12 per length), the worst pairs
of voices lost most of their words this way: slots holding both people, alone in their window.
Splitting each slot at its pauses (PAUSE_SECONDS) and embedding every run of at least RUN_SECONDS
on its own, and between close voices also the two halves of long runs (VBx's resegmentation
against the recording's own speakers, here with the clusters' mean voices and no PLDA model),
moved the HELD-BACK interviews' (six per length) wrong-speaker words from 3.2 / 6.2 / 7.1 / 6.6%
to 1.8 / 1.9 / 2.4 / 2.5% at 5 / 15 / 30 / 60 min (docs/benchmarks.md, "Long recordings", round 5).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from pipeline.hearing.speakers.clustering import closest_pair
from pipeline.hearing.speakers.pieces import MIN_PIECE_SECONDS, PENDING, PIECE_SECONDS, Pieces, heard_frames, middle_audio, runs
from pipeline.hearing.speakers.segmentation import FRAME_STEP, FRAMES, SAMPLE_RATE

# A slot's speech is split where it pauses at least this long (turn changes in conversation leave
# a gap of 0.2 s or more; one person's words run closer).
PAUSE_SECONDS = 0.2
# Runs with less speech than this keep their slot's speaker (too little for a voice vector).
RUN_SECONDS = 1.0
# Slots with less speech than this are not split (two runs of RUN_SECONDS need room).
SLOT_SECONDS = 2.0
# Recordings shorter than this are not heard again: a 30 s clip's speakers are means of 4-9 pieces
# (often one person split in two), too unsure to send runs to. On the HELD-BACK 30 s far-field
# clips the second pass moved DER 0.482 -> 0.512 (a 4-person debate 0.49 -> 0.55); the DEV clips
# were unchanged (0.184), the long conversations of both parts all better or equal.
MIN_RECORDING_SECONDS = 60.0
# Where the two closest speakers' mean voices are nearer than HALVE_CLOSER (cosine distance), a
# run spanning HALVE_SECONDS or more is heard again as two halves too: close voices are where the
# model hears a question and its answer as one voice with no pause between them.
HALVE_SECONDS = 4.0
HALVE_CLOSER = 0.9
# ... and only where the recording has at most this many speakers: the halves' gain was measured on
# 2-person interviews and 3-person meetings; with more speakers nearly every recording holds a close
# pair. On `make bench`'s six ingest recordings (65-103 s, 6-8 speakers found each) the second pass
# took the diarizer's CPU to 1.60x with the halves and 1.15x with the pauses alone, the same
# speakers found either way.
HALVE_MOST_SPEAKERS = 3


class Encoder(Protocol):
    def embed(self, pieces: list[np.ndarray]) -> np.ndarray: ...


def slot_runs(active: np.ndarray, *, pause_frames: int) -> list[tuple[int, int]]:
    """(first, end) frames of one slot's speech, runs closer than pause_frames joined."""
    out: list[tuple[int, int]] = []
    for first, end in runs(active):
        if out and first - out[-1][1] < pause_frames:
            out[-1] = (out[-1][0], end)
        else:
            out.append((first, end))
    return out


def split_slots(pieces: Pieces, *, halve: bool = False) -> list[tuple[int, int, int]]:
    """(piece index, first frame, end frame) of every run worth its own voice vector: runs of at
    least RUN_SECONDS of slots of at least SLOT_SECONDS that have two or more such runs; with
    `halve`, a run spanning HALVE_SECONDS or more counts as its two halves."""
    pause_frames = int(round(PAUSE_SECONDS / FRAME_STEP))
    half_frames = int(round(HALVE_SECONDS / FRAME_STEP)) if halve else FRAMES + 1
    out: list[tuple[int, int, int]] = []
    for i, piece in enumerate(pieces.pieces):
        if piece.seconds < SLOT_SECONDS:
            continue
        active = pieces.windows[piece.window].active[:, piece.local]
        found: list[tuple[int, int]] = []
        for a, b in slot_runs(active, pause_frames=pause_frames):
            if active[a:b].sum() * FRAME_STEP >= RUN_SECONDS:
                found += [(a, (a + b) // 2), ((a + b) // 2, b)] if b - a >= half_frames else [(a, b)]
        if len(found) >= 2:
            out += [(i, a, b) for a, b in found]
    return out


def frame_speakers(
    pieces: Pieces, speaker_of: dict[tuple[int, int], int], means: np.ndarray, samples: np.ndarray, encoder: Encoder
) -> dict[tuple[int, int], np.ndarray]:
    """(window, local) -> speaker index per frame, for the slots split into runs: each run of
    RUN_SECONDS or more goes to the speaker whose mean voice (`means`, unit rows) is nearest its
    own vector; the rest of the slot keeps the slot's speaker. The run that holds the audio the
    slot's own vector was made from keeps that vector (one CAM++ call fewer per split slot)."""
    if len(means) < 2 or pieces.n_samples < MIN_RECORDING_SECONDS * SAMPLE_RATE:
        return {}
    todo = [
        (i, a, b)
        for i, a, b in split_slots(pieces, halve=halves_wanted(means))
        if (pieces.pieces[i].window, pieces.pieces[i].local) in speaker_of
    ]
    vectors = np.zeros((len(todo), pieces.embeddings.shape[1]))
    audio: dict[int, np.ndarray] = {}
    for n, (i, a, b) in enumerate(todo):
        window, local = pieces.windows[pieces.pieces[i].window], pieces.pieces[i].local
        if _holds_piece(window.active, local, a, b):
            vectors[n] = pieces.embeddings[i]
        elif (
            len(heard := middle_audio(samples, window, heard_frames(window.active, local, a, b)))
            >= MIN_PIECE_SECONDS * SAMPLE_RATE
        ):
            audio[n] = heard
        if len(audio) >= PENDING or (audio and n == len(todo) - 1):  # only PENDING runs' audio held
            vectors[list(audio)] = encoder.embed(list(audio.values()))
            audio = {}
    nearest = (vectors @ means.T).argmax(axis=1)
    out: dict[tuple[int, int], np.ndarray] = {}
    for n, (i, a, b) in enumerate(todo):
        key = (pieces.pieces[i].window, pieces.pieces[i].local)
        if vectors[n].any():
            out.setdefault(key, np.full(FRAMES, speaker_of[key]))[a:b] = int(nearest[n])
    return out


def halves_wanted(means: np.ndarray) -> bool:
    """Whether long runs are heard as two halves too: at most HALVE_MOST_SPEAKERS speakers (rows of
    `means` with a voice), two of them nearer than HALVE_CLOSER."""
    voiced = means[np.abs(means).sum(axis=1) > 0]
    closest = closest_pair(voiced)
    return len(voiced) <= HALVE_MOST_SPEAKERS and closest is not None and closest < HALVE_CLOSER


def _holds_piece(active: np.ndarray, local: int, first: int, end: int) -> bool:
    """True when frames first..end hold (nearly) all the audio pieces.window_pieces embedded for the
    slot: the middle PIECE_SECONDS of the frames it is heard from."""
    frames = np.flatnonzero(heard_frames(active, local))
    cap = int(PIECE_SECONDS / FRAME_STEP)
    middle = frames[max((len(frames) - cap) // 2, 0) :][:cap]
    return bool(len(middle)) and float(((middle >= first) & (middle < end)).mean()) >= 0.9
