"""Clusters of voice pieces that hold over long recordings: the count does not grow with length
(no model loads: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.hearing.speakers import clustering
from pipeline.hearing.speakers.pieces import Piece


def _pieces(
    voices: list[np.ndarray], shares: list[float], n: int, rng: np.random.Generator, blends: float = 0.06
) -> tuple[list[Piece], np.ndarray]:
    """n voice vectors as CAM++ gives them on real audio: each voice with noise, a share of the
    pieces (`blends`) a blend of two voices (crosstalk) and 2% no voice at all (a door, a cough)."""
    rows, pieces = [], []
    for _ in range(n):
        draw = rng.uniform() * (1 - 0.06 + blends)
        if draw < blends:
            v = rng.uniform(0.3, 0.7) * voices[0] + rng.uniform(0.3, 0.7) * voices[1]
        elif draw < blends + 0.02:
            v = rng.standard_normal(len(voices[0]))
        else:
            v = voices[int(rng.choice(len(voices), p=shares))]
        x = v + 0.5 * rng.standard_normal(len(v))
        rows.append(x / np.linalg.norm(x))
        pieces.append(Piece(len(pieces), 0, float(rng.uniform(1.0, 9.0))))
    return pieces, np.array(rows)


@pytest.mark.fast
@pytest.mark.parametrize("minutes", [5, 15, 60])
def test_two_voices_stay_two_speakers_however_long_the_recording(minutes):
    """Average linkage alone found 3, 2 and 8 speakers here (more odd pieces, more small clusters);
    consolidation keeps the count at two for 5 minutes and for an hour."""
    rng = np.random.default_rng(minutes)
    voices = [rng.standard_normal(192) for _ in range(2)]
    pieces, vectors = _pieces(voices, [0.25, 0.75], minutes * 6, rng)
    speaker_of = clustering.speakers_of_pieces(pieces, vectors, None)
    assert len(set(speaker_of.values())) == 2


@pytest.mark.fast
def test_a_speaker_with_little_speech_is_kept_when_the_voice_is_far_from_the_others():
    rng = np.random.default_rng(0)
    voices = [rng.standard_normal(192) for _ in range(3)]
    pieces, vectors = _pieces(voices, [0.47, 0.47, 0.06], 360, rng, blends=0.0)
    assert len(set(clustering.speakers_of_pieces(pieces, vectors, None).values())) == 3


@pytest.mark.fast
def test_one_person_in_two_local_slots_of_a_window_stays_one_speaker():
    """segmentation-3.0 often gives one person two local slots in a 10 s window (a pause, a change
    of tone). Matching the slots one-to-one to distinct speakers filed one of them under the other
    person every time; both now keep their own (same) speaker, while two people sharing a window
    stay two speakers."""
    rng = np.random.default_rng(7)
    voices = [rng.standard_normal(192) for _ in range(2)]

    def heard(voice: int) -> np.ndarray:
        x = voices[voice] + 0.5 * rng.standard_normal(192)
        return x / np.linalg.norm(x)

    pieces, rows, truth = [], [], {}
    for window in range(120):
        # Windows 0-39: person 0 in slots 0 and 1; 40-79: person 1 in both; 80-119: one each.
        who = [0, 0] if window < 40 else [1, 1] if window < 80 else [0, 1]
        for local, voice in enumerate(who):
            pieces.append(Piece(window, local, float(rng.uniform(1.5, 5.0))))
            rows.append(heard(voice))
            truth[(window, local)] = voice
    speaker_of = clustering.speakers_of_pieces(pieces, np.array(rows), None)
    person_of = {speaker_of[key]: voice for key, voice in truth.items() if key[0] >= 80}
    assert len(person_of) == 2
    assert all(person_of[speaker_of[key]] == voice for key, voice in truth.items())
