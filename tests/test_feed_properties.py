"""Property tests (hypothesis) of the feed step, beside tests/test_properties.py: whatever a feed
document holds (any nesting, declaration, encoding, byte order mark, cut) it is read or fails with
one line naming the feed; and any show name a user gives is stored as typed (trimmed) or refused
with one line, by the one rule for names (messages.name_problem). No model loads here."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=_QUIET)
_WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


# ---- podcast feeds: any XML, in any encoding, with any declaration --------------------------------------

_FEED_TAGS = st.sampled_from([
    "rss", "channel", "item", "title", "link", "guid", "pubDate", "enclosure", "description", "feed", "entry", "id",
    "published", "updated", "issued", "author", "name", "rdf:RDF", "rdf:li", "enc:enclosure", "itunes:duration",
    "itunes:season", "itunes:episode", "podcast:transcript", "podcast:person", "podcast:chapters", "media:content",
    "dc:date", "atom:link", "other:thing", "x",
])
_FEED_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["url", "href", "type", "length", "rel", "version", "isPermaLink", "role", "group", "rdf:about",
                     "rdf:resource", "enc:type", "enc:length", "xml:base", "mode", "fileSize", "language"]),
    st.one_of(_WORDS, st.sampled_from(["audio/mpeg", "enclosure", "alternate", "https://x/a.mp3", "/a.mp3", "../b",
                                       "javascript:alert(1)", "html", "escaped", "false", "-1", "1e999", "NaN"])),
    max_size=3,
)
_DECLARED_NAMES = st.sampled_from([
    None, "UTF-8", "utf-16", "UTF-16LE", "UTF-16BE", "UTF-32", "ISO-8859-1", "windows-1252", "Shift_JIS", "EUC-JP",
    "GB2312", "big5", "mac", "macintosh", "ucs-2", "csUnicode", "unicode", "x-no-such", "ascii", "koi8-r", "",
])
_CODECS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis",
                           "euc_jp", "gb2312", "mac_roman", "koi8_r", "ascii"])
_NAMESPACES = (' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
               ' xmlns:podcast="https://podcastindex.org/namespace/1.0"'
               ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"')


def _element(tag: str, attributes: dict, children: list[str], namespaces: bool) -> str:
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in attributes.items())
    declared = _NAMESPACES if namespaces else ""
    return f"<{tag}{declared}{attrs}>" + "".join(children) + f"</{tag}>"


_FEED_TEXT = _WORDS.map(escape)
_FEED_TREE = st.recursive(
    _FEED_TEXT,
    lambda inner: st.builds(_element, _FEED_TAGS, _FEED_ATTRIBUTES, st.lists(inner, max_size=4), st.booleans()),
    max_leaves=25,
)
_FEED_ROOT = st.builds(_element, st.sampled_from(["rss", "feed", "rdf:RDF", "channel", "html"]), _FEED_ATTRIBUTES,
                       st.lists(_FEED_TREE, max_size=4), st.booleans())


@st.composite
def _feed_documents(draw) -> bytes:
    """A feed-like document: random nesting, then an XML declaration naming one encoding, written in
    another (or the same), with or without a byte order mark, sometimes cut short or with bytes spliced in."""
    declared = draw(_DECLARED_NAMES)
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared is not None else ""
    text = draw(st.sampled_from(["", " ", "\n"])) + head + draw(_FEED_ROOT)
    codec = draw(_CODECS)
    data = text.encode(codec, "xmlcharrefreplace") if codec != "ascii" else text.encode("ascii", "xmlcharrefreplace")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"])) + data
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut] + draw(st.binary(max_size=4))
    return data


def _read_feed(data: bytes) -> None:
    from pipeline.sources.feeds.parse import FeedError, parse_feed

    url = "https://feeds.example.com/show.xml"
    try:
        feed = parse_feed(data, url)
    except FeedError as exc:
        message = str(exc)
        assert message.startswith(url + ": ") and "\n" not in message and exc.reason.strip(), message
        return
    assert isinstance(feed.title, str) and feed.title
    for episode in feed.episodes:
        assert isinstance(episode.title, str)
        for link in (episode.link, feed.link):
            assert link is None or link.startswith(("http://", "https://")), link


@FAST
@given(data=_feed_documents())
@example(data='<?xml version="1.0" encoding="ucs-2"?><rss><channel><title>T</title></channel></rss>'.encode("utf-16"))
@example(data='<?xml version="1.0" encoding="Shift_JIS"?><rss><channel><title>東京</title></channel></rss>'.encode("shift_jis"))
def test_any_feed_document_is_read_or_fails_with_one_line_naming_the_feed(data):
    _read_feed(data)


@FAST
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_feed_are_read_or_fail_with_one_line_naming_the_feed(data):
    _read_feed(data)


# ---- show names (`heard feeds add --name`, feeds.yaml) --------------------------------------------------

_NAME_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["Builders", " ", "\x1b]0;pwned\x07", "\x1b[2J", "\n", "\r\nV9 Fake", "\t", "\u202e", "\u2028",
                     "\x00", "\x7f", "\x9b", "李", "محمد", "👩🏽‍💻", "\u200d", "&", "x" * 190]),
)


@FAST
@given(name=st.lists(_NAME_PIECES, max_size=4).map("".join))
@example(name="Builders\x1b]0;pwned\x07\x1b[2J\nV9 Fake")
@example(name="   ")
@example(name="x" * 201)
def test_any_show_name_is_stored_as_typed_or_refused_with_one_line(tmp_path_factory, name):
    import unicodedata

    from pipeline.errors import ConfigError
    from pipeline.sources.feeds.subscriptions import add, load

    data_dir = tmp_path_factory.mktemp("names")
    try:
        add(data_dir, "https://feeds.example.com/show.xml", name=name)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("--name: ")
        assert load(data_dir) == []
        return
    (subscription,) = load(data_dir)  # read back as the next command reads it
    assert subscription.name == name.strip() and 0 < len(subscription.name) <= 200
    direction = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
    assert not [c for c in subscription.name if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in direction]
