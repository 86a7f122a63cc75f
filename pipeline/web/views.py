"""What pages, exports and the API show of hits, recordings and transcripts, shared by the routes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import IndexMissingError, UsageError
from pipeline.finding.hits import Answers, Hit
from pipeline.indexing.roles import Person
from pipeline.messages import NAME_MAX, safe
from pipeline.transcripts import Transcript, format_timestamp
from pipeline.web import params
from pipeline.web.library import Library, RecordingInfo

if TYPE_CHECKING:
    import jinja2

HERE = Path(__file__).resolve().parent


def make_templates() -> jinja2.Environment:
    import jinja2

    templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    templates.filters["mmss"] = format_timestamp
    templates.globals["name_max"] = NAME_MAX  # the rename form's field holds no more than a name may
    return templates


def run_search(library: Library, request: params.PageRequest) -> tuple[list[Hit], str | None, Answers | None]:
    """Hits, or none and the reason a person can act on ("no-index"); with ?all=1 every answering
    quote and its count (Answers), else the best k and None."""
    if not request.query or request.errors:
        return [], None, None
    try:
        hits, answers = library.run(request.search())
    except IndexMissingError:
        return [], "no-index", None
    except UsageError as exc:  # a value only the index can refuse (a recording it does not hold)
        request.errors.append(safe(exc))
        return [], None, None
    return hits, None, answers


def recording_groups(hit_views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hit views grouped by recording, in the order of each recording's best hit (the "every interview" view)."""
    groups: dict[str, dict[str, Any]] = {}
    for hit in hit_views:
        group = groups.setdefault(hit["recording_id"], {"recording_id": hit["recording_id"], "title": hit["title"], "hits": []})
        group["hits"].append(hit)
    return list(groups.values())


def run_themes(library: Library, request: params.PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """Themes (label, recordings, companies, quotes as Hits), or none and the reason ("no-index")."""
    if request.errors:
        return [], None
    try:
        found = library.themes(request.themes())
    except IndexMissingError:
        return [], "no-index"
    except UsageError as exc:
        request.errors.append(safe(exc))
        return [], None
    return [{"label": t.label, "recordings": t.recordings, "companies": t.companies, "quotes": t.quotes} for t in found], None


def hit_view(library: Library, hit: Hit, base: str = "") -> dict[str, Any]:
    """A hit with the links a card needs: its transcript at the quote, its audio, its tags."""
    tags = hit.metadata.get("tags") or []
    available = library.media_available(hit.recording_id)
    language = hit.metadata.get("language")
    return {
        **hit.to_dict(),
        "tags": [tags] if isinstance(tags, str) else list(tags),
        "timestamp": format_timestamp(hit.start),
        "link": quote_link(hit, base),
        "media": f"{base}/media/{hit.recording_id}",
        "available": available,
        "episode_page": episode_page(hit.metadata.get("link")),
        "language": language,
        # Whisper can translate it (?translate=1): spoken in another language, and its audio is there.
        "translatable": available and language not in (None, "en"),
    }


def quote_link(hit: Hit, base: str = "") -> str:
    """The recording page at the quote, which plays it from its first word."""
    return f"{base}/recordings/{hit.recording_id}?t={hit.start:.2f}&end={hit.end:.2f}"


def episode_page(link: object) -> str | None:
    """A podcast episode's page from its metadata, only as an http(s) link (a feed could say javascript:)."""
    return link if isinstance(link, str) and link.lower().startswith(("http://", "https://")) else None


def recording_json(info: RecordingInfo, base: str) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "source": info.source,
        "duration": info.duration,
        "available": info.available,
        "link": f"{base}/recordings/{info.id}",
        "media": f"{base}/media/{info.id}",
    }


def turns(transcript: Transcript, names: dict[str, Person], start: float | None, end: float | None) -> list[dict[str, Any]]:
    """Consecutive segments of one speaker as a turn, named as hits name them; lines inside
    [start, end] are the quote."""
    if start is not None and end is None:
        end = start + 0.01
    found: list[dict[str, Any]] = []
    for segment in transcript.segments:
        line = {
            "start": segment.start,
            "end": segment.end,
            "text": segment.text.strip(),
            "quote": start is not None and end is not None and segment.start < end and start < segment.end,
            # Each word with its times, so words selected on the page can be saved as a quote.
            "words": [(w.start, w.end, w.text) for w in segment.words if w.text.strip()],
        }
        person = names.get(segment.speaker) if segment.speaker else None
        speaker = person.name if person else segment.speaker
        if not found or found[-1]["speaker"] != speaker:
            found.append({"speaker": speaker, "role": person.role if person else None, "start": segment.start, "lines": []})
        found[-1]["lines"].append(line)
    return found


def seconds(value: str | None) -> float | None:
    """A time from a link (?t=12.5); None for anything that is not a finite, non-negative number."""
    try:
        found = float(value) if value else None
    except ValueError:
        return None
    return found if found is not None and 0 <= found < float("inf") else None


def export_filename(query: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in query.lower()).strip("-")
    return "heard-" + ("-".join(filter(None, safe.split("-")))[:60] or "results")
