"""Transcripts people already have: .vtt, .srt, .txt ("Name: text" and Zoom/Otter/Teams shapes), heard .json,
and Podcasting 2.0 JSON transcripts (what podcast feeds link with podcast:transcript).

Each reader turns a file into segments (speaker, start, end, text) or raises RecordingError naming the
line at fault; the whole file is read before anything is written, so nothing is half-indexed.
Files without times get times estimated from word counts (marked `timed: false`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import RecordingError
from pipeline.files import JsonObject
from pipeline.languages import detect_language
from pipeline.transcripts import Segment, Transcript, Word, schema_problem

SENTENCE_END = (".", "?", "!", "…")
WORDS_PER_SECOND = 2.5  # conversational pace, for files that give no times
# More cues (or timed words) a second than anyone speaks: fast speech is 4-7 words a second, and
# word-level podcast JSON has one entry a word. A 2 MB VTT of 60,000 cues in 12 s became 1,000
# chunks and 1.5 GB of memory; such a file is refused before it is chunked.
MAX_CUES_PER_SECOND = 20
CUE_ALLOWANCE = 50  # a short clip's few cues are never too many

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_CUE_TIMING = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})(?:\s.*)?$")
# A speaker name: up to five capitalized words ("Dana", "Sam Lee", "Speaker 2", "Dr. O'Neil"), so that
# an ordinary sentence with a colon ("So the thing is: ...") is not taken for a speaker.
_NAME = r"[A-ZÀ-Þ][\w.'’&@-]*(?: [A-ZÀ-Þ0-9(][\w.'’&@()-]*){0,4}"
# French sets a space (often a no-break one) before the colon: "Client : texte".
_COLON = r"[ \u00a0\u202f]?:"
_NAME_TEXT = re.compile(rf"^({_NAME}){_COLON}\s+(.*)$")
_TXT_SHAPES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    # Name (00:01:23): text
    (re.compile(rf"^({_NAME}) \(({_TIME})\){_COLON}\s*(.*)$"), ("name", "time", "text")),
    # [00:01:23] Name: text   /   00:01:23 Name: text
    (re.compile(rf"^\[?({_TIME})\]?\s+({_NAME}){_COLON}\s*(.*)$"), ("time", "name", "text")),
    # Zoom: [Name] 00:01:23   (text on the following lines)
    (re.compile(rf"^\[({_NAME})\]\s+({_TIME})\s*$"), ("name", "time")),
    # Otter and Teams: "Name  0:03" or "Name 1:02:03"   (text on the following lines)
    (re.compile(rf"^({_NAME})\s+({_TIME})\s*$"), ("name", "time")),
    # Name: text
    (_NAME_TEXT, ("name", "text")),
]


class ImplausibleTranscript(RecordingError):
    """A transcript that reads, but holds more cues than its time span could: not a record of speech."""

    def __init__(self, path: Path, reason: str, *, cues: int):
        self.cues = cues
        super().__init__(path, reason)


def cue_count(segments: list[Segment]) -> int:
    """Cues (or timed words) a transcript holds: what its density is measured in."""
    return sum(max(1, len(s.words)) for s in segments)


def too_many_cues(count: int, seconds: float) -> bool:
    return count > MAX_CUES_PER_SECOND * seconds + CUE_ALLOWANCE


def parse_time(text: str) -> float:
    parts = text.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


class _Turn:
    def __init__(self, speaker: str | None, start: float | None, end: float | None, text: str, line: int):
        self.speaker, self.start, self.end, self.text, self.line = speaker, start, end, text, line


def read_vtt(lines: list[str], path: Path) -> list[_Turn]:
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise RecordingError(path, "line 1: a WebVTT file must start with 'WEBVTT'")
    return _read_cues(lines[1:], path, first_line=2, numbered=False)


def read_srt(lines: list[str], path: Path) -> list[_Turn]:
    return _read_cues(lines, path, first_line=1, numbered=True)


def _read_cues(lines: list[str], path: Path, first_line: int, numbered: bool) -> list[_Turn]:
    turns: list[_Turn] = []
    blocks: list[tuple[int, list[str]]] = []
    block: list[str] = []
    start_line = first_line
    for number, line in enumerate(lines, first_line):
        if line.strip():
            if not block:
                start_line = number
            block.append(line.rstrip())
        elif block:
            blocks.append((start_line, block))
            block = []
    if block:
        blocks.append((start_line, block))
    for number, block in blocks:
        head = block[0].strip()
        if not numbered and head.startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, l in enumerate(block[:2]) if "-->" in l), None)
        if timing_at is None:
            what = "a cue number, then a timing line" if numbered else "a timing line"
            raise RecordingError(path, f"line {number}: expected {what} like '00:00:01.000 --> 00:00:04.000', got '{head[:40]}'")
        match = _CUE_TIMING.match(block[timing_at])
        if not match:
            raise RecordingError(path, f"line {number + timing_at}: cannot read the times in '{block[timing_at].strip()[:60]}'")
        start, end = parse_time(match.group(1)), parse_time(match.group(2))
        if end < start:
            raise RecordingError(path, f"line {number + timing_at}: the cue ends before it starts")
        for speaker, text in _cue_voices(" ".join(l.strip() for l in block[timing_at + 1 :])):
            if text:
                turns.append(_Turn(speaker, start, end, text, number))
    if not turns:
        raise RecordingError(path, "no cues with text found; is it an empty subtitle file?")
    return turns


def _cue_voices(text: str) -> list[tuple[str | None, str]]:
    """'<v Dana>Hi</v> <v Sam>Hello</v>' -> [(Dana, Hi), (Sam, Hello)]; 'Dana: Hi' -> [(Dana, Hi)]."""
    voices = list(re.finditer(r"<v(?:\.[\w.-]+)?\s+([^>]+)>", text))
    if voices:
        found = []
        for i, voice in enumerate(voices):
            stop = voices[i + 1].start() if i + 1 < len(voices) else len(text)
            found.append((voice.group(1).strip(), _strip_tags(text[voice.end() : stop])))
        return found
    text = _strip_tags(text)
    named = _NAME_TEXT.match(text)
    if named:
        return [(named.group(1).strip(), named.group(2).strip())]
    return [(None, text)]


def _strip_tags(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", text)).strip()


def read_txt(lines: list[str], path: Path) -> list[_Turn]:
    turns: list[_Turn] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        for pattern, fields in _TXT_SHAPES:
            match = pattern.match(line)
            if match:
                got = dict(zip(fields, match.groups()))
                start = parse_time(got["time"]) if "time" in got else None
                turns.append(_Turn(got["name"].strip(), start, None, got.get("text", "").strip(), number))
                break
        else:
            if not turns:
                raise RecordingError(
                    path,
                    f"line {number}: expected a speaker line like 'Name: text', 'Name (00:01:23): text' "
                    f"or 'Name  0:03', got '{line[:40]}'",
                )
            # A line of its own continues the current speaker's turn (Otter, Zoom, Teams put text there).
            turns[-1].text = f"{turns[-1].text} {line}".strip()
    turns = [t for t in turns if t.text]
    if not turns:
        raise RecordingError(path, "no speaker lines with text found")
    for a, b in zip(turns, turns[1:]):
        if a.start is not None and b.start is not None and b.start < a.start:
            raise RecordingError(path, f"line {b.line}: time goes backwards ({b.start:.0f} s after {a.start:.0f} s)")
    return turns


def read_json(text: str, path: Path) -> Transcript | list[Segment]:
    """heard's own transcript JSON, or a Podcasting 2.0 JSON transcript (as its segments)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordingError(path, f"line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if is_podcast_json(data):
        try:
            return podcast_json_segments(data)
        except ValueError as exc:
            raise RecordingError(path, f"not a readable podcast transcript: {exc}") from None
    if not isinstance(data, dict) or "segments" not in data:
        raise RecordingError(
            path,
            "not a transcript: expected heard's JSON (as in transcripts/) or a podcast JSON transcript "
            '({"segments": [{"startTime", "endTime", "body"}]})',
        )
    problem = schema_problem(data)
    if problem:
        raise RecordingError(path, problem)
    try:
        return Transcript.from_dict(data)
    except (TypeError, KeyError, ValueError) as exc:
        raise RecordingError(path, f"not a heard transcript ({exc})") from exc


