"""A recording's metadata from a sidecar NAME.yaml, or a heard.yaml / manifest.csv in its folder.

Later sources override earlier ones, key by key: heard.yaml (defaults for the folder, and its
`recordings:` entries by file name), then the manifest.csv row, then the sidecar. Metadata is
applied when chunks are indexed, never baked into transcripts, so editing it re-indexes the
recording at the next ingest without transcribing it again.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline import config
from pipeline.errors import ConfigError, RecordingError
from pipeline.files import is_file
from pipeline.languages import language_code
from pipeline.messages import name_problem

FOLDER_FILE = "heard.yaml"
MANIFEST_FILE = "manifest.csv"
KINDS = ("interview", "podcast")
KEYS = (
    "title", "date", "kind", "company", "segment", "tags", "speakers", "num_speakers",
    # Podcasts (written by the feed step, or by hand): the show, the episode's page, its numbers, chapters.
    "show", "link", "season", "episode", "chapters",
    # The language spoken (a code: es, de, fr); when absent, the one Whisper or the text detector found.
    "language",
)  # fmt: skip
# The recording-level fields every chunk carries (and search filters or shows); each chunk also gets
# the title of its chapter, from `chapters`, when it is indexed.
CHUNK_KEYS = ("company", "segment", "kind", "date", "tags", "show", "link", "season", "episode", "language")
# What metadata may hold, so a small file cannot become a huge one in every chunk of the index
# (215 bytes of YAML aliases once expanded to a 4.3 MB title): aliases are refused, and files,
# texts and lists are capped far above any real sidecar.
MAX_FILE_BYTES = 1 << 20
T = TypeVar("T")
C = TypeVar("C", list[Any], dict[Any, Any])
MAX_TEXT = 1000  # characters of a title, company, segment, tag or role (a speaker's name: messages.NAME_MAX)
MAX_ITEMS = 100  # tags, speakers
MAX_CHAPTERS = 1000
# Bump when the way metadata and speakers turn into indexed fields changes: indexes re-derive.
# 3: every chunk records its recording's language.
VERSION = 3


def sidecar_path(recording: Path) -> Path:
    return recording.with_suffix(".yaml")


class MetadataReader:
    """Reads recordings' metadata; each folder's heard.yaml and manifest.csv is parsed once (again
    only when its size or mtime changes), not once per recording: a folder of n recordings with a
    manifest cost n whole-manifest parses per ingest run before."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[Path, int, int], Any] = {}

    def for_recording(self, recording: Path) -> dict[str, Any]:
        """The normalized metadata of one recording ({} when there is none); bad files raise RecordingError."""
        merged: dict[str, Any] = {}
        folder_file = recording.parent / FOLDER_FILE
        if is_file(folder_file):
            defaults, per_file = self._cached(folder_file, _read_folder_file)
            merged.update(defaults)
            if recording.name in per_file:
                merged.update(_normalize(per_file[recording.name] or {}, folder_file))
        manifest = recording.parent / MANIFEST_FILE
        if is_file(manifest):
            rows = self._cached(manifest, _read_manifest)
            if recording.name in rows:
                merged.update(_manifest_metadata(manifest, *rows[recording.name]))
        sidecar = sidecar_path(recording)
        if is_file(sidecar) and sidecar != recording:
            merged.update(_normalize(_read_yaml(sidecar), sidecar))
        return merged

    def _cached(self, path: Path, parse: Callable[[Path], T]) -> T:
        try:
            stat = path.stat()
        except OSError as exc:
            raise RecordingError(path, f"cannot read metadata ({exc.strerror or exc})") from exc
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key not in self._parsed:
            self._parsed[key] = parse(path)
        found: T = self._parsed[key]
        return found


def for_recording(recording: Path) -> dict[str, Any]:
    """One recording's metadata; callers that read many recordings keep one MetadataReader."""
    return MetadataReader().for_recording(recording)


def _read_folder_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """heard.yaml: (the folder's defaults, normalized; its `recordings:` entries by file name, raw)."""
    data = _read_yaml(path)
    per_file = data.pop("recordings", None) or {}
    if not isinstance(per_file, dict):
        raise RecordingError(path, "'recordings' must map file names to their metadata")
    return _normalize(data, path), per_file


