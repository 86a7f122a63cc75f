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
# Whisper's languages by their English names (its tokenizer's table), so "--language german" works too.
_WHISPER_LANGUAGES = """en english, zh chinese, de german, es spanish, ru russian, ko korean, fr french, ja japanese,
pt portuguese, tr turkish, pl polish, ca catalan, nl dutch, ar arabic, sv swedish, it italian, id indonesian, hi hindi,
fi finnish, vi vietnamese, he hebrew, uk ukrainian, el greek, ms malay, cs czech, ro romanian, da danish, hu hungarian,
ta tamil, no norwegian, th thai, ur urdu, hr croatian, bg bulgarian, lt lithuanian, la latin, mi maori, ml malayalam,
cy welsh, sk slovak, te telugu, fa persian, lv latvian, bn bengali, sr serbian, az azerbaijani, sl slovenian, kn kannada,
et estonian, mk macedonian, br breton, eu basque, is icelandic, hy armenian, ne nepali, mn mongolian, bs bosnian,
kk kazakh, sq albanian, sw swahili, gl galician, mr marathi, pa punjabi, si sinhala, km khmer, sn shona, yo yoruba,
so somali, af afrikaans, oc occitan, ka georgian, be belarusian, tg tajik, sd sindhi, gu gujarati, am amharic,
yi yiddish, lo lao, uz uzbek, fo faroese, ht haitian creole, ps pashto, tk turkmen, nn nynorsk, mt maltese,
sa sanskrit, lb luxembourgish, my myanmar, bo tibetan, tl tagalog, mg malagasy, as assamese, tt tatar, haw hawaiian,
ln lingala, ha hausa, ba bashkir, jw javanese, su sundanese, yue cantonese"""
NAMES: dict[str, str] = {name: code for code, name in (item.split(maxsplit=1) for item in _WHISPER_LANGUAGES.split(","))}
# Detection needs some text: fewer letters than this and the guess is no better than chance.
MIN_LETTERS_TO_DETECT = 20
# Enough text to tell: the first characters of a transcript (detection costs grow with the length).
DETECT_CHARACTERS = 5000


def language_code(value: str) -> str | None:
    """The language code `value` names ("ES", "es-MX", " es ", "Spanish" -> "es"), or None when it
    names none."""
    text = value.strip().lower()
    found = _CODE.match(text)
    return found.group(1) if found else NAMES.get(" ".join(text.split()))


def detect_language(text: str) -> str | None:
    """The language `text` is written in, or None when there is too little text to tell."""
    sample = text[:DETECT_CHARACTERS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS_TO_DETECT:
        return None
    import py3langid

    code, _score = py3langid.classify(sample)
    return language_code(str(code))
