"""A local speaker of a window that holds two people (a question and its answer heard as one voice)
is split at its pause and each run given its own speaker (no model loads: fast; the encoder here
tells the two voices apart by the sign of the audio, the clustering is the real one)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.hearing.speakers import diarize, relisten
from pipeline.hearing.speakers.pieces import Piece, Pieces
from pipeline.hearing.speakers.segmentation import FRAME_STEP, FRAMES, SAMPLE_RATE, WINDOW, Window

RNG = np.random.default_rng(3)
FAR = [RNG.standard_normal(192), RNG.standard_normal(192)]  # cosine distance about 1
CLOSE = [FAR[0], FAR[0] + 3.0 * FAR[1]]  # about 0.7 apart: two similar voices


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


class SignEncoder:
    """Person 0's audio is positive, person 1's negative: each piece gets that person's voice."""

    def __init__(self, voices: list[np.ndarray]) -> None:
        self.voices, self.calls = voices, 0

    def embed(self, pieces: list[np.ndarray]) -> np.ndarray:
        self.calls += len(pieces)
        return np.array([_unit(self.voices[0] if piece.mean() > 0 else self.voices[1]) for piece in pieces])


def _conversation(voices: list[np.ndarray], *, answer_from: int = 280) -> tuple[Pieces, np.ndarray]:
    """Windows 0-9: person 0 alone; 10-19: person 1 alone; 20-29: one local speaker holding person 0
    (frames 0-249), then person 1 (from `answer_from` to the end: 280 leaves a 0.5 s pause, 250
    none). The slot's one voice vector is person 0's, as when the middle of its speech fell on the
    question."""
    windows, pieces, rows = [], [], []
    samples = np.zeros(30 * WINDOW, dtype=np.float32)
    for w in range(30):
        active = np.zeros((FRAMES, 3), dtype=bool)
        runs = [(0, FRAMES, w // 10)] if w < 20 else [(0, 250, 0), (answer_from, FRAMES, 1)]
        for first, end, person in runs:
            active[first:end, 0] = True
            a, b = w * WINDOW + int(first * FRAME_STEP * SAMPLE_RATE), w * WINDOW + int(end * FRAME_STEP * SAMPLE_RATE)
            samples[a:b] = 0.1 if person == 0 else -0.1
        windows.append(Window(w * WINDOW, active))
        pieces.append(Piece(w, 0, float(active[:, 0].sum() * FRAME_STEP)))
        rows.append(_unit(voices[min(w // 10, 1) if w < 20 else 0] + 0.3 * RNG.standard_normal(192)))
    return Pieces(windows, pieces, np.array(rows), len(samples)), samples


def _speaker_at(result: diarize.Diarization, seconds: float) -> str | None:
    return next((t.speaker for t in result.turns if t.start <= seconds <= t.end), None)


@pytest.mark.fast
def test_the_answer_heard_in_the_questions_slot_goes_to_the_one_who_answers():
    found, samples = _conversation(FAR)
    encoder = SignEncoder(FAR)
    result = diarize.from_pieces(found, None, samples=samples, encoder=encoder)
    asker, answerer = _speaker_at(result, 5.0), _speaker_at(result, 105.0)
    assert {asker, answerer} == {"S1", "S2"}
    for w in range(20, 30):
        assert _speaker_at(result, w * 10 + 2.0) == asker  # the question
        assert _speaker_at(result, w * 10 + 7.0) == answerer  # the answer after the pause
    assert encoder.calls == 20  # only the split slots' two runs are heard again


@pytest.mark.fast
def test_without_the_audio_the_slot_keeps_one_speaker():
    """The bench's old path (and a caller without audio): the whole slot goes to one speaker."""
    found, _ = _conversation(FAR)
    result = diarize.from_pieces(found, None)
    assert _speaker_at(result, 207.0) == _speaker_at(result, 5.0)


@pytest.mark.fast
def test_slots_without_a_pause_or_with_short_runs_are_not_split():
    active = np.zeros((FRAMES, 3), dtype=bool)
    active[0:300, 0] = True  # one run: nothing to split
    active[0:250, 1] = True  # two runs, the second under RUN_SECONDS
    active[280:320, 1] = True
    active[0:200, 2] = True  # a pause of 0.1 s: one run
    active[206:500, 2] = True
    found = Pieces([Window(0, active)], [Piece(0, local, float(active[:, local].sum() * FRAME_STEP)) for local in range(3)],
                   np.zeros((3, 192)), WINDOW)
    assert relisten.split_slots(found) == []


@pytest.mark.fast
def test_a_short_clip_is_not_heard_again():
    """Under a minute the speakers are means of a few pieces, too unsure to send runs to: five of
    the windows above (each person alone, then three with both in one slot) as a 50 s clip."""
    found, samples = _conversation(FAR)
    chosen = (0, 10, 20, 21, 22)
    windows = [Window(n * WINDOW, found.windows[w].active) for n, w in enumerate(chosen)]
    pieces = [Piece(n, 0, found.pieces[w].seconds) for n, w in enumerate(chosen)]
    audio = np.concatenate([samples[w * WINDOW : (w + 1) * WINDOW] for w in chosen])
    short = Pieces(windows, pieces, found.embeddings[list(chosen)], len(audio))
    encoder = SignEncoder(FAR)
    result = diarize.from_pieces(short, None, samples=audio, encoder=encoder)
    assert encoder.calls == 0 and result.turns


@pytest.mark.fast
def test_between_close_voices_a_long_run_is_heard_as_two_halves():
    """Two similar voices, the answer straight after the question with no pause: the slot is one
    run of 10 s, heard again as two halves only because the voices are close."""
    for voices, split in ((CLOSE, True), (FAR, False)):
        found, samples = _conversation(voices, answer_from=250)
        result = diarize.from_pieces(found, None, samples=samples, encoder=SignEncoder(voices))
        asker, answerer = _speaker_at(result, 5.0), _speaker_at(result, 105.0)
        assert asker != answerer
        answered = [_speaker_at(result, w * 10 + 8.0) for w in range(20, 30)]
        assert answered == [answerer if split else asker] * 10


@pytest.mark.fast
def test_long_runs_are_halved_only_between_close_voices_of_at_most_three_speakers():
    others = [RNG.standard_normal(192) for _ in range(2)]
    assert relisten.halves_wanted(np.array([_unit(v) for v in CLOSE]))
    assert not relisten.halves_wanted(np.array([_unit(v) for v in FAR]))
    assert relisten.halves_wanted(np.array([_unit(v) for v in [*CLOSE, others[0]]]))
    # Four speakers with the same close pair: the halves' cost without a measured gain.
    assert not relisten.halves_wanted(np.array([_unit(v) for v in [*CLOSE, *others]]))
    # A speaker index without pieces (zeros) is not a voice.
    assert relisten.halves_wanted(np.array([_unit(CLOSE[0]), np.zeros(192), _unit(CLOSE[1])]))