def is_podcast_json(data: object) -> bool:
    """Whether parsed JSON is a Podcasting 2.0 transcript ({"segments": [{"startTime", "body"}, ...]})."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        return False
    first = next((s for s in data["segments"] if isinstance(s, dict)), None)
    return first is not None and "body" in first and "startTime" in first


def podcast_json_segments(data: JsonObject) -> list[Segment]:
    """Segments from a Podcasting 2.0 JSON transcript: consecutive entries of one speaker joined up
    to each sentence end; each entry (a word or a phrase) keeps its times as a Word.

    Raises ValueError naming the entry at fault.
    """
    segments: list[Segment] = []
    current: list[Word] = []
    speaker: str | None = None

    def close() -> None:
        if current:
            text = "".join(w.text for w in current).strip()
            segments.append(Segment(current[0].start, current[-1].end, text, speaker, list(current)))
            current.clear()

    latest = 0.0
    for number, entry in enumerate(data["segments"], 1):
        if not isinstance(entry, dict):
            raise ValueError(f"segment {number} is not an object")
        body = str(entry.get("body") or "").strip()
        try:
            start = float(entry["startTime"])
            end = float(entry.get("endTime", start))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"segment {number}: startTime and endTime must be numbers of seconds") from None
        if math.isnan(start) or math.isnan(end):  # float("NaN") reads, and NaN compares false to everything
            raise ValueError(f"segment {number}: startTime and endTime must be numbers of seconds, not NaN")
        if end < start:
            raise ValueError(f"segment {number}: ends ({end}) before it starts ({start})")
        if start + 1.0 < latest:
            raise ValueError(f"segment {number}: time goes backwards ({start} s after {latest} s)")
        latest = max(latest, start)
        if not body:
            continue
        who = str(entry["speaker"]).strip() if entry.get("speaker") else speaker
        if who != speaker:
            close()
            speaker = who
        current.append(Word(round(start, 3), round(end, 3), " " + body))
        if body.endswith(SENTENCE_END):
            close()
    close()
    if not segments:
        raise ValueError("no segments with text")
    return segments


READERS: dict[str, Callable[[list[str], Path], list[_Turn]]] = {".vtt": read_vtt, ".srt": read_srt, ".txt": read_txt}


def read_segments(path: Path) -> tuple[list[Segment], bool]:
    """Segments of a .vtt/.srt/.txt file and whether the file gave times."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordingError(path, f"not UTF-8 text (byte {exc.start}); save the transcript as UTF-8") from exc
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc})") from exc
    turns = READERS[path.suffix.lower()](text.splitlines(), path)
    timed = all(t.start is not None for t in turns)
    segments = []
    clock = 0.0
    for i, turn in enumerate(turns):
        spoken = max(1.0, len(turn.text.split()) / WORDS_PER_SECOND)
        if timed:
            assert turn.start is not None  # timed: every turn has a start
            start = turn.start
            following = turns[i + 1].start if i + 1 < len(turns) else None
            end = turn.end if turn.end is not None else (following if following and following > start else start + spoken)
        else:
            start, end = clock, clock + spoken
        clock = end
        segments.append(Segment(round(start, 3), round(end, 3), turn.text, turn.speaker))
    return segments, timed


