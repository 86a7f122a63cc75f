"""A feed's bytes as text, decoded the way feed readers do it: a byte order mark first, then UTF-16
or UTF-32 recognised by the shape of '<?' (XML 1.0, appendix F), then the encoding the XML
declaration names (with the names Python does not know mapped: mac, ucs-2, csUnicode, ...), then
UTF-8, then Windows-1252 (what a page labelled ISO-8859-1 or nothing really is), then Latin-1.

expat decodes only UTF-8, UTF-16, Latin-1 and ASCII itself, and raised a traceback for anything
else (multi-byte encodings such as Shift_JIS, or a name it did not know); the text is decoded here
and expat is given text, so the declaration no longer matters to it. A candidate whose text could
be XML (it starts with '<', holds no NUL) is preferred; else the first that decodes without a NUL
goes to expat, which says what is wrong; bytes no candidate reads fail the feed with one line.
"""

from __future__ import annotations

import codecs
import re

from pipeline.sources.feeds.errors import FeedError

BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# '<' or '<?' in UTF-32 and UTF-16 without a byte order mark.
SHAPES = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
# Encoding names feeds declare that Python's codecs do not know, and the web's reading of Latin-1.
ALIASES = {
    "mac": "mac_roman",
    "x-mac-roman": "mac_roman",
    "ucs-2": "utf-16",
    "ucs2": "utf-16",
    "iso-10646-ucs-2": "utf-16",
    "csunicode": "utf-16",
    "unicode": "utf-16",
    "ucs-4": "utf-32",
    "ucs4": "utf-32",
    "iso-10646-ucs-4": "utf-32",
    "csucs4": "utf-32",
    "x-sjis": "shift_jis",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
}
_DECLARED = re.compile(r"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:+-]{1,40})["']""")


def decode_feed(data: bytes, url: str) -> str:
    """The feed's text; FeedError naming the feed when no encoding gives text that could be XML."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            # A byte order mark settles it, as for every XML reader.
            text = _decoded(data[len(bom) :], codec, strict=False)
            if text is None:
                raise FeedError(url, f"starts with a {codec.upper()} byte order mark but is not {codec.upper()} text")
            return text
    declared = _declared(data)
    shaped = next((codec for shape, codec in SHAPES if data.startswith(shape)), None)
    candidates = [shaped] if shaped else []
    if declared and not shaped:
        candidates.append(declared)
    candidates += ["utf-8", "cp1252", "latin-1"]
    for strict in (True, False):
        # Text that could be XML first; else the first that decodes, for expat to say what is wrong.
        for codec in dict.fromkeys(candidates):
            text = _decoded(data, codec, strict=strict)
            if text is not None:
                return text
    named = f"declared as {declared}" if declared else "no encoding declared"
    raise FeedError(url, f"cannot read its text ({named}, and it is not UTF-8 or Windows-1252 either); is the URL a feed?")


def _declared(data: bytes) -> str | None:
    """The codec of the XML declaration's encoding="...", read from the first bytes as ASCII (or as
    UTF-16/32 when they have that shape); None when there is none or Python has no such codec."""
    head = data[:400]
    for shape, codec in SHAPES:
        if head.startswith(shape):
            head = head.decode(codec, "ignore").encode("ascii", "ignore")
            break
    match = _DECLARED.match(head.decode("ascii", "replace"))
    if not match:
        return None
    name = match.group(1).lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decoded(data: bytes, codec: str, *, strict: bool) -> str | None:
    """`data` as text in `codec`, or None if it does not decode or holds a NUL (no XML does); with
    `strict`, also None unless the text starts like an XML document."""
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if "\x00" in text or (strict and not text.lstrip("\ufeff \t\r\n").startswith("<")):
        return None
    return text
