"""The FastAPI app: HTML pages rendered on the server, media by recording id, exports and /api/."""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose types are imported
# inside create_app to keep `heard --help` fast.
import mimetypes
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import HeardError, IndexMissingError
from pipeline.search import Hit
from pipeline.transcripts import Transcript, format_timestamp
from pipeline.web import exports, params
from pipeline.web.catalog import Catalog, RecordingInfo

HERE = Path(__file__).resolve().parent
# Types browsers accept for <audio>; Python's table lacks some or names them oddly.
MEDIA_TYPES = {".m4a": "audio/mp4", ".opus": "audio/ogg", ".oga": "audio/ogg", ".webm": "audio/webm",
               ".mkv": "video/x-matroska", ".wav": "audio/wav", ".aac": "audio/aac"}


def create_app(settings: Settings, token: str | None = None):
    """The app over `settings.data_dir`; with `token`, every request must carry it (see auth)."""
    import jinja2
    from fastapi import FastAPI, HTTPException, Path as PathParam, Query, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    catalog = Catalog(settings)
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    templates.filters["mmss"] = format_timestamp

    app = FastAPI(
        title="heard",
        summary="Search what customers said in recorded interviews: timestamped quotes, transcripts, audio.",
        version=_version(),
    )
    app.state.catalog = catalog
    if token:
        from pipeline.web.auth import token_middleware

        app.middleware("http")(token_middleware(token))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    RecordingId = PathParam(pattern=r"^[0-9a-f]{8,64}$", description="A recording id (from search hits or /api/recordings).")

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("data_dir", str(settings.data_dir))
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status)

    def run_search(request: params.SearchRequest) -> tuple[list[Hit], str | None]:
        """Hits, or none and the reason a person can act on."""
        if not request.query or request.errors:
            return [], None
        try:
            return catalog.search(request.query, request.filters, request.k), None
        except IndexMissingError:
            return [], "no-index"

    def hit_view(hit: Hit, base: str = "") -> dict[str, Any]:
        link = f"{base}/recordings/{hit.recording_id}?t={hit.start:.2f}&end={hit.end:.2f}"
        tags = hit.metadata.get("tags") or []
        return {
            **hit.to_dict(),
            "tags": [tags] if isinstance(tags, str) else list(tags),
            "timestamp": format_timestamp(hit.start),
            "link": link,
            "media": f"{base}/media/{hit.recording_id}",
            # From the ranking work (issue 3) when present: the sentences around the quote.
            "context_before": getattr(hit, "context_before", None) or "",
            "context_after": getattr(hit, "context_after", None) or "",
            "available": catalog.media_path(hit.recording_id) is not None,
        }

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    # Pages --------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request):
        query = params.parse(request.query_params)
        hits, problem = run_search(query)
        indexed = problem is None and catalog.has_index()
        return page(
            "search.html",
            request=query,
            hits=[hit_view(h) for h in hits],
            no_index=problem == "no-index" or not indexed,
            recordings=catalog.recordings() if not query.query else [],
            roles=params.ROLES,
            page_sizes=params.PAGE_SIZES,
        )

    @app.get("/recordings", response_class=HTMLResponse, include_in_schema=False)
    def recordings_page():
        return page("recordings.html", recordings=catalog.recordings(), no_index=not catalog.has_index())

    @app.get("/recordings/{recording_id}", response_class=HTMLResponse, include_in_schema=False)
    def recording_page(recording_id: str, t: str | None = None, end: str | None = None):
        transcript = catalog.transcript(recording_id)  # None for anything that is not a known id
        if transcript is None:
            return page("missing.html", status=404, what="recording")
        # A hand-edited link with a bad time still opens the transcript, just without a highlight.
        start, stop = _seconds(t), _seconds(end)
        return page(
            "recording.html",
            info=catalog.info(recording_id),
            turns=_turns(transcript, start, stop),
            start=start,
        )

    @app.get("/media/{recording_id}", include_in_schema=False)
    def media(recording_id: str = RecordingId):
        info = catalog.info(recording_id)
        if info is None:
            raise HTTPException(404, "no recording with this id")
        path = catalog.media_path(recording_id)
        if path is None:
            raise HTTPException(
                404, f"the recording's file is no longer at {info.source}; run `heard ingest` on the folder it is in now"
            )
        media_type = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # FileResponse answers Range requests (206), which seeking in the browser relies on.
        return FileResponse(path, media_type=media_type)

    @app.get("/export.csv", include_in_schema=False)
    def export_csv(request: Request):
        query, hits = _export_hits(request)
        links = [hit_view(h, base_url(request))["link"] for h in hits]
        return Response(
            exports.to_csv(hits, links),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(query.query)}.csv"'},
        )

    @app.get("/export.md", include_in_schema=False)
    def export_markdown(request: Request):
        query, hits = _export_hits(request)
        links = [hit_view(h, base_url(request))["link"] for h in hits]
        return Response(
            exports.to_markdown(hits, links, query.query),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(query.query)}.md"'},
        )

    def _export_hits(request: Request) -> tuple[params.SearchRequest, list[Hit]]:
        query = params.parse(request.query_params)
        if not query.query or query.errors:
            raise HTTPException(400, "; ".join(query.errors) or "nothing to export: give a query with ?q=")
        hits, problem = run_search(query)
        if problem == "no-index":
            raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
        return query, hits

    # JSON API -----------------------------------------------------------------------------------
    @app.get("/api/search", tags=["api"], summary="Ranked quotes for a query, with the same filters as the page")
    def api_search(
        request: Request,
        q: str,
        role: str | None = None,
        speaker: str | None = None,
        company: str | None = None,
        segment: str | None = None,
        tag: list[str] = Query(default=[]),
        since: str | None = None,
        until: str | None = None,
        k: int = 10,
    ):
        # The typed arguments document the API; the values are parsed the same way as the page's.
        query = params.parse(request.query_params)
        if not query.query:
            raise HTTPException(400, "q must not be empty")
        if query.errors:
            raise HTTPException(400, "; ".join(query.errors))
        hits, problem = run_search(query)
        if problem == "no-index":
            raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
        return {"query": query.query, "hits": [hit_view(h, base_url(request)) for h in hits]}

    @app.get("/api/recordings", tags=["api"], summary="Every transcribed recording")
    def api_recordings(request: Request) -> list[dict[str, Any]]:
        return [_recording_json(r, base_url(request)) for r in catalog.recordings()]

    @app.get("/api/recordings/{recording_id}/transcript", tags=["api"], summary="A recording's transcript by segment")
    def api_transcript(request: Request, recording_id: str = RecordingId):
        transcript = catalog.transcript(recording_id)
        if transcript is None:
            raise HTTPException(404, "no recording with this id")
        data = transcript.to_dict()
        data["segments"] = [{k: v for k, v in s.items() if k != "words"} for s in data["segments"]]
        return {**data, "recording": _recording_json(catalog.info(recording_id), base_url(request))}

    @app.exception_handler(HeardError)
    def heard_error(request: Request, exc: HeardError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=500)
        return page("missing.html", status=500, what="error", message=str(exc))

    return app


def _recording_json(info: RecordingInfo, base: str) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "source": info.source,
        "duration": info.duration,
        "available": info.available,
        "link": f"{base}/recordings/{info.id}",
        "media": f"{base}/media/{info.id}",
    }


def _turns(transcript: Transcript, start: float | None, end: float | None) -> list[dict[str, Any]]:
    """Consecutive segments of one speaker as a turn; lines inside [start, end] are the quote."""
    if start is not None and end is None:
        end = start + 0.01
    turns: list[dict[str, Any]] = []
    for segment in transcript.segments:
        line = {
            "start": segment.start,
            "end": segment.end,
            "text": segment.text.strip(),
            "quote": start is not None and segment.start < end and start < segment.end,
        }
        if not turns or turns[-1]["speaker"] != segment.speaker:
            turns.append({"speaker": segment.speaker, "start": segment.start, "lines": []})
        turns[-1]["lines"].append(line)
    return turns


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


def _filename(query: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in query.lower()).strip("-")
    return "heard-" + ("-".join(filter(None, safe.split("-")))[:60] or "results")


def _version() -> str:
    from pipeline import __version__

    return __version__
