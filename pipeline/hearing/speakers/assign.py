"""Words to speakers: Whisper's segments straddle speaker changes, so each word is assigned alone
and segments are rebuilt so none spans two speakers."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.transcripts import Segment, Transcript, Word

# People change turns at a pause: a speaker change the diarizer puts between two words with less
# than PAUSE_SECONDS between them moves to the nearest pause within SNAP_SECONDS (_snap_to_pauses).
PAUSE_SECONDS = 0.1
SNAP_SECONDS = 2.0


@dataclass
class SpeakerTurn:
    start: float
    end: float
    speaker: str


def assign(transcript: Transcript, turns: list[SpeakerTurn]) -> Transcript:
    """Give every word the speaker whose turn it overlaps most (else the nearest turn), move each
    speaker change to a pause between words (_snap_to_pauses), then split segments wherever the
    speaker changes. Segments without word timings are assigned whole."""
    if not turns:
        return transcript
    words = [w for s in transcript.segments for w in s.words]
    speakers = iter(_snap_to_pauses(words, [_speaker_at(turns, w.start, w.end) for w in words]))
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            segments.append(Segment(segment.start, segment.end, segment.text, _speaker_at(turns, segment.start, segment.end)))
            continue
        run: list[Word] = []
        speaker = None
        for word in segment.words:
            who = next(speakers)
            if run and who != speaker:
                segments.append(_segment_of(run, speaker))
                run = []
            run.append(word)
            speaker = who
        segments.append(_segment_of(run, speaker))
    transcript.segments = segments
    return transcript


def _snap_to_pauses(words: list[Word], speakers: list[str]) -> list[str]:
    """Speakers per word, each change between two words without a pause moved to the nearest pause
    (its distance: from the change to the pause's nearer edge) within SNAP_SECONDS that keeps both
    neighbouring runs; a change with no such pause stays."""
    out = list(speakers)
    changes = [i for i in range(1, len(out)) if out[i] != out[i - 1]]
    for n, i in enumerate(changes):
        if words[i].start - words[i - 1].end >= PAUSE_SECONDS:
            continue
        at = words[i].start
        low = changes[n - 1] + 1 if n else 1
        high = changes[n + 1] - 1 if n + 1 < len(changes) else len(out) - 1
        away = {
            j: max(words[j - 1].end - at, at - words[j].start, 0.0)
            for j in range(low, high + 1)
            if words[j].start - words[j - 1].end >= PAUSE_SECONDS
        }
        near = [j for j, seconds in away.items() if seconds <= SNAP_SECONDS]
        if not near:
            continue
        j = min(near, key=away.__getitem__)
        before, after = out[i - 1], out[i]
        for k in range(min(i, j), max(i, j)):
            out[k] = after if j < i else before
        changes[n] = j
    return out


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
