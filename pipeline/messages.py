"""What heard prints about things it did not write (file names, settings, library errors, the names
people give): one line, no control characters, no credentials. Every error message and log line
goes through `safe`, and every name a user sets passes `name_problem` first."""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the direction
# controls (U+202E turns the rest of a line around): each could end a log line early, forge the
# next one, restyle a terminal (ESC) or make a line read as something else.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The user-info part of a URL: http://admin:secret@host -> http://***@host.
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
# Text that is not text: a lone surrogate (undecodable bytes of a command line).
_SURROGATE = re.compile("[\ud800-\udfff]")

# The longest name a user may give (a voice, a speaker in metadata, a feed's show): far above any
# person's or show's name, and small enough that no name can grow every chunk that carries it (a
# 5 MB name once grew the index by 180 MB, issue 25).
NAME_MAX = 200


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (a newline as \\n, ESC as \\x1b)."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), m.group().encode("unicode_escape").decode("ascii")), text)


def redact(text: str) -> str:
    """`text` with the user name and password of any URL in it replaced by ***."""
    return _CREDENTIALS.sub(r"\1***@", text)


def safe(text: object) -> str:
    """One printable line without credentials: what every message and log line is made of."""
    return printable(redact(_SURROGATE.sub("\ufffd", str(text))))


def name_problem(text: str) -> str | None:
    """What is wrong with `text` (trimmed) as a name a user gives, or None: the one rule for every
    name (`heard speakers name`, the page's rename form, `speakers:` in metadata, feed names).
    A name is one line of text of at most NAME_MAX characters, not only spaces, with no control
    character: it is stored as given and shown wherever its person's words are."""
    name = text.strip()
    if not name:
        return "give a name (it is empty or only spaces)"
    bad = _CONTROL.search(name) or _SURROGATE.search(name)
    if bad:
        return f"'{printable(name[:40])}' has a control character ({printable(bad.group())}); a name is one line of text"
    if len(name) > NAME_MAX:
        return f"{len(name)} characters; give at most {NAME_MAX}"
    return None


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, plural unless it is one: "1 quote", "3 quotes" (never "1 episodes", issue 25);
    `plural` where adding an s is wrong ("1 company", "2 companies")."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"
