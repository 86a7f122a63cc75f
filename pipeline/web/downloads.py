"""Evidence to take away: a quote's clip (/clips/QUOTE_ID.mp3, or .m4a .ogg .opus .wav) and a
report of the page's every-answer view, themes or a collection (/report.html), built by the same
functions as `heard clip` and `heard report`."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from pipeline.errors import HeardError, IndexMissingError, UsageError
from pipeline.evidence import options as evidence_options
from pipeline.evidence.clips import CLIP_FORMATS, cut_audio, source_of
from pipeline.evidence.options import report_source
from pipeline.evidence.report import Report
from pipeline.evidence.report_html import render as render_report
from pipeline.evidence.spans import Recordings
from pipeline.finding.hits import parse_quote_id
from pipeline.web import params, views
from pipeline.web.files import indexed_media
from pipeline.web.media import OpenMedia, descriptor_path

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
    except HeardError as exc:
        raise HTTPException(404 if isinstance(exc, UsageError) else 500, str(exc)) from exc
    # Cut from the file /media would serve, read through the descriptor it was checked on: never a
    # file linked or copied in place of the indexed one since (issue 25).
    audio = indexed_media(request, parse_quote_id(quote_id).recording_id)
    try:
        data = cut_audio(Path(descriptor_path(audio.fd)), source.start, source.end, found)
    except HeardError as exc:
        raise HTTPException(500, str(exc).replace(descriptor_path(audio.fd), str(audio.path))) from exc
    finally:
        audio.close()
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
    with_clips = not query.values.get("no_clips")
    with _indexed_audio(request, found) if with_clips else contextlib.nullcontext():
        page = render_report(found, library.settings, clips=with_clips)
    filename = f"{views.export_filename(found.title)}.html".replace("heard-", "heard-report-", 1)
    return Response(
        page, media_type="text/html; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@contextlib.contextmanager
def _indexed_audio(request: Request, found: Report) -> Iterator[None]:
    """Each quote's clip is cut from its recording's file as /media would serve it, read through
    the descriptor it was checked on; a quote whose file changed since it was indexed gets no clip
    and says why (issue 25: nothing is handed out that was not indexed)."""
    opened: dict[str, OpenMedia | HTTPException] = {}
    try:
        for quote in found.quotes:
            if quote.clip is None:
                continue
            recording_id = parse_quote_id(quote.quote_id).recording_id
            if recording_id not in opened:
                try:
                    opened[recording_id] = indexed_media(request, recording_id)
                except HTTPException as exc:
                    opened[recording_id] = exc
            audio = opened[recording_id]
            if isinstance(audio, HTTPException):
                quote.clip, quote.no_clip = None, str(audio.detail)
            else:
                quote.clip = dataclasses.replace(quote.clip, audio=Path(descriptor_path(audio.fd)))
        yield
    finally:
        for audio in opened.values():
            if isinstance(audio, OpenMedia):
                audio.close()
