"""Find recordings under the given paths and identify each by a hash of its content."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

AUDIO_EXTENSIONS = frozenset(
    ".mp3 .m4a .aac .wav .flac .ogg .oga .opus .webm .mp4 .m4v .mov .mkv .wma .aiff .aif".split()
)

# Enough of the hash to make collisions practically impossible while keeping ids readable.
ID_LENGTH = 16


@dataclass(frozen=True)
class Recording:
    path: Path
    sha256: str
    size: int

    @property
    def id(self) -> str:
        return self.sha256[:ID_LENGTH]

    @property
    def title(self) -> str:
        return title_from_path(self.path)


def title_from_path(path: Path) -> str:
    """'acme-export_call.mp3' -> 'Acme export call'."""
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def discover(paths: list[str | Path]) -> list[Path]:
    """Audio and video files under `paths` (files are taken as given, folders searched recursively).

    Sorted, de-duplicated and hidden files skipped, so runs over the same tree see the same order.
    """
    found: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise ConfigError(f"{given}: no such file or folder; check the path")
        if path.is_file():
            found.add(path.resolve())
            continue
        for candidate in path.rglob("*"):
            if candidate.suffix.lower() not in AUDIO_EXTENSIONS or not candidate.is_file():
                continue
            if any(part.startswith(".") for part in candidate.relative_to(path).parts):
                continue
            found.add(candidate.resolve())
    return sorted(found)


def hash_file(path: Path, block_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()


def identify(path: Path) -> Recording:
    """The Recording for a file; raises OSError if it cannot be read."""
    return Recording(path=path, sha256=hash_file(path), size=path.stat().st_size)
