"""What a fetched feed changes in the feed's state: new episodes become pending, one whose audio
changed is fetched again, the others take the feed's current details (title, persons, ...). Used by
ingest (sync.py) and by `heard feeds add`, which records what it saw when it checked the feed."""

from __future__ import annotations

from pipeline.sources.feeds import identity, published
from pipeline.sources.feeds.parse import Episode, Person
from pipeline.sources.feeds.state import DONE, PENDING, EpisodeRecord, FeedState

# podcast:person roles that speak on the episode, as heard's roles.
SPEAKING_ROLES = {"host": "host", "co-host": "host", "cohost": "host", "guest": "guest"}


def merge_episodes(state: FeedState, feed_url: str, episodes: list[Episode]) -> None:
    """Bring `episodes`, as the feed at `feed_url` lists them now, into `state`."""
    seen: set[str] = set()
    for episode in episodes:
        key = identity.episode_key(feed_url, episode)
        if key is None or key in seen or not episode.enclosure_url:
            continue  # no audio (a text post), or a duplicate item: the first one counts
        seen.add(key)
        record = state.episodes.pop(key, None) or _adopted(state, feed_url, episode)
        fresh = _record(key, episode)
        if record is not None:
            fresh.file, fresh.status, fresh.error = record.file, record.status, record.error
            fresh.holds, fresh.holds_length = record.holds, record.holds_length
            if not identity.same_audio(record.holds, record.holds_length, episode):
                fresh.status = PENDING  # new audio for the same episode: fetched and transcribed again
        state.episodes[key] = fresh
    for key in [k for k, r in state.episodes.items() if k not in seen and r.status != DONE]:
        del state.episodes[key]  # left the feed before it was fetched: nothing to keep or retry


def _adopted(state: FeedState, feed_url: str, episode: Episode) -> EpisodeRecord | None:
    """The record an earlier version of heard kept for `episode` under another key, if any."""
    for old_key in identity.legacy_keys(feed_url, episode):
        if old_key in state.episodes:
            return state.episodes.pop(old_key)
    return None


def _record(key: str, episode: Episode) -> EpisodeRecord:
    """What the state keeps of an episode as the feed lists it now."""
    assert episode.enclosure_url is not None  # episodes without audio are skipped before
    choice = published.choose_transcript(episode.transcripts)
    public = identity.public_url
    return EpisodeRecord(
        key=key,
        title=episode.title or identity.title_from_url(episode.enclosure_url),
        enclosure_url=public(episode.enclosure_url),
        enclosure_type=episode.enclosure_type,
        enclosure_length=episode.enclosure_length,
        guid=episode.guid,
        published=episode.published.date().isoformat() if episode.published else None,
        link=public(episode.link) if episode.link else None,
        season=episode.season,
        number=episode.number,
        transcript=[public(choice[0].url), choice[1]] if choice else None,
        chapters_url=public(episode.chapters_url) if episode.chapters_url else None,
        speakers=_speakers(episode.persons),
    )


def _speakers(persons: list[Person]) -> list[dict[str, str]]:
    return [{"name": p.name, "role": SPEAKING_ROLES[p.role]} for p in persons if p.group == "cast" and p.role in SPEAKING_ROLES]
