"""The feeds a data dir subscribes to: <data dir>/feeds.yaml, a list a person can read and edit.

    feeds:
      - url: https://example.com/feed.xml
        name: Builders & Buyers        # optional: the show name hits carry (default: the feed's title)
        added: 2026-11-28

Written atomically, and changed under a lock (<data dir>/feeds/.feeds.yaml.lock): six `heard feeds
add` at once keep all six. Owner-only (0600): a feed URL may carry a password, and this is the only
file that keeps it. `heard ingest --feeds` reads it at the start of a run.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.files import LockTimeout, changing, write_text_atomically
from pipeline.messages import name_problem, redact
from pipeline.sources.feeds import identity
from pipeline.sources.feeds.fetch import Client, check_url
from pipeline.sources.feeds.parse import Feed, FeedError

SUBSCRIPTIONS_FILE = "feeds.yaml"
LOCK_FILE = "feeds/.feeds.yaml.lock"  # in feeds/, which a repository's .gitignore already leaves out


@dataclass
class Subscription:
    url: str
    name: str | None = None
    added: str | None = None  # YYYY-MM-DD


def subscriptions_path(data_dir: Path) -> Path:
    return data_dir / SUBSCRIPTIONS_FILE


def load(data_dir: Path) -> list[Subscription]:
    """The subscriptions, in the order they were added ([] when there is no feeds.yaml)."""
    import yaml

    path = subscriptions_path(data_dir)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the subscriptions ({str(exc).splitlines()[0]}); fix or delete the file") from exc
    entries = data.get("feeds") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected 'feeds:' with a list of {{url, name}}; fix or delete the file")
    found = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ConfigError(f"{path}: feed {number} needs a 'url'; fix the file")
        try:
            check_url(entry["url"])
        except FeedError as exc:
            raise ConfigError(f"{path}: feed {number}: {exc}") from None
        name = str(entry["name"]).strip() if entry.get("name") is not None else ""
        problem = name_problem(name) if name else None
        if problem:
            raise ConfigError(f"{path}: feed {number}: the name {problem}; fix the file")
        found.append(Subscription(entry["url"].strip(), name or None, str(entry["added"]) if entry.get("added") else None))
    return found


def checked_name(name: str | None) -> str | None:
    """A show name as given to --name, trimmed; ConfigError when it breaks the one rule for names
    (messages.name_problem: one line, no control character, at most 200 characters)."""
    if name is None:
        return None
    problem = name_problem(name)
    if problem:
        raise ConfigError(f"--name: {problem}")
    return name.strip()


def save(data_dir: Path, subscriptions: list[Subscription]) -> None:
    import yaml

    entries = [{k: v for k, v in (("url", s.url), ("name", s.name), ("added", s.added)) if v} for s in subscriptions]
    data_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomically(
        subscriptions_path(data_dir),
        "# heard's podcast subscriptions: heard feeds add/list/remove, heard ingest --feeds\n"
        + yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True),
        mode=0o600,
    )


@contextlib.contextmanager
def _changing(data_dir: Path) -> Iterator[None]:
    """The lock every read-change-write of feeds.yaml holds."""
    try:
        with changing(data_dir / LOCK_FILE):
            yield
    except LockTimeout:
        raise ConfigError(
            f"{subscriptions_path(data_dir)}: another heard has been changing the subscriptions for 30 s; try again"
        ) from None


def add(data_dir: Path, url: str, *, name: str | None = None) -> tuple[Subscription, bool]:
    """Subscribe (or rename an existing subscription); returns it and whether it is new."""
    check_url(url)
    name = checked_name(name)
    with _changing(data_dir):
        subscriptions = load(data_dir)
        for existing in subscriptions:
            if existing.url == url.strip():
                if name and name != existing.name:
                    existing.name = name
                    save(data_dir, subscriptions)
                return existing, False
        subscription = Subscription(url.strip(), name, datetime.date.today().isoformat())
        save(data_dir, subscriptions + [subscription])
    return subscription, True


def remove(data_dir: Path, url: str) -> Subscription:
    """Unsubscribe; what was indexed from the feed stays. ConfigError if it is not subscribed."""
    with _changing(data_dir):
        subscriptions = load(data_dir)
        kept = [s for s in subscriptions if s.url != url.strip()]
        if len(kept) == len(subscriptions):
            raise ConfigError(f"{url}: not subscribed; `heard feeds list` shows the subscriptions")
        save(data_dir, kept)
    return next(s for s in subscriptions if s.url == url.strip())


def subscribe(url: str, settings: Settings, *, name: str | None = None) -> tuple[Subscription, bool, str, int]:
    """Check that `url` is a readable feed, then subscribe to it. Returns the subscription, whether it
    is new, the feed's title and how many episodes with audio it lists; ConfigError (nothing
    subscribed) when it is not a readable feed."""
    from pipeline.sources.feeds.parse import parse_feed
    from pipeline.sources.feeds.sync import limits_of

    name = checked_name(name)  # before anything is fetched
    try:
        check_url(url)
        with Client(limits_of(settings)) as client:
            feed = parse_feed(client.fetch_feed(url).body or b"", url)
    except FeedError as exc:
        raise ConfigError(f"{exc}; nothing was subscribed") from None
    subscription, new = add(settings.data_dir, url, name=name)
    _remember_check(settings.data_dir, url, feed)
    return subscription, new, feed.title, sum(1 for e in feed.episodes if e.enclosure_url)


def _remember_check(data_dir: Path, url: str, feed: Feed) -> None:
    """What `feeds add` saw, in the feed's state, so that `feeds list` shows it (its title, when it
    was checked, its episodes as pending); only for a feed no ingest has fetched yet, read and written
    under the state's lock that every ingest save takes. No ETag: the first ingest reads the whole feed."""
    from pipeline.sources.feeds.merge import merge_episodes
    from pipeline.sources.feeds.state import FeedState, changing_state, feed_folder

    folder = feed_folder(data_dir, url)
    with changing_state(folder):  # an ingest saving meanwhile writes before this read or after this write
        state = FeedState.load(folder, identity.public_url(url))
        if state.checked_at is not None:
            return
        state.title = feed.title
        state.checked_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        merge_episodes(state, url, feed.episodes)
        state.save(folder, locked=True)


