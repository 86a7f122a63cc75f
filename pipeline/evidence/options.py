"""The options of save, unsave, collections, clip and report, declared once (pipeline/options.py):
the command line's flags, and the page's forms and URL parameters, are parsed from these, with the
same limits and the same words."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pipeline.errors import UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.finding.options import FILTERS, filters_from
from pipeline.indexing.role_names import ASKER_ROLES
from pipeline.options import Option

# A collection's name is a heading in a report and a line in a list: as long as a title, no longer.
NAME_LENGTH = 100
NOTE_LENGTH = 2000
TAG_LENGTH = 50
MAX_TAGS = 20

QUOTE_ID = Option(
    "quote_id",
    "A quote's id, as search prints it (the last line of each quote; quote_id in --format json).",
    argument=True,
    required=True,
    missing="give a quote id, e.g. 3f9a1c2b4d5e6f70-812-1420, from a search",
    max_length=100,
)
TO = Option(
    "to",
    "The collection to keep it in (made when new; any case finds an existing one).",
    dest="collection",
    required=True,
    missing='name the collection, e.g. --to "Pricing pain"',
    max_length=NAME_LENGTH,
    metavar="NAME",
)
NOTE = Option("note", "A note kept with the quote (replaces its note).", max_length=NOTE_LENGTH, metavar="TEXT")
TAGS = Option(
    "tag",
    "A tag for the quote; repeat (or separate with commas) for several (replaces its tags).",
    multiple=True,
    dest="tags",
    max_length=TAG_LENGTH,
    metavar="TAG",
)
FROM = Option(
    "from", "Only from this collection (default: every collection that holds it).", dest="collection", max_length=NAME_LENGTH
)
SAVE = (QUOTE_ID, TO, NOTE, TAGS)
UNSAVE = (QUOTE_ID, FROM)

COLLECTION_NAME = Option(
    "name", "The collection's name (any case).", argument=True, required=True, missing="name a collection", max_length=NAME_LENGTH
)
NEW_NAME = Option("new_name", "Its new name.", argument=True, required=True, missing="give the new name", max_length=NAME_LENGTH)
SHOW = (COLLECTION_NAME,)
RENAME = (COLLECTION_NAME, NEW_NAME)
REMOVE = (COLLECTION_NAME,)

PAD = Option("pad", "Seconds of audio kept before the first word and after the last.", kind="float", setting="evidence.clip_pad")
OUTPUT = Option(
    "output",
    "The file to write; its extension picks the format.",
    flags=("-o", "--output"),
    web=False,
    max_length=4096,
    metavar="FILE",
)
CLIP = (QUOTE_ID, replace(OUTPUT, required=True, missing="give the file to write, e.g. -o quote.mp3"), PAD)

REPORT_QUERY = Option(
    "query",
    "The question whose every answer the report holds, as `heard search --all` finds them: "
    '"what do customers say about pricing".',
    param="q",
    argument=True,
    max_length=1000,
)
COLLECTION = Option("collection", "Report on this saved collection instead of a search.", max_length=NAME_LENGTH, metavar="NAME")
THEMES = Option(
    "themes",
    "Report on the themes of every customer quote (heard themes), not on one question.",
    kind="flag",
    dest="every_theme",
)
NO_CLIPS = Option("no-clips", "Leave the audio clips out (a smaller file, made faster).", kind="flag")
REPORT = (REPORT_QUERY, COLLECTION, THEMES, OUTPUT, NO_CLIPS, *FILTERS)
# The roles whose words a report may hold: the customers' and guests', never the one who asks.
ANSWER_ROLES = ("customer", "guest")


def tags_of(values: dict[str, Any]) -> tuple[str, ...] | None:
    """The tags given (None when none were: the quote keeps its own), each once, at most MAX_TAGS."""
    tags = tuple(dict.fromkeys(values.get("tags") or ()))
    if len(tags) > MAX_TAGS:
        raise UsageError(f"tag: {len(tags)} tags; give at most {MAX_TAGS}")
    return tags or None


@dataclass(frozen=True)
class ReportSource:
    """What a report is of: a question, a collection, or every theme; and the filters of a search."""

    query: str | None
    collection: str | None
    every_theme: bool
    filters: SearchFilters


def report_source(values: dict[str, Any]) -> ReportSource:
    """What the parsed REPORT values ask for: one of a question, a collection or --themes; filters
    narrow a search or the themes only; and a role, when given, is one that answers (ANSWER_ROLES)."""
    found = ReportSource(values.get("query"), values.get("collection"), bool(values.get("every_theme")), filters_from(values))
    if sum(map(bool, (found.query, found.collection, found.every_theme))) != 1:
        raise UsageError('report: give one of a question (heard report "pricing" -o pricing.html), --collection NAME or --themes')
    if found.collection and found.filters.where() is not None:
        raise UsageError("report: filters narrow a search; a collection's report holds every quote saved in it")
    if found.filters.role in ASKER_ROLES:
        raise UsageError(
            f"role: a report holds the customers' own words, never the {found.filters.role}'s; give {' or '.join(ANSWER_ROLES)}"
        )
    return found
