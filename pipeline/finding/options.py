"""The options of search and themes, declared once (pipeline/options.py generates the command line's,
the page's and the API's from these), and the requests they make."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.indexing.role_names import ROLES
from pipeline.languages import language_code
from pipeline.options import Option, OptionError

QUERY = Option(
    "query",
    'What to look for, in words or as a whole question: "what do customers say about pricing" searches for pricing.',
    param="q",
    argument=True,
    required=True,
    missing='say what to look for, e.g. "pricing"',
    max_length=1000,
)
K = Option("k", "How many quotes.", kind="int", flags=("-k", "--top"), setting="search.k", metavar="N")
PER_RECORDING = Option(
    "per-recording", "At most N quotes from one recording (0: no cap).", kind="int", setting="search.per_recording", metavar="N"
)
EVERY = Option(
    "all",
    "Every quote that answers, not the best k: all whose score reaches search.all_cutoff, with a count line.",
    kind="flag",
    dest="every",
)
GROUP = Option("group", "Group the quotes by recording (json: a list of recordings with their hits).", kind="flag", web=False)

FILTERS = (
    Option("role", "Only quotes by speakers in this role.", kind="choice", choices=ROLES),
    Option("speaker", "Only quotes by this speaker (the name hits show, any case)."),
    Option("company", "Only recordings of this company (any case)."),
    Option("segment", "Only recordings of this customer segment (any case)."),
    Option(
        "tag", "Only recordings with this tag; repeat (or separate with commas) to require several.", multiple=True, dest="tags"
    ),
    Option("since", "Only recordings dated on or after this day (YYYY-MM-DD).", kind="date", metavar="YYYY-MM-DD"),
    Option("until", "Only recordings dated on or before this day (YYYY-MM-DD).", kind="date", metavar="YYYY-MM-DD"),
    Option("recording", "Only this recording: its id (recording_id in hits) or the path it was ingested from.", max_length=4096),
    Option("show", "Only episodes of this podcast (the name hits show, any case)."),
    Option(
        "language",
        "Only recordings in this language: its code as hits show it (en, es, de, ...) or its English name (spanish).",
        max_length=20,
        metavar="CODE",
    ),
)
TRANSLATE = Option(
    "translate",
    "Also give each quote not in English in English: Whisper's own translation of the quote's audio.",
    kind="flag",
)

SEARCH = (QUERY, K, PER_RECORDING, EVERY, GROUP, TRANSLATE, *FILTERS)

THEMES_QUERY = Option(
    "query",
    "Only the quotes that answer this question (default: every customer quote).",
    param="q",
    argument=True,
    max_length=1000,
)
MIN_RECORDINGS = Option(
    "min-recordings", "Only themes that come up in at least N recordings.", kind="int", low=1, high=1_000_000, metavar="N"
)
QUOTES_SHOWN = Option(
    "quotes",
    "Quotes shown per theme in the table and md (json and csv carry them all).",
    kind="int",
    low=1,
    high=1000,
    dest="shown",
    web=False,
    metavar="N",
)
THEMES = (THEMES_QUERY, MIN_RECORDINGS, QUOTES_SHOWN, *FILTERS)


@dataclass
class SearchRequest:
    """What to search for and how many: from the command line, the page or the API alike. None takes
    the setting's value (search.k, search.per_recording)."""

    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int | None = None
    per_recording: int | None = None
    every: bool = False
    group: bool = False
    translate: bool = False


@dataclass
class ThemesRequest:
    query: str | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    min_recordings: int = 1
    shown: int = 3


def filters_from(values: dict[str, Any]) -> SearchFilters:
    """SearchFilters from parsed option values; a period that ends before it starts is refused."""
    since: datetime.date | None = values.get("since")
    until: datetime.date | None = values.get("until")
    if since and until and since > until:
        raise OptionError(f"since {since} is after until {until}: give the earlier day as since")
    language = values.get("language")
    if language is not None and language_code(language) is None:
        raise OptionError(f"language: {language[:40]!r} is not a language; give its code or name, e.g. es or spanish")
    return SearchFilters(
        role=values.get("role"),
        speaker=values.get("speaker"),
        company=values.get("company"),
        segment=values.get("segment"),
        tags=tuple(values.get("tags") or ()),
        since=since,
        until=until,
        recording=values.get("recording"),
        show=values.get("show"),
        language=language_code(language) if language else None,
    )


def search_request(values: dict[str, Any]) -> SearchRequest:
    """The request of parsed SEARCH values (pipeline.options.parse_all)."""
    request = SearchRequest(
        query=values.get("query") or "",
        filters=filters_from(values),
        k=values.get("k"),
        per_recording=values.get("per_recording"),
        every=bool(values.get("every")),
        group=bool(values.get("group")),
        translate=bool(values.get("translate")),
    )
    if request.every and (request.k is not None or request.per_recording is not None):
        raise UsageError("all: lists every answering quote; leave out k and per-recording")
    return request


def themes_request(values: dict[str, Any]) -> ThemesRequest:
    return ThemesRequest(
        query=values.get("query") or None,
        filters=filters_from(values),
        min_recordings=values.get("min_recordings") or 1,
        shown=values.get("shown") or 3,
    )