def fingerprint(meta: dict[str, Any], extra: Any = None) -> str:
    """A short hash of what indexing derives from metadata; a change means re-index."""
    payload = json.dumps({"v": VERSION, "meta": meta, "extra": extra}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def chunk_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """The recording-level fields every chunk carries (and search filters on)."""
    return {k: meta[k] for k in CHUNK_KEYS if meta.get(k) not in (None, [], "")}


def chapter_at(chapters: list[dict[str, Any]], seconds: float) -> str | None:
    """The title of the chapter playing at `seconds` (chapters as in metadata, in time order)."""
    title = None
    for chapter in chapters:
        if chapter["start"] > seconds + 0.5:  # a chunk starting just before a chapter mark belongs to it
            break
        title = chapter["title"]
    return title


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RecordingError(path, f"larger than {MAX_FILE_BYTES >> 20} MB; is it really a metadata file?")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(path, f"cannot read metadata ({exc})") from exc
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader without aliases
    except _AliasFound as exc:
        raise RecordingError(path, str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise RecordingError(path, f"{where}not valid YAML ({exc.problem or exc.context}); fix the metadata file") from exc
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        # ReaderError (a control character), or a constructor's ValueError (a date in year 0).
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RecordingError(path, f"not valid YAML ({first}); fix the metadata file") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RecordingError(path, "metadata must be a mapping of keys (title, date, kind, company, segment, tags, speakers)")
    return data


class _AliasFound(Exception):
    def __init__(self, anchor: str, line: int):
        super().__init__(f"line {line}: *{anchor} is a YAML alias; aliases are not allowed in metadata, write the value out")


class _NoAliasLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses aliases (*name): an alias of an alias of ... expands a few hundred
    bytes into gigabytes ("billion laughs"), and no metadata needs one."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
            raise _AliasFound(event.anchor, event.start_mark.line + 1)
        node: yaml.Node | None = super().compose_node(parent, index)
        return node


def _text(value: Any, key: str, source: Path) -> str:
    """A text value (a title, a company, a tag): a scalar, no longer than MAX_TEXT."""
    if isinstance(value, (dict, list)):
        raise RecordingError(source, f"{key} must be text, got a {'mapping' if isinstance(value, dict) else 'list'}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise RecordingError(source, f"{key} is {len(text)} characters long; metadata values hold at most {MAX_TEXT}")
    return text


def _items(values: C, key: str, source: Path) -> C:
    if len(values) > MAX_ITEMS:
        raise RecordingError(source, f"{key} has {len(values)} entries; metadata holds at most {MAX_ITEMS}")
    return values


def _normalize(data: dict[str, Any], source: Path) -> dict[str, Any]:
    unknown = sorted(set(data) - set(KEYS) - {"recordings"})
    if unknown:
        raise RecordingError(source, f"unknown metadata key '{unknown[0]}'; known: {', '.join(KEYS)}")
    meta: dict[str, Any] = {}
    for key in ("title", "company", "segment", "show", "link"):
        if data.get(key) not in (None, ""):
            meta[key] = _text(data[key], key, source)
    for key in ("season", "episode"):
        if data.get(key) not in (None, ""):
            number = data[key]
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise RecordingError(source, f"{key} must be a number, got {_text(number, key, source)[:40]!r}")
            meta[key] = number
    if data.get("chapters") not in (None, "", []):
        meta["chapters"] = _chapters(data["chapters"], source)
    if data.get("kind") not in (None, ""):
        kind = _text(data["kind"], "kind", source).lower()
        if kind not in KINDS:
            raise RecordingError(source, f"kind '{data['kind']}' is not one of {', '.join(KINDS)}")
        meta["kind"] = kind
    if data.get("date") not in (None, ""):
        meta["date"] = _date(data["date"], source)
    if data.get("language") not in (None, ""):
        text = _text(data["language"], "language", source)
        meta["language"] = language_code(text)
        if meta["language"] is None:
            raise RecordingError(
                source, f"language '{text[:40]}' is not a language; write its code (es, de, fr) or name (spanish)"
            )
    if data.get("tags") not in (None, "", []):
        tags = data["tags"]
        if isinstance(tags, str):
            tags = [t for t in (p.strip() for p in tags.replace(";", ",").split(",")) if t]
        if not isinstance(tags, list):
            raise RecordingError(source, "tags must be a list or a comma-separated string")
        meta["tags"] = [t for t in (_text(t, "a tag", source) for t in _items(tags, "tags", source)) if t]
    if data.get("speakers") not in (None, "", [], {}):
        meta["speakers"] = _speakers(data["speakers"], source)
    if data.get("num_speakers") not in (None, ""):
        try:  # the bounds of speakers.count, which this overrides for one recording
            meta["num_speakers"] = config.check("speakers.count", data["num_speakers"], "num_speakers")
        except ConfigError as exc:
            raise RecordingError(source, str(exc)) from None
    return meta


def _date(value: Any, source: Path) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise RecordingError(source, f"date '{value}' is not a date; write it as YYYY-MM-DD") from None


def _chapters(value: Any, source: Path) -> list[dict[str, Any]]:
    """[{start: seconds, title: ...}], in time order."""
    if not isinstance(value, list):
        raise RecordingError(source, "chapters must be a list of {start: seconds, title: ...}")
    if len(value) > MAX_CHAPTERS:
        raise RecordingError(source, f"chapters has {len(value)} entries; metadata holds at most {MAX_CHAPTERS}")
    chapters = []
    for entry in value:
        if not isinstance(entry, dict) or "title" not in entry:
            raise RecordingError(source, f"chapters: cannot read {str(entry)[:60]!r}; use {{start: seconds, title: ...}}")
        try:
            start = float(entry.get("start") or 0)
        except (TypeError, ValueError):
            start = math.nan
        if not math.isfinite(start) or start < 0:
            raise RecordingError(source, f"chapters: start must be seconds, got {str(entry.get('start'))[:40]!r}")
        chapters.append({"start": start, "title": _text(entry["title"], "a chapter's title", source)})
    return sorted(chapters, key=lambda c: c["start"])


def _speakers(value: Any, source: Path) -> list[dict[str, str]]:
    """Accepts a list of {name, role, label} or a mapping `label-or-name: role` / `label: {name, role}`."""
    entries: list[dict[str, str]] = []

    def texts(item: dict[Any, Any]) -> dict[str, str]:
        return {str(k): _text(v, f"speakers: {k}", source) for k, v in item.items() if v is not None}

    if isinstance(value, dict):
        for key, item in _items(value, "speakers", source).items():
            label = _text(key, "speakers: a label", source)
            if isinstance(item, dict):
                entries.append({"label": label, **texts(item)})
            elif item is None:
                entries.append({"label": label})
            else:
                entries.append({"label": label, "role": _text(item, f"speakers: {label}", source)})
    elif isinstance(value, list):
        for item in _items(value, "speakers", source):
            if isinstance(item, str):
                entries.append({"name": _text(item, "speakers: a name", source)})
            elif isinstance(item, dict):
                entries.append(texts(item))
            else:
                raise RecordingError(source, f"speakers: cannot read entry {item!r}; use {{name: ..., role: ...}}")
    else:
        raise RecordingError(source, "speakers must be a list of {name, role} or a mapping of speaker to role")
    for entry in entries:
        bad = set(entry) - {"name", "role", "label"}
        if bad:
            raise RecordingError(source, f"speakers: unknown key '{sorted(bad)[0]}'; use name, role and label")
        for key in ("name", "label"):  # a label-or-name key names the speaker when it is no label
            problem = name_problem(entry[key]) if key in entry else None
            if problem:
                raise RecordingError(source, f"speakers: {'a name' if key == 'name' else 'a speaker'}: {problem}")
        if "role" in entry:
            entry["role"] = entry["role"].strip().lower()
    return entries


def _read_manifest(manifest: Path) -> dict[str, tuple[int, dict[str, str]]]:
    """manifest.csv: file name -> (line number, the row's non-empty cells by lower-cased column).

    A row with more cells than columns (an unquoted comma: `a.mp3,Acme, Inc.`) is kept as a
    problem of its own file's, so that recording fails naming the line and the others go on."""
    rows: dict[str, tuple[int, dict[str, str]]] = {}
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            key = next((c for c in ("file", "recording", "path", "filename") if c in columns), None)
            if key is None:
                raise RecordingError(manifest, "line 1: needs a 'file' column naming each recording")
            for raw in reader:
                extra = raw.pop(None, None)  # DictReader's restkey: cells past the last column
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                cells = {k: v for k, v in row.items() if k != key and v}
                if extra:
                    cells = {_TOO_MANY: f"{len(reader.fieldnames or []) + len(extra)} cells for {len(columns)} columns"}
                # The first row naming a file counts, as a reader of the file would expect.
                rows.setdefault(Path(row[key]).name, (reader.line_num, cells))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordingError(manifest, f"cannot read the manifest ({exc})") from exc
    return rows


_TOO_MANY = "\0too many cells"  # a key no column can have


def _manifest_metadata(manifest: Path, line: int, row: dict[str, str]) -> dict[str, Any]:
    if _TOO_MANY in row:
        raise RecordingError(
            manifest, f'line {line}: {row[_TOO_MANY]}; put quotes around a value that holds a comma ("Acme, Inc.")'
        )
    data: dict[str, Any] = dict(row)
    if "speakers" in data:
        # "Dana: interviewer; Sam Lee: customer"
        pairs = [p.split(":", 1) for p in data["speakers"].split(";") if p.strip()]
        data["speakers"] = {p[0].strip(): (p[1].strip() if len(p) > 1 else None) for p in pairs}
    if "num_speakers" in data:
        try:
            data["num_speakers"] = int(data["num_speakers"])
        except ValueError:
            raise RecordingError(manifest, f"line {line}: num_speakers must be a number") from None
    try:
        return _normalize(data, manifest)
    except RecordingError as exc:
        raise RecordingError(manifest, f"line {line}: {exc.reason}") from None
