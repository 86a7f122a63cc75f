"""Reading podcast feeds: RSS 2.0 and Atom with the itunes: and podcast: namespaces, and odd real-world shapes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline.sources.feeds.identity import audio_suffix, episode_file_stem, episode_key, feed_folder_name
from pipeline.sources.feeds.parse import Episode, FeedError, Person, parse_feed

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

FEEDS = Path(__file__).parent / "data" / "feeds"


def read(name: str, url: str = "https://example.com/feed.xml"):
    return parse_feed((FEEDS / name).read_bytes(), url)


def test_podcast_namespace_keeps_every_transcript_person_and_chapters():
    feed = read("podcast20.xml")
    assert (feed.title, feed.link) == ("Builders & Buyers", "https://example.com/show")
    first, second = feed.episodes
    assert first.guid == "ep-12-abc"
    assert first.enclosure_url == "https://cdn.example.com/ep12.mp3?utm_source=feed&tracking=123"
    assert (first.season, first.number, first.duration) == (2, 12, 2710)
    assert first.published == datetime.datetime(2026, 3, 3, 11, 0, tzinfo=datetime.timezone.utc)
    assert [(t.url.rsplit(".", 1)[1], t.type) for t in first.transcripts] == [
        ("html", "text/html"), ("srt", "application/x-subrip"), ("vtt", "text/vtt"), ("json", "application/json")]
    assert [(p.name, p.role) for p in first.persons] == [
        ("Dana Whitfield", "host"), ("Priya Shah", "guest"), ("Sam Lee", "editor")]
    assert first.chapters_url == "https://example.com/ep12.chapters.json"
    # A person without a role is a host (the namespace's default); item persons replace the channel's.
    assert second.persons == [Person("Alex Kim", "host")]


def test_the_old_github_namespace_uri_reads_the_same():
    assert read("podcast20-github-ns.xml") == read("podcast20.xml")


def test_atom_resolves_relative_links_against_xml_base():
    feed = read("atom.xml", "https://atom.example.org/feed.atom")
    (entry,) = feed.episodes
    assert entry.title == "Talk one"  # type="html" shown as text
    assert entry.enclosure_url == "https://atom.example.org/podcast/media/one.mp3?ref=atom"
    assert entry.transcripts[0].url == "https://atom.example.org/podcast/media/one.vtt"
    assert entry.link == "https://atom.example.org/podcast/talks/one.html"


def test_odd_feed_missing_guid_relative_urls_duplicates_and_other_prefixes():
    feed = read("odd.xml", "https://odd.example.net/feed.xml")
    titles = [e.title for e in feed.episodes]
    assert titles[:3] == ["No guid & relative enclosure", "Duplicate", "Duplicate (again)"]
    no_guid = feed.episodes[0]
    assert no_guid.guid is None
    assert no_guid.enclosure_url == "https://odd.example.net/audio/no-guid.mp3?track=aa"
    assert no_guid.transcripts[0].url == "https://odd.example.net/t/no-guid.json"  # namespace prefix "pc:"
    assert no_guid.persons == [Person("Jo Doe", "guest")]
    assert feed.episodes[0].duration == 725
    assert feed.episodes[1].published == datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    assert feed.episodes[3].enclosure_url is None  # a text post


def test_latin1_feed_with_leading_whitespace():
    feed = read("latin1.xml")
    assert feed.title == "Café Talk"
    assert feed.episodes[0].title == "Crème brûlée"


@pytest.mark.parametrize("body, expected", [
    ((FEEDS / "malformed.xml").read_bytes(), "not well-formed XML (not well-formed (invalid token) at line 2, column"),
    (b"<html><body>Not a feed</body></html>", "not an RSS or Atom feed (the document is <html>)"),
    (b'{"json": true}', "not well-formed XML"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><rss>&b;</rss>',
     "declares XML entities"),
    (b"", "not well-formed XML (no element found"),
])
def test_what_is_not_a_readable_feed_fails_with_one_line_naming_it(body, expected):
    with pytest.raises(FeedError) as failure:
        parse_feed(body, "https://bad.example.com/feed")
    message = str(failure.value)
    assert message.startswith("https://bad.example.com/feed: ") and expected in message and "\n" not in message


def test_episode_identity_guid_then_enclosure_without_query_then_title_and_duration():
    feed = "https://example.com/feed.xml"
    with_guid = Episode(guid="abc", title="T", enclosure_url="https://cdn/a.mp3?x=1")
    assert episode_key(feed, with_guid) == episode_key(feed, Episode(guid="abc", title="Renamed", enclosure_url="https://cdn/b.mp3"))
    assert episode_key(feed, with_guid) != episode_key("https://other.example.com/feed.xml", with_guid)
    rotated = [Episode(guid=None, title="T", enclosure_url=f"https://cdn/a.mp3?utm={n}") for n in range(2)]
    assert episode_key(feed, rotated[0]) == episode_key(feed, rotated[1])
    assert episode_key(feed, rotated[0]) != episode_key(feed, Episode(guid=None, title="T", enclosure_url="https://cdn/b.mp3"))
    by_title = Episode(guid=None, title="T", duration=61.2)
    assert episode_key(feed, by_title) == episode_key(feed, Episode(guid=None, title="T", duration=60.9))
    assert episode_key(feed, Episode(guid=None, title="T")) is None


def test_file_names_are_heards_not_the_publishers():
    evil = Episode(guid="1", title="../../../etc/passwd\x00; rm -rf /", enclosure_url="https://x/../../evil.sh?name=../../a")
    stem = episode_file_stem(evil, "k")
    assert stem == "undated-etc-passwd-rm-rf-k" and "/" not in stem
    assert audio_suffix(evil.enclosure_url, "audio/mpeg") == ".mp3"
    assert audio_suffix("https://cdn/ep.M4A?x=1", None) == ".m4a"
    assert audio_suffix("https://cdn/ep", "audio/ogg; codecs=opus") == ".ogg"
    assert feed_folder_name("https://example.com/shows/feed.xml").startswith("example-com-shows-feed-xml-")
    assert "/" not in feed_folder_name("https://example.com/../../x")


def test_undeclared_itunes_and_podcast_prefixes_are_read_by_their_usual_names():
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>No xmlns</title><item><title>E1</title>'
            b'<guid>e1</guid><enclosure url="https://x/e1.mp3" type="audio/mpeg"/><itunes:duration>1:01</itunes:duration>'
            b'<podcast:transcript url="https://x/e1.vtt" type="text/vtt"/><other:thing>?</other:thing></item></channel></rss>')
    (episode,) = parse_feed(body, "https://x/feed.xml").episodes
    assert (episode.duration, episode.transcripts[0].url) == (61, "https://x/e1.vtt")


def test_links_shown_to_people_are_http_only():
    body = (b'<rss version="2.0"><channel><title>T</title><link>javascript:alert(1)</link><item><title>E</title>'
            b'<link>javascript:alert(2)</link><enclosure url="https://x/e.mp3" type="audio/mpeg"/></item></channel></rss>')
    feed = parse_feed(body, "https://x/feed.xml")
    assert feed.link is None and feed.episodes[0].link is None


# ---- encodings: BOM, then the declared encoding, then UTF-8, then Windows-1252, as feed readers do ----

TITLE = "Café Ünïcode — 東京"


def feed_text(declaration: str | None, title: str = TITLE) -> str:
    head = f'<?xml version="1.0" encoding="{declaration}"?>\n' if declaration else ""
    return (head + f'<rss version="2.0"><channel><title>{title}</title><item><title>{title}</title>'
            '<guid>1</guid><enclosure url="https://x/1.mp3" type="audio/mpeg"/></item></channel></rss>')


def encoded(declared: str | None, codec: str, title: str = TITLE, bom: bytes = b"") -> tuple[bytes, str]:
    return bom + feed_text(declared, title).encode(codec), title


@pytest.mark.parametrize("data, title", [
    encoded("UTF-16", "utf-16"),  # a BOM, then the machine's byte order
    encoded("UTF-16", "utf-16-be", bom=b"\xfe\xff"),
    encoded("utf-16", "utf-16-le"),  # no BOM: '<?' as two UTF-16 code units
    encoded("UTF-16BE", "utf-16-be"),
    encoded("ucs-2", "utf-16"),  # names Python does not know
    encoded("csUnicode", "utf-16"),
    encoded("UTF-32", "utf-32"),
    encoded("UTF-8", "utf-8", bom=b"\xef\xbb\xbf"),
    encoded("x-no-such-charset", "utf-8"),  # an unknown name: UTF-8 when the bytes are UTF-8
    encoded("Shift_JIS", "shift_jis", "東京"),  # multi-byte encodings expat cannot read itself
    encoded("EUC-JP", "euc_jp", "東京"),
    encoded("GB2312", "gb2312", "东京"),
    encoded("mac", "mac_roman", "Café"),
    encoded("macintosh", "mac_roman", "Café"),
    encoded("utf-8", "cp1252", "Café — ok"),  # declared UTF-8, written in Windows-1252
    encoded("x-no-such-charset", "cp1252", "Café — ok"),
    encoded(None, "latin-1", "Café"),
])
def test_feeds_in_any_encoding_a_feed_reader_reads_are_read(data, title):
    feed = parse_feed(data, "https://x/feed.xml")
    assert feed.title == title and feed.episodes[0].title == title
    assert feed.episodes[0].enclosure_url == "https://x/1.mp3"


@pytest.mark.parametrize("data", [
    b"\xff\xfe<\x00",  # a UTF-16 byte order mark, then half a document
    "<rss>caf\u00e9</rss>".encode("utf-16-le") + b"\x00",  # UTF-16 of an odd length, no BOM
    b"\x00\x00\x00<\x00\x00\x00?",  # UTF-32 without a BOM, cut short
    b'<?xml version="1.0" encoding="utf-16"?>\x00\x00<rss/>',
    b'<?xml version="1.0" encoding="x-bogus"?>\x00\x00\x00<rss/>',  # an unknown name, then bytes no text has
    b'<?xml version="1.0" encoding="mac"?>\x00<rss/>',
])
def test_a_feed_that_cannot_be_decoded_fails_with_one_line_naming_it(data):
    with pytest.raises(FeedError) as failure:
        parse_feed(data, "https://bad.example.com/feed")
    message = str(failure.value)
    assert message.startswith("https://bad.example.com/feed: ") and "\n" not in message


# ---- old but valid formats that feed readers still read ------------------------------------------------

def test_atom_0_3_is_read():
    feed = read("atom03.xml", "https://old.example.org/atom.xml")
    assert (feed.title, feed.link, feed.author) == ("Old Atom Radio", "https://old.example.org/", "Ada Byron")
    first, second = feed.episodes
    assert (first.guid, first.title, first.link) == ("tag:old.example.org,2004:1", "Episode one", "https://old.example.org/1.html")
    assert (first.enclosure_url, first.enclosure_type, first.enclosure_length) == (
        "https://old.example.org/media/1.mp3", "audio/mpeg", 12345)
    assert first.published == datetime.datetime(2004, 5, 30, 6, 0, tzinfo=datetime.timezone.utc)  # issued
    assert second.enclosure_url == "https://old.example.org/media/2.mp3"  # relative to the feed
    assert second.published == datetime.datetime(2004, 6, 1, 8, 0, tzinfo=datetime.timezone.utc)  # created


def test_rss_1_0_rdf_is_read():
    feed = read("rss10.xml", "https://rdf.example.net/feed.rdf")
    assert (feed.title, feed.link) == ("RDF Hour", "https://rdf.example.net/")
    assert [(e.title, e.guid, e.link) for e in feed.episodes] == [
        ("Second hour", "https://rdf.example.net/ep/2", "https://rdf.example.net/ep/2"),
        ("First hour", "https://rdf.example.net/ep/1", "https://rdf.example.net/ep/1")]
    second, first = feed.episodes
    assert (second.enclosure_url, second.enclosure_type, second.enclosure_length) == (
        "https://rdf.example.net/audio/2.mp3", "audio/mpeg", 2048)
    assert first.enclosure_type == "audio/ogg"
    assert first.published == datetime.datetime(2005, 2, 1, 9, 0, tzinfo=datetime.timezone.utc)


def test_rss_2_0_in_the_userland_namespace_is_read():
    feed = read("userland.xml", "https://userland.example.com/rss.xml")
    assert (feed.title, feed.link) == ("Userland Talk", "https://userland.example.com/")
    (episode,) = feed.episodes
    assert (episode.guid, episode.title, episode.enclosure_url, episode.enclosure_length) == (
        "ul-1", "Scripting news", "https://userland.example.com/1.mp3", 4096)


def test_an_episode_without_a_guid_is_its_title_and_date_whatever_its_enclosure_path():
    feed = "https://example.com/feed.xml"
    day = datetime.datetime(2026, 3, 3, 6, tzinfo=datetime.timezone.utc)
    paths = [Episode(guid=None, title="T", published=day, enclosure_url=f"https://cdn/rot/{n}/ep.mp3", enclosure_length=9000)
             for n in range(3)]
    assert len({episode_key(feed, e) for e in paths}) == 1
    assert episode_key(feed, paths[0]) != episode_key(feed, Episode(guid=None, title="T", published=day + datetime.timedelta(days=1),
                                                                    enclosure_url="https://cdn/rot/0/ep.mp3"))
    # Without a date: title and the enclosure's length, when the feed gives a real one.
    undated = [Episode(guid=None, title="T", enclosure_url=f"https://cdn/rot/{n}/ep.mp3", enclosure_length=9000) for n in range(2)]
    assert episode_key(feed, undated[0]) == episode_key(feed, undated[1])
