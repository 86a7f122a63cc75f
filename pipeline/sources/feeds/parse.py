"""A podcast feed's XML -> Feed and Episodes: RSS 2.0 and Atom, with the itunes: and podcast: namespaces,
and the older formats feed readers still read: Atom 0.3, RSS 1.0 (rdf:RDF, with enc:enclosure) and
RSS 2.0 in the userland namespace. The bytes are decoded first as feed readers do (decode.py).

Parsed with the standard library's ElementTree (expat), not feedparser or podcastparser:
scripts/compare_feed_parsers.py measured what each keeps on the sample feeds in
tests/data/feeds/ (table in docs/feeds.md). feedparser keeps one podcast:transcript and one
podcast:person per episode (the last; persons without their names) and leaves relative URLs in
those tags unresolved; podcastparser reads the podcast: namespace only under its old GitHub URI
(none of it under https://podcastindex.org/namespace/1.0) and keeps one transcript URL without
its type. Reading the namespaces by URI here keeps every fact those two lose; lxml's recover
mode read two malformed samples but silently dropped characters, and adds a compiled dependency.

Entity declarations are refused (no billion laughs, no external entities); expat never fetches
anything. A malformed feed fails with the line and column expat reports.
"""

from __future__ import annotations

import datetime
import functools
import html
import pyexpat
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

from pipeline.messages import redact
from pipeline.sources.feeds import values
from pipeline.sources.feeds.decode import decode_feed
from pipeline.sources.feeds.errors import FeedError

__all__ = ["FeedError", "parse_feed"]

NAMESPACES = {
    # Atom 1.0, and Atom 0.3 (the same element names; dates in issued / created / modified).
    "atom": {"http://www.w3.org/2005/atom", "http://purl.org/atom/ns#"},
    "itunes": {"http://www.itunes.com/dtds/podcast-1.0.dtd", "https://www.itunes.com/dtds/podcast-1.0.dtd"},
    # The spec's URI, and the GitHub one that early Podcasting 2.0 feeds (and podcastparser) use.
    "podcast": {
        "https://podcastindex.org/namespace/1.0",
        "http://podcastindex.org/namespace/1.0",
        "https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
    },
    "media": {"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"},
    "dc": {"http://purl.org/dc/elements/1.1/"},
    "rdf": {"http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
    "enc": {"http://purl.oclc.org/net/rss_2.0/enc#"},
    # RSS 2.0 and its relatives are read by their element names: no namespace, RSS 1.0's and 0.9's
    # (under rdf:RDF), and the userland and Harvard URIs some RSS 2.0 feeds declare as the default.
    "": {
        "",
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://backend.userland.com/rss2",
        "http://blogs.law.harvard.edu/tech/rss",
    },
}
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# An entry's date: Atom 1.0's, then Atom 0.3's.
ATOM_DATES = ("published", "updated", "issued", "created", "modified")


@dataclass(frozen=True)
class TranscriptLink:
    url: str
    type: str  # MIME type as the feed gives it, lower case ("" when missing)
    language: str | None = None
    rel: str | None = None  # "captions" for subtitles


@dataclass(frozen=True)
class Person:
    name: str
    role: str = "host"  # the podcast namespace's default
    group: str = "cast"
    href: str | None = None


@dataclass
class Episode:
    guid: str | None
    title: str
    link: str | None = None
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    published: datetime.datetime | None = None  # UTC
    duration: float | None = None  # seconds, as the feed claims
    season: int | None = None
    number: float | None = None  # podcast:episode may be 12.5
    transcripts: list[TranscriptLink] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    chapters_url: str | None = None


@dataclass
class Feed:
    url: str
    title: str
    link: str | None = None
    author: str | None = None
    persons: list[Person] = field(default_factory=list)  # the show's regulars (channel level)
    episodes: list[Episode] = field(default_factory=list)


def parse_feed(data: bytes, url: str) -> Feed:
    """The feed in `data`, fetched from `url` (the base for relative links); raises FeedError."""
    text = decode_feed(data, url)
    try:
        root = _parse_xml(text, url, namespaces=True)
    except _UnboundPrefix:
        # Real feeds use itunes: or podcast: without declaring them (podcastparser keeps a test of
        # it): read those by their conventional prefixes instead of failing the feed.
        root = _parse_xml(text, url, namespaces=False)
    base = urljoin(url, _xml_base(root))
    key = _key(root.tag)
    if key in (("", "rss"), ("rdf", "RDF")):
        top = _grouped(root)
        channel = _one(top, "", "channel")
        if channel is None:
            raise FeedError(url, "an RSS document without a <channel>; check the feed URL")
        # RSS 1.0 and 0.9 put the items beside the channel, RSS 2.0 inside it.
        return _rss(channel, base, url, outside=_all(top, "", "item"))
    if key == ("atom", "feed"):
        return _atom(root, base, url)
    raise FeedError(url, f"not an RSS or Atom feed (the document is <{root.tag.rpartition('}')[2]}>); check the feed URL")


class _UnboundPrefix(Exception):
    pass


def _parse_xml(text: str, url: str, *, namespaces: bool) -> ET.Element:
    """ElementTree's tree, built from pyexpat directly so that entity declarations can be refused
    (ElementTree's own parser does not expose that hook). Without `namespaces`, tags keep their
    prefixes ('itunes:duration')."""
    parser = pyexpat.ParserCreate(namespace_separator="}") if namespaces else pyexpat.ParserCreate()
    builder = ET.TreeBuilder()

    def start(tag: str, attributes: dict[str, str]) -> None:
        builder.start(_clark(tag), {_clark(k): v for k, v in attributes.items()})

    def refuse_entities(*_args: object) -> None:
        raise FeedError(url, "the feed declares XML entities, which heard refuses (entity expansion attacks)")

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_clark(tag))
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse_entities
    parser.buffer_text = True
    # Leading whitespace before the XML declaration is an expat error, and common enough in real feeds.
    # Given text, expat reads it as UTF-8 whatever the declaration says (decode.py decoded it).
    try:
        parser.Parse(text.lstrip("\ufeff \t\r\n"), True)
        return builder.close()
    except pyexpat.ExpatError as exc:
        reason = pyexpat.errors.messages[exc.code]
        if namespaces and reason == pyexpat.errors.XML_ERROR_UNBOUND_PREFIX:
            raise _UnboundPrefix from None
        raise FeedError(
            url, f"not well-formed XML ({reason} at line {exc.lineno}, column {exc.offset + 1}); is the URL a feed?"
        ) from None


