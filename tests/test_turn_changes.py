"""Turn changes: a speaker change lands on a pause between words (no model loads: fast)."""

from __future__ import annotations

import pytest

from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.transcripts import Segment, Transcript, Word


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
