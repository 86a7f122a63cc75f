"""A loopback Hugging Face hub: a real HTTP server on 127.0.0.1 that serves model folders under hub
names the way huggingface.co does, so that `embedding.model: <name>` can be checked without internet
(HF_ENDPOINT points huggingface_hub at it).

It answers what huggingface_hub and sentence-transformers ask when they load a model by name:
- HEAD/GET /<repo>/resolve/<revision>/<file>: the file, with X-Repo-Commit (the commit the revision
  names), ETag (sha256 of the file, quoted, as the hub sends for LFS files) and Content-Length;
  a file the repository lacks is 404 with X-Error-Code: EntryNotFound, an unknown repository 401
  with X-Error-Code: RepoNotFound (what the hub answers to an anonymous client);
- GET /api/models/<repo> and /api/models/<repo>/revision/<revision>: the model's id, sha and
  siblings (its file names); /api/models/<repo>/tree/<revision>/<folder>: the files under a folder
  (transformers asks for additional_chat_templates/), 404 EntryNotFound where there are none.
`fail` makes every request answer that status (a hub that is down: 500, 503), and every request is
recorded, so a test can say what was asked.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubServer:
    repos: dict[str, Path] = field(default_factory=dict)  # hub name ("org/model") -> folder served
    replaced: dict[str, dict[str, bytes]] = field(default_factory=dict)  # hub name -> {file: what it holds instead}
    fail: int | None = None  # answer every request with this status
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    def start(self) -> HubServer:
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub._answer(self, body=False)

            def do_GET(self) -> None:
                hub._answer(self, body=True)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, *, body: bool) -> None:
        path = unquote(urlsplit(handler.path).path)
        self.requests.append((handler.command, path))
        if self.fail is not None:
            return _send(handler, self.fail, b'{"error": "Internal Error"}', body=body)
        if path.startswith("/api/models/"):
            return self._model_info(handler, path.removeprefix("/api/models/"), body=body)
        if "/resolve/" not in path:
            return _send(handler, 404, b"Not Found", body=body)
        repo, rest = path.strip("/").split("/resolve/", 1)
        _revision, _, name = rest.partition("/")
        folder = self.repos.get(repo)
        if folder is None:
            return _send(handler, 401, b"Repository not found", body=body, error="RepoNotFound")
        data = self._read(repo, folder, name)
        if data is None:
            return _send(handler, 404, b"Entry not found", body=body, error="EntryNotFound")
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
        _send(handler, 200, data, body=body, headers=headers, content_type="application/octet-stream")

    def _read(self, repo: str, folder: Path, name: str) -> bytes | None:
        if name in self.replaced.get(repo, {}):
            return self.replaced[repo][name]
        file = folder / name
        return file.read_bytes() if name and ".." not in Path(name).parts and file.is_file() else None

    def _model_info(self, handler: http.server.BaseHTTPRequestHandler, rest: str, *, body: bool) -> None:
        parts = rest.strip("/").split("/")
        repo, action = "/".join(parts[:2]), parts[2:3]
        folder = self.repos.get(repo)
        if folder is None:
            return _send(handler, 401, b'{"error": "Repository not found"}', body=body, error="RepoNotFound")
        siblings = sorted(
            {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} | set(self.replaced.get(repo, {}))
        )
        if action == ["tree"]:  # /api/models/<repo>/tree/<revision>[/<folder>]: the files under a folder
            under = "/".join(parts[4:])
            inside = [name for name in siblings if not under or name.startswith(under + "/")]
            if not inside:
                return _send(handler, 404, b'{"error": "Entry not found"}', body=body, error="EntryNotFound")
            tree = [
                {"type": "file", "path": name, "size": len(self._read(repo, folder, name) or b""), "oid": COMMIT}
                for name in inside
            ]
            return _send(handler, 200, json.dumps(tree).encode(), body=body, content_type="application/json")
        info = {"id": repo, "modelId": repo, "sha": COMMIT, "private": False, "siblings": [{"rfilename": s} for s in siblings]}
        _send(handler, 200, json.dumps(info).encode(), body=body, content_type="application/json")


def _send(
    handler: http.server.BaseHTTPRequestHandler,
    status: int,
    data: bytes,
    *,
    body: bool,
    headers: dict[str, str] | None = None,
    error: str | None = None,
    content_type: str = "text/plain",
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    if error:
        handler.send_header("X-Error-Code", error)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if body:
        handler.wfile.write(data)
