"""Which episode is which across runs, and the file names episodes get in the data dir.

An episode is its feed plus its guid. Without a guid, its title and publication date: not its
enclosure URL, which some hosts rotate on every fetch (`/rot/<n>/ep.mp3`, tracking parameters), so
that identity would store a new copy every run and never delete one. Without a date, its title and
the enclosure's length (when the feed gives a real one); then the enclosure URL without the query
string; then title and duration. Whether an episode's audio is new (`same_audio`): the
enclosure's length when the feed gives real lengths, else its URL without the query, which a
guid-less episode's rotating path makes useless, so there a changed length alone fetches again.

File names come from that identity and the episode's date and title, never from the enclosure's
own name, so a feed cannot choose where heard writes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from pipeline.sources.feeds.parse import Episode

KEY_LENGTH = 12
# A length under this is a placeholder (feeds write 0 or 1 when they do not know), not the file's size.
REAL_LENGTH = 1024
# Suffixes kept from an enclosure URL's path; anything else is named by its MIME type.
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4", ".m4v", ".mov", ".webm")
SUFFIX_OF_TYPE = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/x-mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
}


def without_query(url: str) -> str:
    """'https://cdn/ep1.mp3?utm=x#t' -> 'https://cdn/ep1.mp3'."""
    return urlsplit(url.strip())._replace(query="", fragment="").geturl()


def public_url(url: str) -> str:
    """The URL without its user name and password ('https://u:secret@host/f' -> 'https://host/f'):
    what heard writes anywhere but feeds.yaml, and what names and keys are made from."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url.strip()
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def with_credentials(url: str, feed_url: str) -> str:
    """`url` with the feed URL's user name and password when it has none of its own and is on the
    feed's server (scheme, host and port): a private feed's enclosures and transcripts need them."""
    target, feed = urlsplit(url), urlsplit(feed_url.strip())
    if "@" in target.netloc or "@" not in feed.netloc:
        return url
    same_server = (target.scheme, target.hostname, target.port) == (feed.scheme, feed.hostname, feed.port)
    return target._replace(netloc=feed.netloc).geturl() if same_server else url


def real_length(length: int | None) -> int | None:
    return length if length is not None and length >= REAL_LENGTH else None


def episode_identity(episode: Episode) -> str | None:
    """What identifies the episode within its feed, or None when nothing does."""
    if episode.guid:
        return f"guid:{episode.guid}"
    if episode.title and episode.published:
        return f"dated:{episode.title}|{episode.published.date().isoformat()}"
    if episode.title and real_length(episode.enclosure_length):
        return f"sized:{episode.title}|{episode.enclosure_length}"
    if episode.enclosure_url:
        return f"enclosure:{without_query(episode.enclosure_url)}"
    if episode.title and episode.duration:
        return f"title:{episode.title}|{round(episode.duration)}"
    return None


def episode_key(feed_url: str, episode: Episode) -> str | None:
    """A short, stable key for the episode: a hash of the feed URL (as subscribed, without a password)
    and its identity."""
    identity = episode_identity(episode)
    return _key(public_url(feed_url), identity) if identity is not None else None


def legacy_keys(feed_url: str, episode: Episode) -> list[str]:
    """Keys earlier versions of heard gave the episode (from the feed URL with its password; a
    guid-less one by its enclosure URL), so that an existing feed folder keeps its files instead of
    fetching every episode again."""
    identity = episode_identity(episode)
    found = [_key(feed_url, identity)] if identity is not None else []
    if not episode.guid and episode.enclosure_url:
        found += [_key(url, f"enclosure:{without_query(episode.enclosure_url)}") for url in (feed_url, public_url(feed_url))]
    current = episode_key(feed_url, episode)
    return [key for key in dict.fromkeys(found) if key != current]


def _key(feed_url: str, identity: str) -> str:
    return hashlib.sha256(f"{feed_url.strip()}\n{identity}".encode()).hexdigest()[:KEY_LENGTH]


def same_audio(held_url: str | None, held_length: int | None, episode: Episode) -> bool:
    """Whether the file fetched from `held_url` (its feed-given length `held_length`) is still the
    episode's audio: the same real length, else (no real lengths) the same URL without the query;
    a guid-less episode's URL is not trusted (its path may rotate), only a changed length counts."""
    if held_url is None or not episode.enclosure_url:
        return False
    old, new = real_length(held_length), real_length(episode.enclosure_length)
    if old and new:
        return old == new
    return not episode.guid or public_url(held_url) == public_url(without_query(episode.enclosure_url))


def feed_folder_name(feed_url: str) -> str:
    """'https://example.com/shows/feed.xml' -> 'example-com-shows-feed-xml-1a2b3c4d' (readable, unique);
    made from the URL without its password, which must never be in a file name."""
    return _folder_name(public_url(feed_url))


def legacy_folder_name(feed_url: str) -> str:
    """The name earlier versions of heard gave the folder (from the URL with its password)."""
    return _folder_name(feed_url.strip())


def _folder_name(url: str) -> str:
    parts = urlsplit(url)
    readable = _slug(f"{parts.netloc} {parts.path}", 48)
    return f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def episode_file_stem(episode: Episode, key: str) -> str:
    """'2026-03-03-episode-12-pricing-pages-that-convert-1a2b3c4d5e6f': date, title, key."""
    date = episode.published.date().isoformat() if episode.published else "undated"
    title = _slug(episode.title, 60)
    return f"{date}-{title}-{key}" if title else f"{date}-{key}"


def audio_suffix(url: str, content_type: str | None) -> str:
    """A suffix heard's discovery reads as audio: the URL path's, else the MIME type's, else .mp3.

    The decoder probes the content, so a wrong guess costs nothing; what matters is that the name
    is heard's, not the publisher's.
    """
    path_suffix = "." + unquote(urlsplit(url).path).rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
    if path_suffix in AUDIO_SUFFIXES:
        return path_suffix
    return SUFFIX_OF_TYPE.get((content_type or "").split(";")[0].strip().lower(), ".mp3")


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def title_from_url(url: str) -> str:
    """A title for an episode the feed gives none: its file's name ('https://x/ep-12.mp3' -> 'ep-12')."""
    name = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] or "Untitled episode"
