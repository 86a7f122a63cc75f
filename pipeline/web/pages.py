"""The HTML pages: search, the list of recordings, and one recording's transcript."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from pipeline.errors import HeardError
from pipeline.indexing.role_names import ROLES
from pipeline.web import params, views
from pipeline.web.auth import same_origin

router = APIRouter(include_in_schema=False)


def render(http: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from templates/; `request` in the context is the search request, not the HTTP one."""
    context.setdefault("data_dir", str(http.app.state.library.settings.data_dir))
    return HTMLResponse(http.app.state.templates.get_template(name).render(**context), status_code=status)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    library = request.app.state.library
    query = params.search_params(request.query_params, library.settings)
    hits, problem, answers = views.run_search(library, query)
    indexed = problem is None and library.has_index()
    return render(
        request,
        "search.html",
        request=query,
        hits=[views.hit_view(library, h) for h in hits],
        answers=answers,
        groups=views.recording_groups([views.hit_view(library, h) for h in hits]) if answers else [],
        no_index=problem == "no-index" or not indexed,
        recordings=library.recordings() if not query.query else [],
        roles=ROLES,
        page_sizes=sorted({library.settings.search.k, *params.PAGE_SIZES}),
    )


@router.get("/themes", response_class=HTMLResponse)
def themes_page(request: Request) -> HTMLResponse:
    library = request.app.state.library
    query = params.themes_params(request.query_params, library.settings)
    themes, problem = views.run_themes(library, query)
    return render(
        request,
        "themes.html",
        request=query,
        themes=[{**theme, "quotes": [views.hit_view(library, h) for h in theme["quotes"]]} for theme in themes],
        no_index=problem == "no-index",
        min_recordings=query.min_recordings,
        shown=THEME_QUOTES_SHOWN,
    )


# Quotes a theme shows at once; the rest open under "N more quotes".
THEME_QUOTES_SHOWN = 3


@router.get("/recordings", response_class=HTMLResponse)
def recordings_page(request: Request) -> HTMLResponse:
    library = request.app.state.library
    return render(request, "recordings.html", recordings=library.recordings(), no_index=not library.has_index())


@router.get("/recordings/{recording_id}", response_class=HTMLResponse)
def recording_page(request: Request, recording_id: str, t: str | None = None, end: str | None = None) -> HTMLResponse:
    library = request.app.state.library
    transcript = library.transcript(recording_id)  # None for anything that is not a known id
    if transcript is None:
        return render(request, "missing.html", status=404, what="recording")
    # A hand-edited link with a bad time still opens the transcript, just without a highlight.
    start, stop = views.seconds(t), views.seconds(end)
    return render(
        request,
        "recording.html",
        info=library.info(recording_id),
        turns=views.turns(transcript, library.people(transcript), start, stop),
        start=start,
        speakers=library.speakers(transcript),
        roles=ROLES,
        renamed=request.query_params.get("renamed"),
        waiting=request.query_params.get("waiting") == "1",
    )


@router.post("/recordings/{recording_id}/speakers")
async def rename_speaker(request: Request, recording_id: str) -> Response:
    """The recording page's form: name (and give a role to) one speaker's voice, in every recording
    where it speaks. Only a form posted by a page of this server is taken (see auth.same_origin)."""
    from starlette.concurrency import run_in_threadpool

    from pipeline.jobs.identities import name_speaker

    if not same_origin(request):
        return PlainTextResponse("refused: the form must be sent from this server's own page", status_code=403)
    library = request.app.state.library
    transcript = library.transcript(recording_id)
    if transcript is None:
        return render(request, "missing.html", status=404, what="recording")
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    label = (form.get("label") or [""])[0]
    # An empty field gives no name; anything else is a name, held to the one rule for names.
    name = (form.get("name") or [""])[0] or None
    role = (form.get("role") or [""])[0] or None
    if label not in {row.label for row in library.speakers(transcript)} or (role and role not in ROLES):
        return PlainTextResponse("unknown speaker or role", status_code=400)
    try:
        # Re-indexing the voice's recordings takes a moment: off the event loop.
        change = await run_in_threadpool(
            name_speaker, library.settings, recording_id, label, name, role=role, open_index=library.index_for_writing
        )
    except HeardError as exc:
        return render(
            request,
            "recording.html",
            status=400,
            info=library.info(recording_id),
            turns=views.turns(transcript, library.people(transcript), None, None),
            start=None,
            speakers=library.speakers(transcript),
            roles=ROLES,
            error=str(exc),
        )
    waiting = "&waiting=1" if change.waiting else ""
    return RedirectResponse(f"/recordings/{recording_id}?renamed={quote(label)}{waiting}#speakers", status_code=303)
