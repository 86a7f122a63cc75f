"""Run the web app with uvicorn on a socket we bind ourselves, so a busy port is a clear error."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline import threads
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.messages import safe
from pipeline.web.hosts import is_loopback

if TYPE_CHECKING:
    import uvicorn

# Off this machine a token is all that guards every transcript: long enough not to be guessed.
MIN_TOKEN_LENGTH = 16


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 picks a free one)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address of this machine ({exc.strerror})") from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"{host}:{port}: cannot listen there ({exc.strerror}); pick another --port") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(
    settings: Settings, *, token: str | None = None, host: str | None = None, log_level: str = "info"
) -> uvicorn.Server:
    """A uvicorn Server for the app listening on `host`; call `.run(sockets=[bind(...)])` to serve."""
    import uvicorn

    from pipeline.web.app import create_app

    config = uvicorn.Config(create_app(settings, token=token, host=host), log_level=log_level, access_log=False)
    return uvicorn.Server(config)


def check_exposure(host: str, token: str | None) -> None:
    """Anyone who can reach the port could read every transcript: beyond this machine, a token is required."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host} makes heard reachable from other machines; give it an access token with "
            "--token TOKEN (or HEARD_TOKEN), or leave --host at 127.0.0.1"
        )
    if not is_loopback(host) and token and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"--token: {len(token)} characters is too short for --host {host}; give at least {MIN_TOKEN_LENGTH}, "
            "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    announce: Callable[[str], object] = print,
) -> None:
    """Serve until interrupted; `announce` gets the lines that tell a person where to go."""
    threads.wait_passively()  # before a search loads the text encoder or themes loads scikit-learn
    check_exposure(host, token)
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    server = make_server(settings, token=token, host=host, log_level="warning")
    announce(safe(f"heard: searching {settings.data_dir} at {url} (Ctrl+C stops)"))
    if token:
        announce(f"heard: each browser opens {url}?token=... once; scripts send 'Authorization: Bearer ...'")
    server.run(sockets=[sock])
