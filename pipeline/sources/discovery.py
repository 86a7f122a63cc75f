"""Find recordings (audio, or transcript files people already have) and identify each by a hash of its content."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.files import hash_file, is_file

AUDIO_EXTENSIONS = frozenset(".mp3 .m4a .aac .wav .flac .ogg .oga .opus .webm .mp4 .m4v .mov .mkv .wma .aiff .aif".split())

# Enough of the hash to make collisions practically impossible while keeping ids readable.
ID_LENGTH = 16


# Transcript files heard imports (see pipeline/importers.py), in order of preference when several
# sit beside one recording.
TRANSCRIPT_EXTENSIONS = (".vtt", ".srt", ".txt", ".json")


@dataclass(frozen=True)
class Recording:
    path: Path  # the audio to play, or the transcript file when there is no audio
    sha256: str  # of the content: the audio, the transcript, or both when they come together
    size: int
    transcript: Path | None = None  # a transcript file to import instead of transcribing

    @property
    def has_audio(self) -> bool:
        return self.path.suffix.lower() in AUDIO_EXTENSIONS

    @property
    def id(self) -> str:
        return self.sha256[:ID_LENGTH]

    @property
    def title(self) -> str:
        return title_from_path(self.path)


def is_transcript_file(path: Path) -> bool:
    return path.suffix.lower() in TRANSCRIPT_EXTENSIONS


def title_from_path(path: Path) -> str:
    """'acme-export_call.mp3' -> 'Acme export call'."""
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


@dataclass
class Found:
    """What discovery saw: the recordings, and the folders it could not read (whose recordings it
    therefore cannot vouch for: a run must not take them for deleted)."""

    files: list[Path]
    unreadable: dict[Path, str] = field(default_factory=dict)  # folder -> why


def find_recordings(paths: list[str | Path], *, exclude: tuple[Path, ...] = ()) -> Found:
    """Audio and video files, and transcript files, under `paths` (files are taken as given, folders
    searched recursively). A transcript beside a recording of the same name belongs to that recording
    and is not listed on its own. Folders in `exclude` (heard's own transcripts/) are skipped.

    Sorted, de-duplicated and hidden files skipped, so runs over the same tree see the same order.
    A folder that cannot be listed (permissions, a failing disk or share) is reported, not skipped.
    """
    found: set[Path] = set()
    unreadable: dict[Path, str] = {}
    excluded = tuple(p.resolve() for p in exclude)
    wanted = AUDIO_EXTENSIONS.union(TRANSCRIPT_EXTENSIONS)

    def cannot_list(exc: OSError) -> None:
        unreadable[Path(exc.filename).resolve()] = f"cannot read this folder ({exc.strerror or exc})"

    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise ConfigError(f"{given}: no such file or folder; check the path")
        if path.is_file():
            found.add(path.resolve())
            continue
        for folder, subfolders, names in os.walk(path, onerror=cannot_list):
            here = Path(folder)
            # Hidden folders and heard's own (transcripts/, index/) are not looked into.
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and not _inside((here / d).resolve(), excluded))
            for name in names:
                candidate = here / name
                if name.startswith(".") or candidate.suffix.lower() not in wanted or not is_file(candidate):
                    continue
                if is_transcript_file(candidate) and _audio_beside(candidate) is not None:
                    continue
                found.add(candidate.resolve())
    return Found(sorted(found), unreadable)


def discover(paths: list[str | Path], *, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """The recordings under `paths` (see find_recordings)."""
    return find_recordings(paths, exclude=exclude).files


def _inside(path: Path, folders: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def _audio_beside(transcript: Path) -> Path | None:
    for sibling in sorted(transcript.parent.glob(glob.escape(transcript.stem) + ".*")):
        if sibling.stem == transcript.stem and sibling.suffix.lower() in AUDIO_EXTENSIONS and is_file(sibling):
            return sibling
    return None


def transcript_beside(recording: Path) -> Path | None:
    """call.vtt (or .srt, .txt, .json) beside call.mp3: its text and speakers are used instead of Whisper's."""
    for extension in TRANSCRIPT_EXTENSIONS:
        for candidate in (recording.with_suffix(extension), recording.with_suffix(extension.upper())):
            if is_file(candidate):
                return candidate
    return None


def identify(path: Path) -> Recording:
    """The Recording for a file; raises OSError if it cannot be read.

    An audio file with a transcript beside it is identified by both contents, so editing the
    transcript makes a new recording (the old one's chunks are replaced at that path).
    """
    if is_transcript_file(path):
        return Recording(path=path, sha256=hash_file(path), size=path.stat().st_size, transcript=path)
    transcript = transcript_beside(path)
    if transcript is None:
        return Recording(path=path, sha256=hash_file(path), size=path.stat().st_size)
    both = hashlib.sha256(f"{hash_file(path)}+{hash_file(transcript)}".encode()).hexdigest()
    return Recording(path=path, sha256=both, size=path.stat().st_size, transcript=transcript)