def _xml_base(element: ET.Element) -> str:
    return element.get(XML_BASE) or element.get("xml:base") or ""


def _clark(name: str) -> str:
    """pyexpat's 'uri}local' -> ElementTree's '{uri}local'."""
    return "{" + name if "}" in name else name


def _rss(channel: ET.Element, base: str, url: str, *, outside: list[ET.Element]) -> Feed:
    base = urljoin(base, _xml_base(channel))
    show = _grouped(channel)
    feed = Feed(
        url=url,
        title=_text(_one(show, "", "title")) or redact(url),
        link=_page(base, _text(_one(show, "", "link"))),
        author=_text(_one(show, "itunes", "author")),
        persons=_persons(show, base),
    )
    for item in _all(show, "", "item") + outside:
        item_base = urljoin(base, _xml_base(item))
        fields = _grouped(item)
        guid_element = _one(fields, "", "guid")
        guid = _text(guid_element) or _attribute(item, "rdf", "about")  # RSS 1.0 names an item by its URI
        link = _page(item_base, _text(_one(fields, "", "link")))
        permalink = guid_element is not None and guid_element.get("isPermaLink", "true").strip().lower() != "false"
        if link is None and permalink and guid and guid.startswith(("http://", "https://")):
            link = guid  # a permalink guid is the episode's page
        episode = Episode(
            guid=guid,
            title=_text(_one(fields, "", "title")) or "",
            link=link,
            published=values.date(_text(_one(fields, "", "pubDate")) or _text(_one(fields, "dc", "date"))),
        )
        enclosures = [(e.get("url"), e.get("type"), e.get("length")) for e in _all(fields, "", "enclosure")]
        enclosures += [(e.get("url"), e.get("type"), e.get("fileSize")) for e in _all(fields, "media", "content")]
        enclosures += [
            (_attribute(e, "rdf", "resource"), _attribute(e, "enc", "type"), _attribute(e, "enc", "length"))
            for e in _all(fields, "enc", "enclosure")
        ]
        _set_enclosure(episode, enclosures, item_base)
        _podcast_fields(episode, fields, item_base, feed)
        feed.episodes.append(episode)
    return feed


def _atom(root: ET.Element, base: str, url: str) -> Feed:
    show = _grouped(root)
    author = _one(show, "atom", "author")
    feed = Feed(
        url=url,
        title=_atom_text(_one(show, "atom", "title")) or redact(url),
        link=_atom_link(show, base),
        author=_text(_one(_grouped(author), "atom", "name")) if author is not None else None,
        persons=_persons(show, base),
    )
    for entry in _all(show, "atom", "entry"):
        entry_base = urljoin(base, _xml_base(entry))
        fields = _grouped(entry)
        published = next(filter(None, (_text(_one(fields, "atom", name)) for name in ATOM_DATES)), None)
        episode = Episode(
            guid=_text(_one(fields, "atom", "id")),
            title=_atom_text(_one(fields, "atom", "title")) or "",
            link=_atom_link(fields, entry_base),
            published=values.date(published),
        )
        enclosures = [
            (e.get("href"), e.get("type"), e.get("length")) for e in _all(fields, "atom", "link") if e.get("rel") == "enclosure"
        ]
        _set_enclosure(episode, enclosures, entry_base)
        _podcast_fields(episode, fields, entry_base, feed)
        feed.episodes.append(episode)
    return feed


