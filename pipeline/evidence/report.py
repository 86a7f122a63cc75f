"""A report: the quotes that answer a question (as `heard search --all` finds them) or those saved in a
collection, with their themes, ready to be written as HTML (report_html.py) or Markdown
(report_markdown.py).

Honest by construction: a search's count line is the one `heard search --all` prints for the same
question and filters, and the report prints those filters and that command; the quotes are the
customers' (or guests') own words: a search is narrowed to the role that answers, and a collection's
quotes by whoever asks the questions are left out, and the report says how many."""

from __future__ import annotations

import datetime
import shlex
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.errors import UsageError
from pipeline.evidence.clips import ClipSource, source_of
from pipeline.evidence.highlights import show
from pipeline.evidence.listing import collection_headline
from pipeline.evidence.saved import SavedQuote
from pipeline.evidence.spans import Recordings
from pipeline.finding.filters import SearchFilters
from pipeline.finding.hits import Hit
from pipeline.finding.options import FILTERS, ThemesRequest
from pipeline.indexing.role_names import ASKER_ROLES
from pipeline.messages import counted
from pipeline.transcripts import format_timestamp

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.finding.searcher import Searcher


@dataclass
class ReportQuote:
    number: int
    quote_id: str
    recording_id: str
    text: str
    speaker: str | None
    role: str | None
    title: str
    start: float
    end: float
    metadata: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = ""  # why the words are as saved (a collection's quote whose recording changed)
    clip: ClipSource | None = None  # the audio to cut, when there is some
    no_clip: str = ""  # else why there is none

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start)

    def to_dict(self) -> dict[str, Any]:
        found = {k: v for k, v in self.__dict__.items() if k != "clip"}
        return {**found, "timestamp": self.timestamp, "has_audio": self.clip is not None}


@dataclass
class ReportTheme:
    label: str
    recordings: int
    quotes: list[int]  # the numbers of the report's quotes in it

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "recordings": self.recordings, "quotes": self.quotes}


@dataclass
class Report:
    title: str  # the question, or the collection's name
    kind: str  # "search" or "collection"
    count_line: str
    filters: list[tuple[str, str]]  # (option, value) as `heard search` takes them
    command: str  # the command whose count this is, or that lists the collection
    quotes: list[ReportQuote]
    themes: list[ReportTheme]
    left_out: list[str] = field(default_factory=list)  # one line per kind of quote left out, and why
    made_at: str = field(default_factory=lambda: datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "count": self.count_line,
            "filters": dict(self.filters),
            "command": self.command,
            "themes": [t.to_dict() for t in self.themes],
            "quotes": [q.to_dict() for q in self.quotes],
            "left_out": self.left_out,
            "made_at": self.made_at,
            "version": self.version,
        }


def answering_role(filters: SearchFilters, searcher: Searcher) -> SearchFilters:
    """`filters` with the role whose words a report holds: the one given (customer or guest), else
    customer, or guest when the index holds podcasts' guests and no customers."""
    if filters.role:
        return filters
    store = searcher.checked_store()
    role = "guest" if not store.recording_count({"role": "customer"}) and store.recording_count({"role": "guest"}) else "customer"
    return replace(filters, role=role)


def filter_pairs(filters: SearchFilters) -> list[tuple[str, str]]:
    """The filters given, as (option, value) pairs in the order `heard search --help` lists them."""
    pairs = []
    for option in FILTERS:
        value = getattr(filters, option.key)
        for one in value if isinstance(value, tuple) else (value,):
            if one not in (None, ""):
                pairs.append((option.name, str(one)))
    return pairs


def _flags(pairs: list[tuple[str, str]]) -> list[str]:
    return [part for name, value in pairs for part in (f"--{name}", value)]


def search_report(
    settings: Settings, query: str, filters: SearchFilters, *, searcher: Searcher, recordings: Recordings | None = None
) -> Report:
    """Every quote `heard search --all QUERY` finds with these filters, narrowed to the answering
    role, with the themes `heard themes QUERY` finds among them."""
    chosen = answering_role(filters, searcher)
    answers = searcher.every_answer(query, filters=chosen)
    left_out = [] if filters.role else _other_roles(searcher.search_all(query, filters=filters), chosen.role, query)
    filters = chosen
    recordings = recordings or Recordings(settings)
    quotes = [_from_hit(number, hit) for number, hit in enumerate(answers.hits, 1)]
    numbers = {hit.chunk_id: number for number, hit in enumerate(answers.hits, 1)}
    themes = []
    if answers.hits:
        for theme in searcher.themes(ThemesRequest(query=query, filters=filters)):
            inside = sorted({numbers[q.chunk_id] for q in theme.quotes if q.chunk_id in numbers})
            if inside:
                themes.append(ReportTheme(theme.label, len({quotes[n - 1].recording_id for n in inside}), inside))
    pairs = filter_pairs(filters)
    command = shlex.join(["heard", "search", "--all", query, *_flags(pairs)])
    _attach_clips(quotes, recordings, settings.evidence.clip_pad)
    return Report(query, "search", answers.count_line(), pairs, command, quotes, themes, left_out)