def import_transcript(transcript_file: Path, *, recording_id: str, sha256: str, source: Path, title: str) -> Transcript:
    """A Transcript from a transcript file; `source` is the audio to play when there is one."""
    if transcript_file.suffix.lower() == ".json":
        try:
            text = transcript_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordingError(transcript_file, f"cannot read ({exc})") from exc
        found = read_json(text, transcript_file)
        if isinstance(found, list):
            segments, timed, language = found, True, None
        else:
            segments, timed, language = found.segments, True, found.language
        if not any(s.text for s in segments):
            raise RecordingError(transcript_file, "the transcript has no text")
    else:
        segments, timed = read_segments(transcript_file)
        language = None
    _check_density(transcript_file, segments)
    # Written as text, it was never heard: its language comes from its words (metadata's
    # `language:` overrides it when the chunks are indexed).
    language = language or detect_language(" ".join(s.text for s in segments))
    return Transcript(
        recording_id=recording_id,
        audio_sha256=sha256,
        source=str(source),
        title=title,
        duration=round(max(s.end for s in segments), 3),
        language=language,
        transcriber={
            "backend": "import",
            "format": transcript_file.suffix.lower().lstrip("."),
            "file": str(transcript_file),
            "timed": timed,
        },
        segments=segments,
    )


def _check_density(path: Path, segments: list[Segment]) -> None:
    span = max(s.end for s in segments) - min(s.start for s in segments)
    count = cue_count(segments)
    if too_many_cues(count, max(span, 1.0)):
        raise ImplausibleTranscript(
            path,
            f"{count} cues in {span:.0f} s, more than anyone speaks (at most {MAX_CUES_PER_SECOND} a second); "
            "is it a transcript of this recording?",
            cues=count,
        )


def is_imported(transcript: Transcript) -> bool:
    return transcript.transcriber.get("backend") == "import"
