"""The publisher's transcript and chapters: which one is used, and how they are read."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.sources.feeds.parse import TranscriptLink
from pipeline.sources.feeds.published import Chapter, choose_transcript, fits_audio, read_chapters
from pipeline.sources.importers import podcast_json_segments
from pipeline.sources.metadata import chapter_at

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast


def links(*pairs):
    return [TranscriptLink(url, kind) for url, kind in pairs]


def test_timed_transcripts_are_preferred_json_then_vtt_then_srt_and_untimed_ones_are_not_used():
    every = links(("https://x/t.html", "text/html"), ("https://x/t.srt", "application/x-subrip"),
                  ("https://x/t.vtt", "text/vtt"), ("https://x/t.json", "application/json"), ("https://x/t.txt", "text/plain"))
    assert choose_transcript(every)[1] == "json"
    assert choose_transcript(every[:3])[1] == "vtt"
    assert choose_transcript(every[:2])[1] == "srt"
    assert choose_transcript(links(("https://x/t.html", "text/html"), ("https://x/t.txt", "text/plain"))) is None
    assert choose_transcript(links(("https://x/t.VTT?sig=1", "")))[1] == "vtt"  # no type: the URL's suffix


def test_podcast_json_words_become_sentences_of_one_speaker_with_word_times():
    data = {"version": "1.0.0", "segments": [
        {"speaker": "Dana", "startTime": 0.5, "endTime": 0.9, "body": "Why"},
        {"startTime": 0.9, "endTime": 1.2, "body": "churn?"},
        {"speaker": "Priya", "startTime": 1.5, "endTime": 2.0, "body": "Pricing."},
        {"speaker": "Priya", "startTime": 2.1, "endTime": 3.0, "body": "Mostly the seat minimum"},
    ]}
    segments = podcast_json_segments(data)
    assert [(s.speaker, s.text, s.start, s.end) for s in segments] == [
        ("Dana", "Why churn?", 0.5, 1.2), ("Priya", "Pricing.", 1.5, 2.0), ("Priya", "Mostly the seat minimum", 2.1, 3.0)]
    assert [(w.start, w.text) for w in segments[0].words] == [(0.5, " Why"), (0.9, " churn?")]


@pytest.mark.parametrize("entry, words", [
    ({"startTime": "soon", "body": "x"}, "segment 1: startTime and endTime must be numbers"),
    ({"startTime": 5, "endTime": 4, "body": "x"}, "segment 1: ends (4.0) before it starts (5.0)"),
])
def test_malformed_json_transcripts_name_the_segment(entry, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        podcast_json_segments({"segments": [entry]})


def test_chapters_in_time_order_and_the_chapter_playing_at_a_moment():
    raw = json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": 120, "title": "Pricing"}, {"startTime": 0, "title": "Intro"},
        {"startTime": 60, "title": "an image", "toc": False}]}).encode()
    chapters = read_chapters(raw)
    assert chapters == [Chapter(0, "Intro"), Chapter(120, "Pricing")]
    as_metadata = [{"start": c.start, "title": c.title} for c in chapters]
    assert [chapter_at(as_metadata, t) for t in (0, 119, 130)] == ["Intro", "Intro", "Pricing"]
    with pytest.raises(ValueError, match="not valid JSON"):
        read_chapters(b"<html>")


def test_a_transcript_must_fit_the_audio_it_came_with():
    assert fits_audio(2700, 2710) is None
    assert fits_audio(2730, 2710) is None  # a rounded last cue
    assert "runs to 4000 s but the audio is 2710 s long" in fits_audio(4000, 2710)
    assert "under half" in fits_audio(600, 2710)
    # Times and cue count: word-level JSON has ~3 entries a second; 60,000 cues for 12 s is not speech.
    assert fits_audio(2700, 2710, cues=2710 * 4) is None
    assert fits_audio(12, 12, cues=60_000) == "60000 cues for 12 s of audio (at most 20 a second)"
