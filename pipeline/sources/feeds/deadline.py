"""A total deadline for one HTTP exchange: at the deadline a timer shuts the connection's socket
down, which wakes a read blocked on a server that trickles bytes (httpx has timeouts per read and
per connect, none for the whole exchange).

The sockets come from httpcore's `trace` extension (connection.connect_tcp.complete), a public
hook; the timer shuts down a duplicate of each socket's descriptor, so it never touches the TLS
state the reading thread uses, and never a descriptor number the process has since reused.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from pipeline.sources.feeds.parse import FeedError


class Deadline:
    """`with Deadline(seconds, setting, hint):` around an exchange; pass `.trace` as the request's
    trace extension. `.expired` tells whether the timer ended it; `.error(url)` is the one line."""

    def __init__(self, seconds: float, setting: str, hint: str):
        self.seconds, self.setting, self.hint = seconds, setting, hint
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: remember each new connection's socket."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        raw = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(raw, socket.socket):
            return
        with self._lock:
            duplicate = socket.socket(fileno=os.dup(raw.fileno()))
            self._sockets.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for duplicate in self._sockets:
                _shut(duplicate)

    def error(self, url: str) -> FeedError:
        return FeedError(url, f"took longer than {self.seconds:g} s in all ({self.setting}); {self.hint}")


def _shut(duplicate: socket.socket) -> None:
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side
