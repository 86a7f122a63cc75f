"""The language a recording is in: ISO 639-1 codes as Whisper names them ("en", "es", "de"), read from
metadata, the --language filter, or detected from a transcript's text.

Whisper (a multilingual model such as base) detects the language of what it transcribes; a transcript
imported as text is detected here with py3langid (BSD-3-Clause; its model, 4.6 MB, is in its wheel:
97 languages, the same codes).
"""

from __future__ import annotations

import re

# Two or three letters, optionally a region or script after a hyphen or underscore ("es-MX", "zh_Hant").
_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{2,8})*$")
# Detection needs some text: fewer letters than this and the guess is no better than chance.
MIN_LETTERS_TO_DETECT = 20
# Enough text to tell: the first characters of a transcript (detection costs grow with the length).
DETECT_CHARACTERS = 5000


def language_code(value: str) -> str | None:
    """The language code `value` names ("ES", "es-MX", " es " -> "es"), or None when it is not one."""
    found = _CODE.match(value.strip().lower())
    return found.group(1) if found else None


def detect_language(text: str) -> str | None:
    """The language `text` is written in, or None when there is too little text to tell."""
    sample = text[:DETECT_CHARACTERS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS_TO_DETECT:
        return None
    import py3langid

    code, _score = py3langid.classify(sample)
    return language_code(str(code))
