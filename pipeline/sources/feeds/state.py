"""What a feed's folder remembers between runs: .feed.json, the feed's state (its ETag /
Last-Modified, its title, when it was checked, and every episode seen with what was done about
it). The state is a cache of the feed: a damaged one is rebuilt by the next fetch."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.files import LockTimeout, changing, write_text_atomically
from pipeline.sources.feeds import identity

FEEDS_DIR = "feeds"
STATE_FILE = ".feed.json"
# Two writers of the state: ingest (under the data dir's lock) and `feeds add` (what it saw, only for
# a feed no ingest has fetched yet). Every save, and the add's read-check-write, hold this flock.
STATE_LOCK = ".feed.json.lock"
DONE, PENDING, FAILED = "done", "pending", "failed"


@dataclass
class EpisodeRecord:
    """What the state file remembers of an episode."""

    key: str
    title: str
    enclosure_url: str
    enclosure_type: str | None = None
    enclosure_length: int | None = None  # as the feed gives it now
    guid: str | None = None
    published: str | None = None  # ISO date
    link: str | None = None
    season: int | None = None
    number: float | None = None
    transcript: list[str] | None = None  # [url, format] of the timed transcript chosen
    chapters_url: str | None = None
    speakers: list[dict[str, str]] = field(default_factory=list)
    file: str | None = None  # the audio's name in the feed folder, once chosen
    holds: str | None = None  # the enclosure (URL without query) the audio file holds
    holds_length: int | None = None  # and its length as the feed gave it then
    status: str = PENDING
    error: str | None = None


@dataclass
class FeedState:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    checked_at: str | None = None
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, url: str) -> FeedState:
        path = folder / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            episodes = {k: EpisodeRecord(**v) for k, v in data.pop("episodes", {}).items()}
            return cls(**{**data, "episodes": episodes})
        except FileNotFoundError:
            return cls(url=url)
        except (OSError, ValueError, TypeError) as exc:
            # The state is a cache of the feed: rebuilt by the next fetch (files already there are kept).
            del exc
            return cls(url=url)

    def save(self, folder: Path, *, locked: bool = False) -> None:
        """Write the state; `locked`: the caller already holds `changing_state(folder)`."""
        data = {**asdict(self), "episodes": {k: asdict(v) for k, v in self.episodes.items()}}
        if locked:
            write_text_atomically(folder / STATE_FILE, json.dumps(data, ensure_ascii=False, indent=1))
            return
        with changing_state(folder):
            write_text_atomically(folder / STATE_FILE, json.dumps(data, ensure_ascii=False, indent=1))


@contextlib.contextmanager
def changing_state(folder: Path) -> Iterator[None]:
    """The lock every write of a feed's state holds (a read-check-write holds it throughout)."""
    try:
        with changing(folder / STATE_LOCK):
            yield
    except LockTimeout:
        raise ConfigError(f"{folder / STATE_FILE}: another heard has been writing it for 30 s; try again") from None


def feeds_root(data_dir: Path) -> Path:
    return data_dir / FEEDS_DIR


def feed_folder(data_dir: Path, url: str) -> Path:
    return feeds_root(data_dir) / identity.feed_folder_name(url)


def adopt_legacy_folder(data_dir: Path, url: str) -> None:
    """Rename the folder an earlier heard named from the feed URL with its password, if any (ingest,
    under the data dir's lock, calls this; its episodes are then seen as moved, not new)."""
    folder = feed_folder(data_dir, url)
    legacy = feeds_root(data_dir) / identity.legacy_folder_name(url)
    if legacy != folder and legacy.is_dir() and not folder.exists():
        legacy.rename(folder)


def partial_downloads(data_dir: Path) -> list[tuple[Path, int]]:
    """Downloads an earlier run left unfinished (hidden .part files in the feed folders), with their
    sizes: the next ingest resumes them; deleting them frees the space."""
    found = []
    for part in sorted(feeds_root(data_dir).glob("*/.*.part")):
        try:
            found.append((part, part.stat().st_size))
        except OSError:
            continue  # gone meanwhile
    return found
