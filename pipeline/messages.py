"""What heard prints about things it did not write (file names, settings, library errors): one line,
no control characters, no credentials. Every error message and log line goes through `safe`."""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: each could end a
# log line early, forge the next one, or restyle a terminal (ESC).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The user-info part of a URL: http://admin:secret@host -> http://***@host.
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (a newline as \\n, ESC as \\x1b)."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), m.group().encode("unicode_escape").decode("ascii")), text)


def redact(text: str) -> str:
    """`text` with the user name and password of any URL in it replaced by ***."""
    return _CREDENTIALS.sub(r"\1***@", text)


def safe(text: object) -> str:
    """One printable line without credentials: what every message and log line is made of."""
    return printable(redact(str(text)))
