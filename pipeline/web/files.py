"""Files the page hands out: a recording's audio by id (with Range requests), and search results as
CSV or Markdown."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
import mimetypes
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from pipeline.finding import formats
from pipeline.messages import safe
from pipeline.web import hosts, params, views
from pipeline.web.library import RECORDING_ID
from pipeline.web.media import CHANGED, OpenMedia, descriptor_path

router = APIRouter(include_in_schema=False)

RecordingId = PathParam(pattern=RECORDING_ID.pattern, description="A recording id (from search hits or /api/recordings).")
# Types browsers accept for <audio>; Python's table lacks some or names them oddly.
MEDIA_TYPES = {
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".webm": "audio/webm",
    ".mkv": "video/x-matroska",
    ".wav": "audio/wav",
    ".aac": "audio/aac",
}


# HEAD too: players and link checkers ask for the headers alone (it was 405).
@router.api_route("/media/{recording_id}", methods=["GET", "HEAD"])
def media(request: Request, recording_id: str = RecordingId) -> FileResponse:
    """The recording's audio, only as it was indexed (web/media.py): a file changed, replaced or
    reached through a symbolic link since is 404, as is one that is gone."""
    found = indexed_media(request, recording_id)
    path = found.path
    media_type = MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    # FileResponse answers Range requests (206), which seeking in the browser relies on.
    return _MediaResponse(found, media_type=media_type)


def indexed_media(request: Request, recording_id: str) -> OpenMedia:
    """The recording's file, open and checked as indexed (web/media.py), for every route that hands
    out its audio (/media, /clips); else the 404 that says why. The caller closes it."""
    found = request.app.state.library.media(recording_id)
    if found is None:
        raise HTTPException(404, "no recording with this id")
    if found.found is None:
        if found.problem == CHANGED:
            raise HTTPException(404, f"{safe(found.path)}: {CHANGED}")
        raise HTTPException(
            404, f"the recording's file is no longer at {safe(found.path)}; run `heard ingest` on the folder it is in now"
        )
    opened: OpenMedia = found.found
    return opened


_BYTE_RANGES = re.compile(r"^bytes=\s*(\d*)-(\d*)\s*(,\s*(\d*)-(\d*)\s*)*$")


def usable_range(header: str) -> bool:
    """Whether a Range header is one a server must act on: byte ranges, each with a start or a
    suffix length, none ending before it starts. HTTP (RFC 9110, 14.2) has a server ignore any
    other (another unit, bytes=5-1) and send the whole file with 200; a range past the end of the
    file stays unsatisfiable (416)."""
    if not _BYTE_RANGES.match(header):
        return False
    for part in header.split("=", 1)[1].split(","):
        first, last = (p.strip() for p in part.split("-"))
        if (not first and not last) or (first and last and int(last) < int(first)):
            return False
    return True


class _MediaResponse(FileResponse):
    """FileResponse over a file already open and checked (OpenMedia): read through the descriptor,
    never its name again, and closed once answered. Range headers it cannot use are ignored
    (Starlette answers them with 400)."""

    def __init__(self, opened: OpenMedia, *, media_type: str) -> None:
        super().__init__(descriptor_path(opened.fd), media_type=media_type, stat_result=opened.stat)
        self._opened: OpenMedia | None = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", [])
        ranges = [value.decode("latin-1") for key, value in headers if key == b"range"]
        if ranges and not usable_range(ranges[0]):
            scope = {**scope, "headers": [(k, v) for k, v in headers if k != b"range"]}
        # No pathsend: a server that took the path would open it after the descriptor is closed.
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            self.close()

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def __del__(self) -> None:
        self.close()  # a response never sent (the client went away first) still closes its file


@router.get("/export.csv")
def export_csv(request: Request) -> Response:
    return _export(request, "csv", "text/csv; charset=utf-8")


@router.get("/export.md")
def export_markdown(request: Request) -> Response:
    return _export(request, "md", "text/markdown; charset=utf-8")


def _export(request: Request, output_format: str, media_type: str) -> Response:
    """The page's search as a file, written by the command line's writer for that format, each quote
    with a link to the page that plays it."""
    library = request.app.state.library
    query = params.search_params(request.query_params, library.settings)
    params.require_query(query)
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    hits, problem, _ = views.run_search(library, query)
    if problem == "no-index":
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
    if query.errors:
        raise HTTPException(400, "; ".join(query.errors))
    base = hosts.base_url(request)
    links = {hit.quote_id: views.quote_link(hit, base) for hit in hits}
    body = formats.writer(output_format).hits(hits, title=query.query, links=links)
    filename = f"{views.export_filename(query.query)}.{output_format}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