def _other_roles(hits: list[Hit], role: str | None, query: str) -> list[str]:
    """What a report narrowed to `role` leaves out of the unnarrowed `heard search --all`, by whom."""
    asked = sum(1 for hit in hits if hit.role in ASKER_ROLES)
    unknown = sum(1 for hit in hits if hit.role != role and hit.role not in ASKER_ROLES)
    every = shlex.join(["heard", "search", "--all", query])
    lines = []
    if asked:
        lines.append(f"{counted(asked, 'answering quote')} by the interviewer or host left out ({every} lists them)")
    if unknown:
        lines.append(
            f"{counted(unknown, 'answering quote')} by speakers not known to be {role}s left out "
            f"(speakers' roles unknown, or another role; {every} lists them)"
        )
    return lines


def themes_report(
    settings: Settings, filters: SearchFilters, *, searcher: Searcher, recordings: Recordings | None = None
) -> Report:
    """The themes `heard themes` finds in every customer quote that passes `filters`, each with its
    quotes (the customers' or guests' words: themes leave out whoever asks, and questions)."""
    quotes: list[ReportQuote] = []
    themes = []
    for theme in searcher.themes(ThemesRequest(filters=filters)):
        first = len(quotes) + 1
        quotes += [_from_hit(number, hit) for number, hit in enumerate(theme.quotes, first)]
        themes.append(ReportTheme(theme.label, theme.recordings, list(range(first, len(quotes) + 1))))
    heard_in = len({q.recording_id for q in quotes})
    count = (
        f"{counted(len(themes), 'theme')} in what customers said in {counted(heard_in, 'recording')}, "
        f"{counted(len(quotes), 'quote')}"
    )
    pairs = filter_pairs(filters)
    command = shlex.join(["heard", "themes", *_flags(pairs)])
    _attach_clips(quotes, recordings or Recordings(settings), settings.evidence.clip_pad)
    return Report("What customers talk about", "themes", count, pairs, command, quotes, themes)


def _from_hit(number: int, hit: Hit) -> ReportQuote:
    return ReportQuote(
        number=number,
        quote_id=hit.quote_id,
        recording_id=hit.recording_id,
        text=hit.text,
        speaker=hit.speaker,
        role=hit.role,
        title=hit.title,
        start=hit.start,
        end=hit.end,
        metadata=hit.metadata,
    )


def collection_report(settings: Settings, name: str, *, searcher: Searcher, recordings: Recordings | None = None) -> Report:
    """The quotes saved in a collection, less any by whoever asks the questions, grouped into themes."""
    recordings = recordings or Recordings(settings)
    name, saved = show(settings, name, recordings=recordings)
    kept = [quote for quote in saved if quote.role not in ASKER_ROLES]
    asked = len(saved) - len(kept)
    left_out = (
        [f"{counted(asked, 'saved quote')} by the interviewer or host left out: a report holds the customers' own words"]
        if asked
        else []
    )
    quotes = [_from_saved(number, quote) for number, quote in enumerate(kept, 1)]
    _attach_clips(quotes, recordings, settings.evidence.clip_pad)
    count = collection_headline(name, quotes)
    command = shlex.join(["heard", "collections", "show", name])
    return Report(name, "collection", count, [], command, quotes, _themes_of(quotes, settings, searcher), left_out)


def _from_saved(number: int, quote: SavedQuote) -> ReportQuote:
    return ReportQuote(
        number=number,
        quote_id=quote.quote_id,
        recording_id=quote.recording_id,
        text=quote.text,
        speaker=quote.speaker,
        role=quote.role,
        title=quote.title,
        start=quote.start,
        end=quote.end,
        metadata=quote.metadata,
        note=quote.note,
        tags=list(quote.tags),
        status=quote.status_text,
    )


def _themes_of(quotes: list[ReportQuote], settings: Settings, searcher: Searcher) -> list[ReportTheme]:
    """Themes among a collection's quotes, found as `heard themes` finds them (k-means over the
    quotes' vectors, labelled by their key phrases)."""
    if len(quotes) < max(2, settings.themes.min_quotes):
        return []
    from pipeline.finding.themes import grouping, labels

    texts = [q.text for q in quotes]
    # attach_similarity is in all-MiniLM-L6-v2's cosines: moved into this index's spread.
    attach = searcher.scale.cosine(settings.themes.attach_similarity)
    groups = grouping.group(searcher.embedder.encode_documents(texts), settings.themes, attach=attach)
    names = labels.labels(texts, groups, [q.recording_id for q in quotes], terms=settings.themes.label_terms)
    found = [
        ReportTheme(label, len({quotes[row].recording_id for row in rows}), sorted(quotes[row].number for row in rows))
        for rows, label in zip(groups, names)
    ]
    return sorted(found, key=lambda t: (-t.recordings, -len(t.quotes), t.label))


def _attach_clips(quotes: list[ReportQuote], recordings: Recordings, pad: float) -> None:
    """Where each quote's audio is, or why there is none."""
    for quote in quotes:
        try:
            quote.clip = source_of(quote.quote_id, recordings, pad=pad)
        except UsageError as exc:
            quote.no_clip = str(exc)
