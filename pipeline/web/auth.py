"""The optional access token: when set, every request must carry it.

A browser brings it once as `?token=...`; the reply stores it in an HttpOnly cookie and sends the
browser back to the same address without it, so links copied from the address bar never carry it.
Scripts send `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from starlette.middleware.base import DispatchFunction, RequestResponseEndpoint
    from starlette.requests import Request
    from starlette.responses import Response

COOKIE = "heard_token"

MESSAGE = (
    "This heard server needs its access token. Open the page once with ?token=THE_TOKEN added to "
    "the address (ask whoever started `heard serve`), or send the header 'Authorization: Bearer THE_TOKEN'."
)


def local_path(path: str) -> str:
    """`path` as a redirect target that stays on this server: a browser takes "//evil.example/"
    (which "/%2fevil.example/" decodes to) and "/\\evil.example/" for another site's address."""
    return quote("/" + path.lstrip("/\\"), safe="/-._~!$&'()*+,;=:@")


def same_origin(request: Request) -> bool:
    """Whether a form post comes from a page of this server: its Origin (or, failing that, its
    Referer) names the host the request was sent to. Another site's page cannot forge it, so it
    cannot make a signed-in browser rename speakers (cross-site request forgery)."""
    from urllib.parse import urlsplit

    host = request.headers.get("host")
    sent_from = request.headers.get("origin") or request.headers.get("referer")
    if not host or not sent_from or sent_from == "null":
        return False
    return urlsplit(sent_from).netloc.lower() == host.lower()


def token_middleware(token: str) -> DispatchFunction:
    """Lets through requests that carry the token (header or cookie); a ?token= in the address is
    swapped for the cookie; any other request gets 401."""
    from starlette.responses import PlainTextResponse, RedirectResponse

    def matches(candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), token.encode())

    async def check(request: Request, call_next: RequestResponseEndpoint) -> Response:
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        if matches(bearer) or matches(request.cookies.get(COOKIE)):
            return await call_next(request)
        if matches(request.query_params.get("token")):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = local_path(request.url.path) + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="lax")
            return response
        return PlainTextResponse(MESSAGE, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    return check
