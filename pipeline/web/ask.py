"""The Ask box (/ask) and POST /api/ask: `heard ask` on the page and for scripts.

A GET never sends anything anywhere: without an LLM it answers at once (the extractive answer, a
shareable address); with one the box posts, and only a POST from this server's own page (or a
script, which sends no Origin) reaches the LLM, so another site cannot spend the team's tokens
through a visitor's browser. The index lock is held only around index work, never while the LLM
is asked (answering/ask.py).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from pipeline.answering.answers import Answer
from pipeline.answering.endpoint import Endpoint
from pipeline.answering.options import ASK, QUESTION
from pipeline.answering.writers import numbering, provenance
from pipeline.errors import ConfigError, IndexMissingError, UsageError
from pipeline.indexing.role_names import ROLES
from pipeline.messages import safe
from pipeline.web import hosts, params, views
from pipeline.web.auth import same_origin
from pipeline.web.library import Library

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def run_ask(library: Library, request: params.PageRequest) -> tuple[Answer | None, str | None]:
    """The answer, or None and the reason ("no-index"); a refused value goes into request.errors."""
    from pipeline.answering.ask import ask
    from pipeline.answering.options import ask_request

    if request.errors or not request.values.get("question"):
        return None, None
    try:
        return ask(library.searching, library.settings, ask_request(request.values)), None
    except IndexMissingError:
        return None, "no-index"
    except (UsageError, ConfigError) as exc:
        request.errors.append(safe(exc))
        return None, None


def answer_view(library: Library, answer: Answer, base: str = "") -> dict[str, Any]:
    """The answer as the page shows it: claims with their citation numbers, the cited quotes numbered."""
    numbers = numbering(answer)
    return {
        "answer": answer,
        "claims": [
            {
                "sentence": claim.sentence,
                "numbers": [numbers[h.quote_id] for h in claim.quotes],
                "quotes": [views.hit_view(library, h, base) for h in claim.quotes],
            }
            for claim in answer.claims
        ],
        "cited": [views.hit_view(library, h, base) for h in answer.cited()],
        "provenance": provenance(answer),
    }


def _llm(library: Library) -> tuple[Endpoint | None, str | None]:
    try:
        return Endpoint.configured(library.settings.llm), None
    except ConfigError as exc:
        return None, str(exc)


def _page(http: Request, request: params.PageRequest, answer: Answer | None, problem: str | None) -> HTMLResponse:
    from pipeline.web.pages import render

    library = http.app.state.library
    endpoint, misconfigured = _llm(library)
    request.errors += [misconfigured] if misconfigured else []
    llm = library.settings.llm
    return render(
        http,
        "ask.html",
        request=request,
        question=str(request.values.get("question") or ""),
        llm=endpoint,
        redacting=llm.redact_names or llm.redact_emails or llm.redact_phones,
        roles=ROLES,
        no_index=problem == "no-index",
        **(answer_view(library, answer) if answer else {}),
    )


@pages.get("/ask", response_class=HTMLResponse)
def ask_page(http: Request) -> HTMLResponse:
    """The Ask box; without an LLM, the extractive answer to ?q= at once (nothing is sent)."""
    library = http.app.state.library
    request = params.ask_params(http.query_params, library.settings)
    endpoint, _ = _llm(library)
    if endpoint is not None and not request.values.get("extractive"):
        return _page(http, request, None, None)  # the box posts: a link never spends tokens
    answer, problem = run_ask(library, request)
    return _page(http, request, answer, problem)


@pages.post("/ask", response_class=HTMLResponse)
async def ask_form(http: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    if not same_origin(http):
        return PlainTextResponse("refused: the question must be sent from this server's own page", status_code=403)
    library = http.app.state.library
    values = params.body_values(http.query_params, http.headers.get("content-type", ""), await http.body())
    request = params.ask_params(values, library.settings)
    answer, problem = await run_in_threadpool(run_ask, library, request)
    return _page(http, request, answer, problem)


@api.post(
    "/ask",
    summary="An answer to a question that cites its quotes, as `heard ask` (the LLM's when one is configured)",
    description=(
        "The question (`q`) and the filters of /api/search, in the URL, a JSON object or a form. "
        "Answers {mode, answer: [{sentence, quotes: [hit]}], dropped, count, candidates, sent, used, model, "
        "tokens, error, note}. When the configured LLM fails, 502 with the extractive answer and `error`."
    ),
    openapi_extra={"parameters": params.openapi(ASK), "requestBody": params.openapi_body(ASK)},
)
async def api_ask(http: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    if (http.headers.get("origin") or http.headers.get("referer")) and not same_origin(http):
        raise HTTPException(403, "refused: sent from another site's page")
    library = http.app.state.library
    try:
        values = params.body_values(http.query_params, http.headers.get("content-type", ""), await http.body())
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from exc
    request = params.ask_params(values, library.settings)
    if not request.values.get("question"):
        request.errors.insert(0, f"{QUESTION.name}: {QUESTION.missing}")
    if request.errors:
        raise HTTPException(400, "; ".join(request.errors))
    answer, problem = await run_in_threadpool(run_ask, library, request)
    if problem == "no-index":
        raise HTTPException(409, "no index yet; run `heard ingest FOLDER` first")
    if answer is None:
        raise HTTPException(400, "; ".join(request.errors))
    base = hosts.base_url(http)
    body = answer.to_dict(hit_json=lambda hit: views.hit_view(library, hit, base))
    return JSONResponse(body, status_code=502 if answer.error else 200)
