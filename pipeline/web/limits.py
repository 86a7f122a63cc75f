"""The largest request body the server takes: every route's, before any of it reaches the route.

The page's forms and the API take a few hundred bytes (a speaker's name and role, a question); a
5 MB rename form once grew the index by 180 MB and the server's memory by 2 GB (issue 25). A body
that declares more than MAX_BODY_BYTES is refused with 413 before a byte of it is read; one sent
without a length (chunked) is read here first, up to the limit, and refused as soon as it passes
it, so whatever the route does with a body, none past the limit reaches it.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """ASGI middleware: 413 for any request whose body is over `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for key, value in scope.get("headers", []) if key == b"content-length"), None)
        if declared is not None:
            if declared.strip().isdigit() and int(declared) <= self.limit:
                await self.app(scope, receive, send)  # the server reads no more than it declared
            else:
                await self._refuse(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body of a request without a declared length, or None once it passes the limit."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)  # the client left; the route sees an empty body
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.limit:
                return None
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(f"request body too large: this server takes at most {self.limit // 1024} KB", 413)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that gives the body already read once, then waits as the server's would."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
