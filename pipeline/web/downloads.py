"""Evidence to take away: a quote's clip (/clips/QUOTE_ID.mp3, or .m4a .ogg .opus .wav) and a
report of the page's every-answer view, themes or a collection (/report.html), built by the same
functions as `heard clip` and `heard report`."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from pipeline.errors import HeardError, IndexMissingError, UsageError
from pipeline.evidence import options as evidence_options
from pipeline.evidence.clips import CLIP_FORMATS, cut_audio, source_of
from pipeline.evidence.options import report_source
from pipeline.evidence.report_html import render as render_report
from pipeline.evidence.spans import Recordings
from pipeline.web import params, views

router = APIRouter(include_in_schema=False)


@router.get("/clips/{quote_id}.{extension}")
def clip(request: Request, quote_id: str, extension: str) -> Response:
    """The quote's audio as a file to keep, cut as `heard clip` cuts it (?pad= seconds)."""
    library = request.app.state.library
    found = CLIP_FORMATS.get(f".{extension.lower()}")
    if found is None:
        raise HTTPException(404, f"a clip is offered as {', '.join(CLIP_FORMATS)}")
    query = params.parse_request((evidence_options.PAD,), request.query_params, library.settings, lambda values: values)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    pad = query.values.get("pad")
    try:
        source = source_of(quote_id, Recordings(library.settings), pad=library.settings.evidence.clip_pad if pad is None else pad)
        data = cut_audio(source.audio, source.start, source.end, found)
    except HeardError as exc:
        raise HTTPException(404 if isinstance(exc, UsageError) else 500, str(exc)) from exc
    name = (
        f"{views.export_filename(source.title)}-{int(source.start) // 60:02d}m{int(source.start) % 60:02d}s.{extension.lower()}"
    )
    return Response(data, media_type=found.media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/report.html")
def report(request: Request) -> Response:
    """The report of a question (?q=, with the search's filters), a collection (?collection=) or every
    theme (?themes=1), as one self-contained HTML file; ?no-clips=1 leaves the clips out."""
    library = request.app.state.library
    query = params.parse_request(evidence_options.REPORT, request.query_params, library.settings, report_source)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    try:
        found = library.report(query.values)
    except IndexMissingError as exc:
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first") from exc
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from exc
    page = render_report(found, library.settings, clips=not query.values.get("no_clips"))
    filename = f"{views.export_filename(found.title)}.html".replace("heard-", "heard-report-", 1)
    return Response(
        page, media_type="text/html; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
