"""urllib vs httpx on what heard's feed fetcher needs, against a local http.server: a conditional
GET (304), redirects to other schemes, a stalled server, Range, and speed (300 conditional
requests, a 30 MB body), as medians of interleaved rounds.

    python scripts/compare_http_clients.py      # httpx comes with heard
"""

from __future__ import annotations

import http.server
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import httpx

BIG = os.urandom(30 * 1024 * 1024)
ETAG = '"v1"'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/feed":
            if self.headers.get("If-None-Match") == ETAG:
                return self.reply(304, ETag=ETAG)
            return self.reply(200, b"<rss/>", ETag=ETAG)
        if self.path.startswith("/to/"):
            return self.reply(302, Location=self.path[4:].replace("|", "://", 1))
        if self.path == "/big":
            wanted = self.headers.get("Range")
            start = int(wanted.split("=")[1].split("-")[0]) if wanted else 0
            extra = {"Content_Range": f"bytes {start}-{len(BIG) - 1}/{len(BIG)}"} if wanted else {}
            return self.reply(206 if wanted else 200, BIG[start:], **extra)
        if self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(5)
            return None
        return self.reply(404)


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    client = httpx.Client(timeout=1, follow_redirects=True)

    def with_urllib(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers or {}), timeout=1) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""

    def with_httpx(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        answer = client.get(base + path, headers=headers or {})
        return answer.status_code, answer.content

    clients = {"urllib": with_urllib, "httpx": with_httpx}
    for name, get in clients.items():
        print(f"== {name}")
        print("  conditional GET:", get("/feed", {"If-None-Match": ETAG})[0])
        for target in ("file|/etc/passwd", "ftp|127.0.0.1/x", f"http|127.0.0.1:{server.server_port}/feed"):
            try:
                outcome = str(get("/to/" + target)[0])
            except Exception as exc:  # noqa: BLE001 - the failure is what is compared
                outcome = f"{type(exc).__name__}: {str(exc)[:70]}"
            print(f"  redirect to {target.split('|')[0]}: {outcome}")
        started = time.monotonic()
        try:
            get("/stall")
            print("  stalled server: returned")
        except Exception as exc:  # noqa: BLE001
            print(f"  stalled server: {type(exc).__name__} after {time.monotonic() - started:.1f} s")
        status, body = get("/big", {"Range": "bytes=1000-"})
        print("  Range:", status, body == BIG[1000:])

    conditional: dict[str, list[float]] = {name: [] for name in clients}
    download: dict[str, list[float]] = {name: [] for name in clients}
    for _round in range(5):
        for name, get in clients.items():
            started = time.perf_counter()
            for _ in range(300):
                get("/feed", {"If-None-Match": ETAG})
            conditional[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            get("/big")
            download[name].append(time.perf_counter() - started)
    for name in clients:
        c, d = statistics.median(conditional[name]), statistics.median(download[name])
        c0, d0 = statistics.median(conditional["urllib"]), statistics.median(download["urllib"])
        print(f"{name}: 300 x 304 in {c * 1000:.0f} ms ({c / c0:.2f}x urllib); 30 MB in {d * 1000:.0f} ms ({d / d0:.2f}x urllib)")
    for module in ("urllib.request", "httpx"):
        timing = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True)
        print(f"import {module}: {int(timing.stderr.strip().splitlines()[-1].split('|')[1]) / 1000:.0f} ms")


if __name__ == "__main__":
    main()