def _podcast_fields(episode: Episode, fields: Children, base: str, feed: Feed) -> None:
    episode.duration = values.duration(_text(_one(fields, "itunes", "duration")))
    season = _text(_one(fields, "itunes", "season")) or _text(_one(fields, "podcast", "season"))
    episode.season = values.integer(season)
    episode.number = values.number(_text(_one(fields, "itunes", "episode")) or _text(_one(fields, "podcast", "episode")))
    for element in _all(fields, "podcast", "transcript"):
        link = _url(base, element.get("url"))
        if link:
            episode.transcripts.append(
                TranscriptLink(link, (element.get("type") or "").strip().lower(), element.get("language"), element.get("rel"))
            )
    chapters = _one(fields, "podcast", "chapters")
    episode.chapters_url = _url(base, chapters.get("url")) if chapters is not None else None
    # Item-level persons replace the channel's (the namespace's rule), else the show's regulars apply.
    episode.persons = _persons(fields, base) or list(feed.persons)


def _persons(fields: Children, base: str) -> list[Person]:
    found = []
    for person in _all(fields, "podcast", "person"):
        name = _text(person)
        if name:
            found.append(
                Person(
                    name=name,
                    role=(person.get("role") or "host").strip().lower(),
                    group=(person.get("group") or "cast").strip().lower(),
                    href=_url(base, person.get("href")),
                )
            )
    return found


def _set_enclosure(episode: Episode, enclosures: list[tuple[str | None, str | None, str | None]], base: str) -> None:
    """The first audio enclosure, else the first video one, else the first with a URL."""
    usable = [(u.strip(), (t or "").strip().lower(), n) for u, t, n in enclosures if u and u.strip()]
    if not usable:
        return
    ranked = sorted(usable, key=lambda e: 0 if e[1].startswith("audio/") else 1 if e[1].startswith("video/") else 2)
    chosen_url, chosen_type, length = ranked[0]
    episode.enclosure_url = _url(base, chosen_url)
    episode.enclosure_type = chosen_type or None
    episode.enclosure_length = values.integer(length)


_PREFIX_OF = {uri: prefix for prefix, uris in NAMESPACES.items() for uri in uris}
Children = dict[tuple[str, str], list[ET.Element]]


@functools.lru_cache(maxsize=1024)
def _key(tag: str) -> tuple[str, str] | None:
    """'{uri}local' -> (prefix, local) for the namespaces heard reads; None for any other."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        prefix = _PREFIX_OF.get(namespace.lower())
        return (prefix, local) if prefix is not None else None
    prefix, colon, local = tag.partition(":")
    if colon:  # read without namespaces: only the conventional prefixes count
        return (prefix, local) if prefix in NAMESPACES and prefix else None
    return "", tag


def _grouped(element: ET.Element) -> Children:
    """An element's children by (prefix, local), once: each item is asked for ~25 of them."""
    grouped: Children = {}
    for child in element:
        key = _key(child.tag) if isinstance(child.tag, str) else None
        if key is not None:
            grouped.setdefault(key, []).append(child)
    return grouped


def _attribute(element: ET.Element, prefix: str, local: str) -> str | None:
    """A namespaced attribute ('rdf:about'), by the namespace's URI or, read without namespaces, its prefix."""
    for uri in NAMESPACES[prefix]:
        value = element.get(f"{{{uri}}}{local}")
        if value is not None:
            return value
    return element.get(f"{prefix}:{local}")


def _all(children: Children, prefix: str, local: str) -> list[ET.Element]:
    return children.get((prefix, local), [])


def _one(children: Children, prefix: str, local: str) -> ET.Element | None:
    found = children.get((prefix, local))
    return found[0] if found else None


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = re.sub(r"\s+", " ", "".join(element.itertext())).strip()
    return text or None


def _atom_text(element: ET.Element | None) -> str | None:
    """Atom text constructs: type="html" holds escaped markup, shown here as its text."""
    text = _text(element)
    # Atom 0.3 says mode="escaped" for the same.
    if text and element is not None and (element.get("type") == "html" or element.get("mode") == "escaped"):
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", "", text))).strip()
    return text


def _atom_link(fields: Children, base: str) -> str | None:
    for link in _all(fields, "atom", "link"):
        if (link.get("rel") or "alternate") == "alternate" and link.get("href"):
            return _page(base, link.get("href"))
    return None


def _url(base: str, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return urljoin(base, value.strip())


def _page(base: str, value: str | None) -> str | None:
    """A link shown to people (the show's or episode's page): http(s) only, never javascript: or data:."""
    url = _url(base, value)
    return url if url and url.lower().startswith(("http://", "https://")) else None
