"""What a publisher gives beside the audio: which podcast:transcript to use, the Podcasting 2.0
chapters format, and whether a transcript fits the audio it came with.

Timed transcripts are preferred JSON > VTT > SRT (JSON carries speakers and often word times).
HTML and plain-text transcripts are not used: without times a quote cannot be played at its
moment, and their words would still need Whisper's timestamps, so Whisper transcribes those
episodes (README, "Podcasts and feeds").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.sources.feeds.parse import TranscriptLink
from pipeline.sources.importers import MAX_CUES_PER_SECOND, too_many_cues

# format -> (MIME types, URL suffix), in order of preference.
TIMED_FORMATS = {
    "json": ({"application/json", "application/x-json", "text/json", "application/json+transcript"}, ".json"),
    "vtt": ({"text/vtt", "text/x-vtt", "application/vtt"}, ".vtt"),
    "srt": ({"application/x-subrip", "application/srt", "text/srt", "application/x-srt", "text/x-srt"}, ".srt"),
}
# A transcript may run this far past the audio's end (encoder padding, a rounded last cue) ...
OVERRUN_SECONDS, OVERRUN_SHARE = 10.0, 0.05
# ... and must reach at least this share of it (a transcript of another episode, or a stub).
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str


def choose_transcript(links: list[TranscriptLink]) -> tuple[TranscriptLink, str] | None:
    """The timed transcript to use and its format ('json', 'vtt', 'srt'), or None when there is none."""
    for name, (types, suffix) in TIMED_FORMATS.items():
        for link in links:
            if link.type in types:
                return link, name
        for link in links:
            if not link.type and urlsplit(link.url).path.lower().endswith(suffix):
                return link, name
    return None


def read_chapters(raw: bytes) -> list[Chapter]:
    """Chapters from a Podcasting 2.0 chapters JSON file, in time order; ValueError if unreadable."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError("expected an object with a 'chapters' list")
    chapters = []
    for entry in data["chapters"]:
        # toc: false marks a chapter that is not part of the table of contents (an image change).
        if not isinstance(entry, dict) or not entry.get("title") or entry.get("toc") is False:
            continue
        try:
            chapters.append(Chapter(round(float(entry.get("startTime", 0)), 3), str(entry["title"]).strip()))
        except (TypeError, ValueError):
            continue
    return sorted(chapters, key=lambda c: c.start)


def fits_audio(transcript_end: float, audio_seconds: float, *, cues: int = 0) -> str | None:
    """None when a transcript ending at `transcript_end`, of `cues` cues (or timed words), fits audio
    of `audio_seconds`, else why not."""
    if audio_seconds <= 0:
        return None
    if too_many_cues(cues, audio_seconds):
        return f"{cues} cues for {audio_seconds:.0f} s of audio (at most {MAX_CUES_PER_SECOND} a second)"
    if transcript_end > audio_seconds * (1 + OVERRUN_SHARE) + OVERRUN_SECONDS:
        return f"the transcript runs to {transcript_end:.0f} s but the audio is {audio_seconds:.0f} s long"
    if transcript_end < audio_seconds * MIN_COVERAGE:
        return f"the transcript ends at {transcript_end:.0f} s, under half of the audio's {audio_seconds:.0f} s"
    return None
