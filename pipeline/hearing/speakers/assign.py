"""Words to speakers: Whisper's segments straddle speaker changes, so each word is assigned alone
and segments are rebuilt so none spans two speakers."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.transcripts import Segment, Transcript, Word


@dataclass
class SpeakerTurn:
    start: float
    end: float
    speaker: str


def assign(transcript: Transcript, turns: list[SpeakerTurn]) -> Transcript:
    """Give every word the speaker whose turn it overlaps most (else the nearest turn), then split
    segments wherever the speaker changes. Segments without word timings are assigned whole."""
    if not turns:
        return transcript
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            segments.append(Segment(segment.start, segment.end, segment.text, _speaker_at(turns, segment.start, segment.end)))
            continue
        run: list[Word] = []
        speaker = None
        for word in segment.words:
            who = _speaker_at(turns, word.start, word.end)
            if run and who != speaker:
                segments.append(_segment_of(run, speaker))
                run = []
            run.append(word)
            speaker = who
        segments.append(_segment_of(run, speaker))
    transcript.segments = segments
    return transcript


def _speaker_at(turns: list[SpeakerTurn], start: float, end: float) -> str:
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best is not None:
        return best
    middle = (start + end) / 2
    return min(
        turns, key=lambda t: 0.0 if t.start <= middle <= t.end else min(abs(t.start - middle), abs(t.end - middle))
    ).speaker


def _segment_of(words: list[Word], speaker: str | None) -> Segment:
    return Segment(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), speaker, list(words))
