"""The Transcript model and its files: transcripts/<id>.json (the source of truth) and <id>.md."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import TranscriptDamagedError
from pipeline.files import JsonObject, write_text_atomically

SCHEMA_VERSION = 1


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    recording_id: str
    audio_sha256: str
    source: str
    title: str
    duration: float
    language: str | None
    # Which model and settings produced the text, so a changed model can be detected.
    transcriber: JsonObject
    segments: list[Segment]
    schema: int = SCHEMA_VERSION
    # How speakers were found (method, requested count, seconds taken); None until diarized.
    diarization: JsonObject | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def to_dict(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: JsonObject) -> Transcript:
        """From its JSON form; a value of the wrong type raises ValueError naming the segment and
        key, before anything downstream (chunking, timestamps) could trip over it."""
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise ValueError("expected an object with a list of 'segments'")
        for key, kind in _FIELD_TYPES.items():
            if key in data:
                _check(data[key], kind, f"'{key}'")
        segments = [_segment(s, f"segment {i}") for i, s in enumerate(data["segments"], 1)]
        return cls(**{**data, "segments": segments})


# What a JSON value must be: one of these types, or "seconds" (a finite number >= 0).
Kind = tuple[type, ...] | Literal["seconds"]
_TEXT: Kind = (str,)
_OBJECT: Kind = (dict,)
_SECONDS: Kind = "seconds"
_FIELD_TYPES: dict[str, Kind] = {
    "recording_id": _TEXT,
    "audio_sha256": _TEXT,
    "source": _TEXT,
    "title": _TEXT,
    "duration": _SECONDS,
    "language": (str, type(None)),
    "transcriber": _OBJECT,
    "schema": (int,),
    "diarization": (dict, type(None)),
}


def _check(value: object, kind: Kind, what: str) -> Any:
    """`value` if it is of `kind` (a tuple of types, or _SECONDS: a finite number >= 0), else ValueError.

    Returns Any: the value is now known to be of `kind`, which mypy cannot follow from a runtime
    tuple of types; the callers spread it into the dataclasses' fields of that type."""
    if kind == "seconds":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return float(value)
        expected = "a number of seconds"
    else:
        if isinstance(value, kind) and not (isinstance(value, bool) and bool not in kind):
            return value
        expected = " or ".join(
            "null"
            if k is type(None)
            else {str: "text", dict: "an object", int: "a whole number", float: "a number"}.get(k, k.__name__)
            for k in kind
        )
    raise ValueError(f"{what} must be {expected}, got {json.dumps(value, default=str)[:40]}")


def _segment(raw: object, where: str) -> Segment:
    fields: JsonObject = _check(raw, _OBJECT, where)
    words = _check(fields.get("words", []), (list,), f"{where}: 'words'")
    return Segment(
        **{
            **fields,
            "start": _check(fields.get("start"), _SECONDS, f"{where}: 'start'"),
            "end": _check(fields.get("end"), _SECONDS, f"{where}: 'end'"),
            "text": _check(fields.get("text"), _TEXT, f"{where}: 'text'"),
            "speaker": _check(fields.get("speaker"), (str, type(None)), f"{where}: 'speaker'"),
            "words": [_word(w, f"{where}, word {i}") for i, w in enumerate(words, 1)],
        }
    )


def _word(raw: object, where: str) -> Word:
    fields: JsonObject = _check(raw, _OBJECT, where)
    return Word(
        **{
            **fields,
            "start": _check(fields.get("start"), _SECONDS, f"{where}: 'start'"),
            "end": _check(fields.get("end"), _SECONDS, f"{where}: 'end'"),
            "text": _check(fields.get("text"), _TEXT, f"{where}: 'text'"),
            "probability": _check(fields.get("probability"), (int, float, type(None)), f"{where}: 'probability'"),
        }
    )


def json_path(transcripts_dir: Path, recording_id: str) -> Path:
    return transcripts_dir / f"{recording_id}.json"


def save(transcript: Transcript, transcripts_dir: Path) -> Path:
    """Write <id>.json and <id>.md atomically; returns the JSON path."""
    transcripts_dir.mkdir(parents=True, exist_ok=True)
    path = json_path(transcripts_dir, transcript.recording_id)
    write_text_atomically(path, json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1))
    write_text_atomically(path.with_suffix(".md"), to_markdown(transcript))
    return path


def schema_problem(data: JsonObject) -> str | None:
    """Why a transcript's JSON cannot be read by this version of heard, or None."""
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        return (
            f"written as transcript schema {schema!r}, and this heard reads schema {SCHEMA_VERSION}; "
            "use the heard version that wrote it, or delete the file to transcribe the recording again"
        )
    return None


def load(path: Path) -> Transcript:
    """The transcript in `path`; TranscriptDamagedError (naming the file) if it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TranscriptDamagedError(path, f"cannot read the transcript ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise TranscriptDamagedError(path, f"damaged transcript ({exc}); delete it to transcribe the recording again") from exc
    problem = schema_problem(data) if isinstance(data, dict) else None
    if problem:
        raise TranscriptDamagedError(path, problem)
    try:
        return Transcript.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptDamagedError(path, f"damaged transcript ({exc}); delete it to transcribe the recording again") from exc


def stamp(transcripts_dir: Path, recording_id: str) -> str:
    """What changes whenever the transcript file is rewritten: its mtime and size ('' if absent)."""
    try:
        found = json_path(transcripts_dir, recording_id).stat()
    except OSError:
        return ""
    return f"{found.st_mtime_ns}:{found.st_size}"


def load_if_exists(transcripts_dir: Path, recording_id: str) -> Transcript | None:
    path = json_path(transcripts_dir, recording_id)
    return load(path) if path.is_file() else None


def delete(transcripts_dir: Path, recording_id: str) -> None:
    path = json_path(transcripts_dir, recording_id)
    path.unlink(missing_ok=True)
    path.with_suffix(".md").unlink(missing_ok=True)


def load_all(transcripts_dir: Path) -> list[Transcript]:
    return [load(p) for p in sorted(transcripts_dir.glob("*.json"))]


def format_timestamp(seconds: float) -> str:
    """mm:ss, or h:mm:ss from an hour on."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def to_markdown(transcript: Transcript) -> str:
    model = transcript.transcriber
    lines = [
        f"# {transcript.title}",
        "",
        f"- Recording: `{transcript.source}`",
        f"- Duration: {format_timestamp(transcript.duration)}",
        f"- Transcribed by: {model.get('backend')} {model.get('model')}",
    ]
    diarization = transcript.diarization or {}
    if diarization.get("confident") is False:
        lines.append(f"- Speakers: not confident ({diarization.get('reason', 'unknown reason')}); no roles given")
    lines.append("")
    for segment in transcript.segments:
        who = f"**{segment.speaker}**: " if segment.speaker else ""
        lines.append(f"[{format_timestamp(segment.start)}] {who}{segment.text}")
        lines.append("")
    return "\n".join(lines)
