"""Turn changes: a slot's voice is embedded from one stretch of speech, and a speaker change lands
on a pause between words (no model loads: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.hearing.speakers.pieces import embedded_pieces, window_pieces
from pipeline.hearing.speakers.segmentation import FRAMES, WINDOW, Window, frame_seconds
from pipeline.transcripts import Segment, Transcript, Word


@pytest.mark.fast
def test_a_slot_holding_both_sides_of_a_pause_is_embedded_from_its_longest_stretch():
    """segmentation-3.0 may keep one slot across a turn change when a pause parts the two people:
    1.2 s of one, a pause, 2 s of the other. The middle 1.5 s of both stretches put together held
    0.35 s of the first person; in recordings over a minute the voice is now taken from the
    longest stretch alone (30 s clips keep the old piece: pieces.STRETCH_AFTER_SECONDS)."""
    active = np.zeros((FRAMES, 3), dtype=bool)
    active[0:71, 0] = True  # about 1.2 s: the first person
    active[100:219, 0] = True  # about 2 s after a pause: the second person
    samples = np.zeros(WINDOW, dtype=np.float32)
    first_person_ends = int(frame_seconds(85) * 16000)
    samples[:first_person_ends] = 0.1
    samples[first_person_ends:] = 0.5
    piece, seconds = window_pieces(samples, Window(0, active), by_stretch=True)[0]
    assert len(piece) == int(1.5 * 16000)
    assert set(np.unique(piece).tolist()) == {np.float32(0.5)}
    assert seconds == pytest.approx(190 * 0.016875)
    old_piece, _ = window_pieces(samples, Window(0, active))[0]
    assert np.float32(0.1) in old_piece


@pytest.mark.fast
def test_only_recordings_over_a_minute_embed_slots_by_stretch():
    class Segmenter:
        def windows(self, samples):
            active = np.zeros((FRAMES, 3), dtype=bool)
            active[0:71, 0] = active[100:219, 0] = True
            yield Window(0, active)

    class Encoder:
        def embed(self, pieces):
            return np.array([[float(p.min()), float(p.max())] for p in pieces])

    for minutes, lowest in ((0.5, 0.1), (2.0, 0.5)):
        samples = np.full(int(minutes * 60 * 16000), 0.5, dtype=np.float32)
        samples[: int(frame_seconds(85) * 16000)] = 0.1
        found = embedded_pieces(samples, Segmenter(), Encoder())
        assert found.embeddings[0][0] == pytest.approx(lowest)


def _transcript(words: list[Word]) -> Transcript:
    return Transcript("id", "sha", "/x.mp3", "X", 10.0, "en", {"backend": "test"}, [Segment(words[0].start, words[-1].end, "", words=words)])


@pytest.mark.fast
def test_a_speaker_change_between_touching_words_moves_to_the_nearby_pause():
    """Whisper's words touch inside a sentence and part at a turn change; the diarizer's change,
    0.8 s late here, falls inside the second person's sentence. It moves to the pause."""
    words = [Word(0.0, 0.4, " Where"), Word(0.4, 0.8, " next?"),  # S1, then a 0.5 s pause
             Word(1.3, 1.7, " We"), Word(1.7, 2.1, " ship"), Word(2.1, 2.5, " it"), Word(2.5, 2.9, " tonight.")]
    transcript = assign(_transcript(words), [SpeakerTurn(0.0, 2.15, "S1"), SpeakerTurn(2.15, 3.0, "S2")])
    assert [(s.speaker, s.text) for s in transcript.segments] == [("S1", "Where next?"), ("S2", "We ship it tonight.")]


@pytest.mark.fast
def test_a_speaker_change_at_a_pause_or_far_from_any_stays_where_the_diarizer_put_it():
    at_pause = [Word(0.0, 0.5, " Yes."), Word(0.9, 1.2, " And"), Word(1.2, 1.6, " then?")]
    transcript = assign(_transcript(at_pause), [SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(1.0, 2.0, "S2")])
    assert [(s.speaker, s.text) for s in transcript.segments] == [("S1", "Yes."), ("S2", "And then?")]
    # Crosstalk: the next person starts before the last word ends; no pause within 2 s.
    touching = [Word(0.3 * i, 0.3 * (i + 1), f" w{i}") for i in range(20)]
    transcript = assign(_transcript(touching), [SpeakerTurn(0.0, 3.0, "S1"), SpeakerTurn(3.0, 6.0, "S2")])
    assert [(s.speaker, len(s.words)) for s in transcript.segments] == [("S1", 10), ("S2", 10)]