def unsubscribe(url: str, settings: Settings) -> tuple[str, Path]:
    """Remove a subscription; returns its name (or the feed's title) and the folder whose episodes stay indexed."""
    from pipeline.sources.feeds.state import FeedState, feed_folder

    subscription = remove(settings.data_dir, url)
    folder = feed_folder(settings.data_dir, url)
    return subscription.name or FeedState.load(folder, url).title or redact(url), folder


class SubscriptionRow(TypedDict):
    """One line of `heard feeds list` (its JSON form has these keys)."""

    url: str  # without its password (http://***@host/...)
    name: str | None
    title: str | None
    added: str | None
    checked_at: str | None  # ISO time of the last fetch; None before the first
    episodes: int
    fetched: int
    failed: int
    folder: str


def describe(settings: Settings) -> list[SubscriptionRow]:
    """Each subscription with what the last ingest found: title, when checked, episodes indexed or failed."""
    from pipeline.sources.feeds.state import DONE, FAILED, FeedState, feed_folder

    rows: list[SubscriptionRow] = []
    for subscription in load(settings.data_dir):
        folder = feed_folder(settings.data_dir, subscription.url)
        state = FeedState.load(folder, subscription.url)
        statuses = [e.status for e in state.episodes.values()]
        rows.append(
            {
                "url": redact(subscription.url),
                "name": subscription.name or state.title,
                "title": state.title,
                "added": subscription.added,
                "checked_at": state.checked_at,
                "episodes": len(statuses),
                "fetched": statuses.count(DONE),
                "failed": statuses.count(FAILED),
                "folder": str(folder),
            }
        )
    return rows


def feeds_and_paths(
    arguments: list[str], data_dir: Path, *, subscribed: bool
) -> tuple[list[tuple[str, str | None]], list[str | Path]]:
    """Split ingest's arguments: an http(s) URL is a feed, anything else a path that must exist.
    With `subscribed`, every subscription comes first. Returns ((url, show name) feeds, paths);
    ConfigError (exit 2) for a URL of another scheme, a missing path, or nothing to do."""
    feeds = [(s.url, s.name) for s in load(data_dir)] if subscribed else []
    paths: list[str | Path] = []
    for given in arguments:
        if "://" in given:
            try:
                check_url(given)
            except FeedError as exc:
                raise ConfigError(f"{exc}; give a feed's http(s) URL or a folder") from None
            if given not in [url for url, _ in feeds]:
                feeds.append((given, None))
        elif not Path(given).expanduser().exists():
            raise ConfigError(f"{given}: no such file or folder; check the path")
        else:
            paths.append(given)
    if not arguments and not subscribed:
        raise ConfigError("nothing to ingest: give folders, files or feed URLs, or --feeds for the subscribed feeds")
    if subscribed and not feeds and not paths:
        raise ConfigError(f"{subscriptions_path(data_dir)}: no subscribed feeds; add one with `heard feeds add URL`")
    return feeds, paths
