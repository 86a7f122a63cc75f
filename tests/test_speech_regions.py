"""One speech detector: where the speaker model hears speech that Whisper did not write (no model
loads: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.hearing import speech
from pipeline.hearing.speakers.segmentation import FRAMES, Window
from pipeline.transcripts import Segment, Word


def _window(start_s: float, speaking: list[tuple[float, float]]) -> Window:
    active = np.zeros((FRAMES, 3), dtype=bool)
    for a, b in speaking:
        active[int(a / 10 * FRAMES) : int(b / 10 * FRAMES), 0] = True
    return Window(int(start_s * 16000), active)


def _said(*spans: tuple[float, float]) -> list[Segment]:
    return [Segment(a, b, "word", None, [Word(a, b, " word")]) for a, b in spans]


@pytest.mark.fast
def test_speech_regions_join_runs_across_back_to_back_windows():
    regions = speech.speech_regions([_window(0, [(2, 10)]), _window(10, [(0, 3), (6, 7)])])
    assert len(regions) == 2
    (a, b), (c, d) = regions
    assert a == pytest.approx(2, abs=0.05) and b == pytest.approx(13, abs=0.05)
    assert c == pytest.approx(16, abs=0.05) and d == pytest.approx(17, abs=0.05)


@pytest.mark.fast
def test_speech_no_word_covers_is_unheard_but_breaths_between_words_are_not():
    regions = [(0.0, 10.0), (20.0, 20.5)]
    missing = speech.unheard(regions, _said((0.5, 1.0), (1.4, 2.0), (6.0, 7.0)))
    assert missing == [(2.0, 6.0), (7.0, 10.0)]  # 0.4 s between words is no gap; 20-20.5 s is too short
    assert speech.unheard(regions, []) == [(0.0, 10.0)]


@pytest.mark.fast
def test_regions_heard_again_come_back_at_their_times_in_the_recording():
    class Echo:
        """Says one word at the middle of every second of loud audio it is given."""

        def transcribe(self, samples, on_progress=None, *, vad_filter=None):
            assert vad_filter is False  # the speaker model already said these hold speech
            loud = np.flatnonzero(np.abs(samples[::1600]) > 0.1) / 10
            return [Segment(t, t + 0.1, "hi", None, [Word(t, t + 0.1, " hi")]) for t in loud[::10]], "en"

    samples = np.zeros(16000 * 60, dtype=np.float32)
    samples[16000 * 40 : 16000 * 41] = 0.5  # one second of "speech" at 40 s
    found = speech.transcribe_regions(Echo(), samples, [(39.5, 41.5)])
    assert [round(s.start) for s in found] == [40]
    assert found[0].words[0].start == pytest.approx(40.0, abs=0.15)


@pytest.mark.fast
def test_a_single_short_word_the_speaker_model_hears_is_listened_to_when_whisper_wrote_nothing():
    """A far-field meeting clip (AMI trn02) holds one "okay" of 0.7 s: the speaker model hears 0.4 s
    of it and Whisper's VAD nothing. Shorter than a second is a breath only between words; with no
    word at all it is the only speech there is, and the recording must not fail "no speech"."""
    heard = []

    class Listener:
        def transcribe(self, samples, on_progress=None, *, vad_filter=None):
            heard.append(len(samples) / 16000)
            return [Segment(0.3, 0.6, "Okay.", None, [Word(0.3, 0.6, " Okay.")])], "en"

    samples = np.zeros(16000 * 30, dtype=np.float32)
    windows = [_window(20, [(0.8, 1.2)])]
    segments, again = speech.reconcile([], samples, windows, Listener())
    assert heard and [s.text for s in segments] == ["Okay."]
    assert segments[0].start == pytest.approx(20.9, abs=0.1) and again == pytest.approx(0.4, abs=0.05)
    breath, _ = speech.reconcile(_said((10.0, 11.0)), samples, windows, Listener())
    assert len(heard) == 1 and [s.text for s in breath] == ["word"]  # beside words, 0.4 s is a breath
