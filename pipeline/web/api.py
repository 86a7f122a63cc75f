"""The JSON API under /api/, documented at /docs."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from pipeline.errors import IndexMissingError, UsageError
from pipeline.evidence import highlights
from pipeline.evidence import options as evidence_options
from pipeline.evidence.options import report_source
from pipeline.evidence.report import Report
from pipeline.finding.options import SEARCH, THEMES
from pipeline.indexing.roles import Person
from pipeline.web import hosts, params, views
from pipeline.web.files import RecordingId

router = APIRouter(prefix="/api", tags=["api"])


@router.get(
    "/search",
    summary="Ranked quotes for a query, with the same options and filters as `heard search` and the page",
    openapi_extra={"parameters": params.openapi(SEARCH)},
)
def api_search(request: Request) -> dict[str, Any]:
    library = request.app.state.library
    query = params.search_params(request.query_params, library.settings)
    params.require_query(query)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    hits, problem, answers = views.run_search(library, query)
    if problem == "no-index":
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    base = hosts.base_url(request)
    found: dict[str, Any] = {"query": query.query, "hits": [views.hit_view(library, h, base) for h in hits]}
    if answers is not None:
        found["count"] = {"line": answers.count_line(), "recordings": answers.recordings, "searched": answers.searched}
    return found


@router.get(
    "/themes",
    summary="What customers talk about: their quotes grouped into themes, as `heard themes`",
    openapi_extra={"parameters": params.openapi(THEMES)},
)
def api_themes(request: Request) -> dict[str, Any]:
    library = request.app.state.library
    query = params.themes_params(request.query_params, library.settings)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    themes, problem = views.run_themes(library, query)
    if problem == "no-index":
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    base = hosts.base_url(request)
    return {"themes": [{**t, "quotes": [views.hit_view(library, h, base) for h in t["quotes"]]} for t in themes]}


@router.get("/recordings", summary="Every transcribed recording")
def api_recordings(request: Request) -> list[dict[str, Any]]:
    base = hosts.base_url(request)
    return [views.recording_json(r, base) for r in request.app.state.library.recordings()]


@router.get("/recordings/{recording_id}/transcript", summary="A recording's transcript by segment")
def api_transcript(request: Request, recording_id: str = RecordingId) -> dict[str, Any]:
    library = request.app.state.library
    transcript = library.transcript(recording_id)
    if transcript is None:
        raise HTTPException(404, "no recording with this id")
    data = transcript.to_dict()
    names = library.people(transcript)
    data["segments"] = [_named({k: v for k, v in s.items() if k != "words"}, names) for s in data["segments"]]
    return {**data, "recording": views.recording_json(library.info(recording_id), hosts.base_url(request))}


def _named(segment: dict[str, Any], names: dict[str, Person]) -> dict[str, Any]:
    """The segment with its speaker's name and role as hits show them (`label`: the transcript's own)."""
    person = names.get(segment["speaker"]) if segment["speaker"] else None
    return {
        **segment,
        "label": segment["speaker"],
        "speaker": person.name if person else segment["speaker"],
        "role": person.role if person else None,
    }


@router.get("/collections", summary="The collections of saved quotes (heard collections), with counts")
def api_collections(request: Request) -> list[dict[str, Any]]:
    return [c.to_dict() for c in highlights.collections(request.app.state.library.settings)]


@router.get(
    "/collections/quotes",
    summary="The quotes saved in one collection (heard collections show), speakers named as they are now",
)
def api_collection(request: Request, name: str) -> dict[str, Any]:
    try:
        found, quotes = highlights.show(request.app.state.library.settings, name)
    except UsageError as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"name": found, "quotes": [q.to_dict() for q in quotes]}


@router.get(
    "/report",
    summary="A report's quotes, themes and counts, as `heard report --format json`: of a question, a collection or every theme",
    openapi_extra={"parameters": params.openapi(evidence_options.REPORT)},
)
def api_report(request: Request) -> dict[str, Any]:
    library = request.app.state.library
    query = params.parse_request(evidence_options.REPORT, request.query_params, library.settings, report_source)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    try:
        found: Report = library.report(query.values)
    except IndexMissingError as exc:
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first") from exc
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from exc
    return found.to_dict()
