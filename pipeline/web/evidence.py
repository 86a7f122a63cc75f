"""The page's evidence: Save on every quote, the Collections pages (notes and tags editable, quotes
playable), clip downloads and reports. Forms change the collections file only when posted by a
page of this server (auth.same_origin) and no bigger than MAX_FORM_BYTES; every value is parsed
by the options `heard save` declares (evidence/options.py), so it is refused in the same words."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from pipeline.errors import HeardError, UsageError
from pipeline.evidence import highlights
from pipeline.evidence import options as evidence_options
from pipeline.finding.hits import make_quote_id
from pipeline.messages import counted
from pipeline.options import Option, parse_all
from pipeline.web import params, views
from pipeline.web.auth import same_origin
from pipeline.web.pages import render

router = APIRouter(include_in_schema=False)

# A form holds a quote id, a collection's name, a note and tags: a few KB at most, even in UTF-8
# and percent-encoded. Anything larger is refused before it is read whole.
MAX_FORM_BYTES = 64 * 1024
EDIT = (evidence_options.NOTE, evidence_options.TAGS)


class FormRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form's fields, after checking it comes from this server's page and is small."""
    if not same_origin(request):
        raise FormRefused(403, "refused: the form must be sent from this server's own page")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormRefused(413, f"refused: a form of at most {MAX_FORM_BYTES // 1024} KB is taken")
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused(413, f"refused: a form of at most {MAX_FORM_BYTES // 1024} KB is taken")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def parsed(options: Sequence[Option], form: dict[str, list[str]]) -> dict[str, Any]:
    values, errors = parse_all(options, form)
    if errors:
        raise UsageError("; ".join(errors))
    return values


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def answer(request: Request, payload: dict[str, Any], then: str) -> Response:
    """JSON for the page's script, or back to a page for a plain form post."""
    if wants_json(request):
        return JSONResponse(payload)
    return RedirectResponse(then, status_code=303)


def refusal(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "missing.html", status=status, what="error", message=message)


def collection_url(name: str, anchor: str = "") -> str:
    return f"/collections/view?{urlencode({'name': name})}" + (f"#{quote(anchor)}" if anchor else "")


def quote_id_of(form: dict[str, list[str]]) -> str:
    """The posted quote id, or one made of a recording id and the start and end of the words
    selected on its page (made here: the page's script must not round times its own way)."""
    given = (form.get("quote_id") or [""])[-1].strip()
    if given:
        return given
    try:
        recording = (form.get("recording_id") or [""])[-1]
        start, end = (float((form.get(key) or [""])[-1]) for key in ("start", "end"))
    except ValueError:
        raise UsageError(f"{evidence_options.QUOTE_ID.name}: {evidence_options.QUOTE_ID.missing}") from None
    return make_quote_id(recording, start, end)


@router.post("/collections/save")
async def save_quote(request: Request) -> Response:
    """Save a quote (a card's Save, or words selected on a recording's page) into a collection."""
    library = request.app.state.library
    try:
        form = await read_form(request)
        values = parsed(evidence_options.SAVE, {**form, "quote_id": [quote_id_of(form)]})
        tags = evidence_options.tags_of(values)
        saved = await run_in_threadpool(
            highlights.save, library.settings, values["quote_id"], values["collection"], note=values["note"], tags=tags
        )
    except FormRefused as exc:
        return refusal(request, exc.status, str(exc))
    except HeardError as exc:
        return refusal(request, 400, str(exc))
    count = counted(saved.collection_quotes, "quote")
    link = collection_url(saved.quote.collection, saved.quote.quote_id)
    payload = {
        "quote_id": saved.quote.quote_id,
        "collection": saved.quote.collection,
        "quotes": saved.collection_quotes,
        "new": saved.new,
        "message": f"{'Saved to' if saved.new else 'Already in'} {saved.quote.collection} ({count})",
        "link": link,
    }
    return answer(request, payload, link)


@router.post("/collections/edit")
async def edit_quote(request: Request) -> Response:
    """A saved quote's note and tags, from the collection page."""
    library = request.app.state.library
    try:
        form = await read_form(request)
        name = parsed((evidence_options.COLLECTION_NAME,), form)["name"]
        quote_id = parsed((evidence_options.QUOTE_ID,), form)["quote_id"]
        values = parsed(EDIT, form)
        saved = await run_in_threadpool(
            highlights.edit, library.settings, name, quote_id, note=values["note"] or "", tags=values["tags"]
        )
    except FormRefused as exc:
        return refusal(request, exc.status, str(exc))
    except HeardError as exc:
        return refusal(request, 400, str(exc))
    return answer(request, saved.to_dict(), collection_url(saved.collection, saved.quote_id))


@router.post("/collections/unsave")
async def unsave_quote(request: Request) -> Response:
    library = request.app.state.library
    try:
        form = await read_form(request)
        values = parsed(evidence_options.UNSAVE, {**form, "from": form.get("name") or []})
        removed = await run_in_threadpool(highlights.unsave, library.settings, values["quote_id"], values["collection"])
    except FormRefused as exc:
        return refusal(request, exc.status, str(exc))
    except HeardError as exc:
        return refusal(request, 400, str(exc))
    return answer(request, {"removed_from": removed}, collection_url(removed[0]))


@router.post("/collections/rename")
async def rename_collection(request: Request) -> Response:
    library = request.app.state.library
    try:
        values = parsed(evidence_options.RENAME, await read_form(request))
        _, new = await run_in_threadpool(highlights.rename, library.settings, values["name"], values["new_name"])
    except FormRefused as exc:
        return refusal(request, exc.status, str(exc))
    except HeardError as exc:
        return refusal(request, 400, str(exc))
    return answer(request, {"name": new}, collection_url(new))


@router.post("/collections/remove")
async def remove_collection(request: Request) -> Response:
    library = request.app.state.library
    try:
        values = parsed(evidence_options.REMOVE, await read_form(request))
        name, count = await run_in_threadpool(highlights.remove, library.settings, values["name"])
    except FormRefused as exc:
        return refusal(request, exc.status, str(exc))
    except HeardError as exc:
        return refusal(request, 400, str(exc))
    return answer(request, {"removed": name, "quotes": count}, "/collections")


@router.get("/collections", response_class=HTMLResponse)
def collections_page(request: Request) -> HTMLResponse:
    library = request.app.state.library
    return render(request, "collections.html", collections=highlights.collections(library.settings))


@router.get("/collections/view", response_class=HTMLResponse)
def collection_page(request: Request, name: str = "") -> Response:
    library = request.app.state.library
    try:
        found, quotes = highlights.show(library.settings, name)
    except UsageError as exc:
        return render(request, "missing.html", status=404, what="error", message=str(exc))
    return render(
        request,
        "collection.html",
        collection_name=found,
        quotes=[{**views.hit_view(library, q.as_hit()), "saved": q} for q in quotes],
        request=params.search_params(QueryParams(""), library.settings),
        report=f"/report.html?{urlencode({'collection': found})}",
    )
