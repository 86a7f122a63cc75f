"""Which Host names `heard serve` answers, and the links it builds from them.

A page on evil.example can have a browser on this machine send requests to 127.0.0.1 under the
page's own name (DNS rebinding), and read the answers. Without a token heard therefore answers only
requests addressed to a loopback name (localhost, 127.0.0.1, [::1]) or to the address it listens
on. With a token, the token is the protection: any name is answered, as long as it is a host name
or address (and a port), because links in pages and exports are built from it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.middleware.base import DispatchFunction, RequestResponseEndpoint
    from starlette.requests import Request
    from starlette.responses import Response

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Host:
    name: str  # lower case; an IPv6 address without brackets
    port: int | None

    def __str__(self) -> str:
        name = f"[{self.name}]" if ":" in self.name else self.name
        return f"{name}:{self.port}" if self.port is not None else name


def parse(header: str) -> Host | None:
    """The Host header as a name and port, or None when it is anything else (a path, user info,
    spaces, a port out of range)."""
    if not header or any(c in header for c in "/\\?#@ \t"):
        return None
    try:
        parts = urlsplit("//" + header)
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not name:
        return None
    try:
        return Host(str(ipaddress.ip_address(name)), port)
    except ValueError:
        return Host(name, port) if _NAME.match(name) else None


def is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed(host: Host | None, *, token: bool, bound: str | None) -> bool:
    """Whether a request addressed to `host` is answered (see the module's docstring)."""
    if host is None:
        return False
    return token or is_loopback(host.name) or (bound is not None and host.name == bound.lower().strip("[]"))


def base_url(request: Request) -> str:
    """scheme://host[:port] of the request, from its checked Host header: the start of every link."""
    host = parse(request.headers.get("host", ""))
    return f"{request.url.scheme}://{host}" if host else ""


def host_middleware(*, token: bool, bound: str | None) -> DispatchFunction:
    """Answers only requests whose Host is allowed (see allowed()); the others get 400 with the fix."""
    from starlette.responses import PlainTextResponse

    async def check(request: Request, call_next: RequestResponseEndpoint) -> Response:
        header = request.headers.get("host", "")
        if allowed(parse(header), token=token, bound=bound):
            return await call_next(request)
        return PlainTextResponse(
            f"This heard server answers requests to this machine's own names only, not to the Host {header!r}; "
            "open it as http://127.0.0.1:PORT/ or http://localhost:PORT/ (or start it with --token to serve other names).",
            status_code=400,
        )

    return check
