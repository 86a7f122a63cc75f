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


@pytest.mark.fast
def test_quiet_speech_is_where_the_speaker_model_gives_anyone_a_fair_chance_of_speaking():
    """AMI trn01's one sentence peaks at 0.50 speech probability: "nobody" stays the likeliest class,
    so the speaker model's usual regions miss it; the last resort's threshold does not."""
    probability = np.full(FRAMES, 0.05)
    probability[300:360] = 0.45  # about 5.1-6.1 s into the window
    (region,) = speech.quiet_speech_regions([(16000 * 10, probability)])
    assert region == pytest.approx((15.07, 16.09), abs=0.05)
    assert speech.quiet_speech_regions([(0, np.full(FRAMES, 0.1))]) == []


@pytest.mark.fast
def test_whisper_is_trusted_in_the_last_resort_only_when_its_own_guards_are_sure():
    """Figures Whisper tiny.en gave in the last resort's regions (docs/speakers.md, "No speech")."""
    battery = {"no_speech_probability": 0.67, "avg_logprob": -0.85, "compression_ratio": 0.9}
    assert speech.confident(**battery, words=[0.09, 0.28, 0.53, 0.81, 0.32, 0.76, 0.97])
    music_thank_you = {"no_speech_probability": 0.85, "avg_logprob": -0.95, "compression_ratio": 0.6}
    assert not speech.confident(**music_thank_you, words=[0.02, 0.98])
    room_propane = {"no_speech_probability": 0.60, "avg_logprob": -1.38, "compression_ratio": 1.8}
    assert not speech.confident(**room_propane, words=[0.02])
    assert not speech.confident(**{**battery, "compression_ratio": 2.6}, words=[0.9] * 12)  # a loop
    assert not speech.confident(**battery, words=[0.15])  # a lone unsure "Okay." in room noise
    assert not speech.confident(**battery, words=[])


@pytest.mark.fast
def test_the_last_resort_decodes_each_region_alone_keeping_only_what_whisper_is_sure_of():
    calls = []

    class Listener:
        def transcribe(self, samples, on_progress=None, *, vad_filter=None, confident_only=False):
            calls.append((len(samples) / 16000, vad_filter, confident_only))
            return [Segment(0.3, 0.9, "Yeah.", None, [Word(0.3, 0.9, " Yeah.", 0.8)])], "en"

    samples = np.zeros(16000 * 60, dtype=np.float32)
    found = speech.last_resort(Listener(), samples, [(10.0, 11.0), (40.0, 42.0)])
    assert calls == [(pytest.approx(1.4), False, True), (pytest.approx(2.4), False, True)]
    assert [(s.start, s.words[0].start) for s in found] == [(pytest.approx(10.1), pytest.approx(10.1)), (pytest.approx(40.1), pytest.approx(40.1))]


@pytest.mark.fast
def test_the_likeliest_quiet_speech_is_tried_first_and_the_last_resort_gives_up_on_a_run_of_nothing():
    probability = np.full(FRAMES, 0.05)
    probability[50:80], probability[300:330], probability[500:530] = 0.35, 0.6, 0.45
    regions = speech.quiet_speech_regions([(0, probability)])
    assert [round(a) for a, _ in regions] == [5, 8, 1]  # by peak probability, not by time

    tried = []

    class Silent:
        def transcribe(self, samples, on_progress=None, *, vad_filter=None, confident_only=False):
            tried.append(len(samples))
            return [], "en"

    many = [(float(t), t + 0.5) for t in range(0, 200, 2)]
    assert speech.last_resort(Silent(), np.zeros(16000 * 200, dtype=np.float32), many) == []
    assert len(tried) == speech.GIVE_UP_AFTER
