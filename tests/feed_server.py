"""A real HTTP server on 127.0.0.1 for feed tests: serves bytes by path with ETag, Last-Modified,
conditional GETs and Range requests, records every request, and injects faults on demand."""

from __future__ import annotations

import email.utils
import hashlib
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Resource:
    body: bytes
    content_type: str
    etag: str | None  # None: a server that sends no validators (a download cannot be resumed)
    last_modified: str | None


@dataclass
class Fault:
    kind: str  # "status" (answer `status`), "die" (close after `after` bytes), "stall", "redirect" (to `location`),
    # "barrier" (hold each answer until `count` requests for the path have come, or 20 s passed),
    # "trickle" (headers, then the body one byte every `every` s: its first `count` bytes, or all of it;
    # with length=False no Content-Length, the body ending when the connection closes),
    # "trickle-headers" (the status line, then one byte of a header every `every` s, never ending)
    status: int = 500
    after: int = 0
    location: str = ""
    every: float = 1.0
    count: int | None = None
    length: bool = True
    times: int | None = None  # None: every time; else how many requests it hits


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class FeedServer:
    resources: dict[str, Resource] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> FeedServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *_args: None  # a dropped connection is what some faults are for
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: bytes | str, content_type: str = "application/octet-stream", *,
            validators: bool = True) -> str:
        data = body.encode() if isinstance(body, str) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"' if validators else None
        self.resources[path] = Resource(data, content_type, etag,
                                        email.utils.formatdate(time.time(), usegmt=True) if validators else None)
        return self.url(path)

    def fault(self, path: str, kind: str, **options) -> None:
        self.faults[path] = Fault(kind, **options)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        request = Request(handler.path, {k.lower(): v for k, v in handler.headers.items()})
        with self.arrived:
            self.requests.append(request)
            self.arrived.notify_all()
        fault = self.faults.get(path)
        if fault is not None and fault.kind == "barrier":
            with self.arrived:
                self.arrived.wait_for(lambda: len(self.hits(path)) >= (fault.count or 1), timeout=20)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self.faults[path]
        if fault is not None and fault.kind == "status":
            return self._send(handler, request, fault.status, b"failure", "text/plain")
        if fault is not None and fault.kind == "redirect":
            return self._send(handler, request, 302, b"", "text/plain", {"Location": fault.location})
        if fault is not None and fault.kind == "trickle-headers":
            return self._trickle_headers(handler, request, fault.every)
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.after or 5)
            return self._send(handler, request, 504, b"", "text/plain")
        resource = self.resources.get(path)
        if resource is None:
            return self._send(handler, request, 404, b"not found", "text/plain")
        validators = {k: v for k, v in (("ETag", resource.etag), ("Last-Modified", resource.last_modified)) if v}
        if validators and (request.headers.get("if-none-match") == resource.etag or (
                "if-none-match" not in request.headers
                and request.headers.get("if-modified-since") == resource.last_modified)):
            return self._send(handler, request, 304, b"", None, validators)
        body, status, extra = resource.body, 200, dict(validators)
        wanted = request.headers.get("range", "")
        if validators and wanted.startswith("bytes=") and request.headers.get("if-range", resource.etag) in (
                resource.etag, resource.last_modified):
            start = int(wanted[6:].split("-")[0])
            if start >= len(body):
                return self._send(handler, request, 416, b"", None, {"Content-Range": f"bytes */{len(body)}"})
            extra["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            body, status = body[start:], 206
        if fault is not None and fault.kind == "trickle":
            if not fault.length:
                extra["Connection"] = "close"
            return self._trickle(handler, request, status, body, resource.content_type, extra, fault.every, fault.count,
                                 fault.length)
        if fault is not None and fault.kind == "die":
            return self._die(handler, request, status, body[: fault.after], len(body), resource.content_type, extra)
        return self._send(handler, request, status, body, resource.content_type, extra)

    @staticmethod
    def _send(handler, request: Request, status: int, body: bytes, content_type: str | None,
              headers: dict[str, str] | None = None) -> None:
        request.status = status
        handler.send_response(status)
        if content_type:
            handler.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _die(handler, request: Request, status: int, partial: bytes, length: int, content_type: str,
             headers: dict[str, str]) -> None:
        """Promise `length` bytes, send `partial`, then drop the connection: a server that dies mid-download."""
        request.status = status
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        handler.wfile.write(partial)
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    @staticmethod
    def _trickle(handler, request: Request, status: int, body: bytes, content_type: str, headers: dict[str, str],
                 every: float, count: int | None, length: bool = True) -> None:
        """Headers at once, then the body one byte every `every` seconds (its first `count` bytes; the
        rest at once): a server that never lets a read time out."""
        request.status = status
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        for key, value in headers.items():
            handler.send_header(key, value)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        slow = len(body) if count is None else count
        try:
            for position in range(slow):
                handler.wfile.write(body[position:position + 1])
                handler.wfile.flush()
                time.sleep(every)
            handler.wfile.write(body[slow:])
        except OSError:
            pass  # the client gave up
        handler.close_connection = True

    @staticmethod
    def _trickle_headers(handler, request: Request, every: float) -> None:
        """The status line, then a header one byte every `every` seconds, never ending the headers."""
        request.status = 200
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(100_000):
                handler.wfile.write(b"a")
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
        handler.close_connection = True
