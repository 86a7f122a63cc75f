"""The FastAPI app of `heard serve`: HTML pages rendered on the server (pages.py), audio and exports
(files.py), and the JSON API (api.py), over one Library of the data dir."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.errors import HeardError
from pipeline.web.views import HERE

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(settings: Settings, *, token: str | None = None, host: str | None = None) -> FastAPI:
    """The app over `settings.data_dir`; with `token`, every request must carry it (see auth).
    Without one, only requests addressed to this machine (a loopback name, or `host`, the address
    it listens on) are answered (see hosts)."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from fastapi_offline import FastAPIOffline

    from pipeline import __version__
    from pipeline.web import api, downloads, evidence, files, pages
    from pipeline.web import ask as asking
    from pipeline.web.hosts import host_middleware
    from pipeline.web.library import Library
    from pipeline.web.limits import BodyLimit
    from pipeline.web.views import make_templates

    # FastAPI with /docs (Swagger UI) and /redoc whose scripts and styles this server serves itself
    # (under /static-offline-docs): a page that loads them from a CDN is blank without the internet.
    app: FastAPI = FastAPIOffline(  # untyped package: a FastAPI subclass
        title="heard",
        summary="Search what customers said in recorded interviews: timestamped quotes, transcripts, audio.",
        version=__version__,
    )
    app.state.library = Library(settings)
    app.state.templates = make_templates()
    if token:
        from pipeline.web.auth import token_middleware

        app.middleware("http")(token_middleware(token))
    # No body past MAX_BODY_BYTES reaches a route (web/limits.py), whatever the route.
    app.add_middleware(BodyLimit)
    # Added last, so it runs first: a request to another name gets no further, token or not.
    app.middleware("http")(host_middleware(token=bool(token), bound=host))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages, files, api, evidence, downloads):
        app.include_router(module.router)
    app.include_router(asking.pages)
    app.include_router(asking.api)

    @app.exception_handler(HeardError)
    def heard_error(request: Request, exc: HeardError) -> HTMLResponse | JSONResponse:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=500)
        return pages.render(request, "missing.html", status=500, what="error", message=str(exc))

    return app
