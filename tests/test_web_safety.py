"""`heard serve` against a browser that is lied to: DNS rebinding, open redirects, short tokens, odd
Range headers, hostile exports and a cache that fills up (issue 13). Over HTTP, against the real
`heard serve` command where the command's own options matter."""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import urllib.parse

import pytest
from conftest import REPO
from hostile_fixtures import FORMULA_STARTS
from test_output_safety import assert_markdown_is_text
from web_fixtures import RunningServer

TOKEN = "a-token-of-24-characters"


class Served:
    def __init__(self, port: int):
        self.port = port

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        """A raw GET; http.client sends the Host header we give it as it is."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
            for key, value in headers.items():
                conn.putheader(key, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


@contextlib.contextmanager
def heard_serve(data_dir, config, *options):
    """The real `heard serve` command on a free port of 127.0.0.1."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HEARD_TOKEN", None)
    command = [sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir), "serve",
               "--port", "0", *options]
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert "http://127.0.0.1:" in line, line
        yield Served(int(line.split("http://127.0.0.1:")[1].split("/")[0]))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        process.stderr.close()


@pytest.fixture(scope="module")
def open_server(web_data, test_config):
    with heard_serve(web_data.data_dir, test_config) as served:
        yield served


@pytest.fixture(scope="module")
def token_server(web_data, test_config):
    with heard_serve(web_data.data_dir, test_config, "--token", TOKEN) as served:
        yield served


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "127.0.0.1:{port}@evil.example", "localhost.:{port}", ""])
def test_without_a_token_only_this_machines_names_are_answered(open_server, host):
    status, _, body = open_server.get("/api/recordings", {"Host": host.format(port=open_server.port)})
    assert status in (400, 421), (host, status)
    assert b"recordings/" not in body and b"Host" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_loopback_names_are_answered_and_links_use_them(open_server, host):
    host = host.format(port=open_server.port)
    status, _, body = open_server.get("/api/recordings", {"Host": host})
    assert status == 200, body
    links = [r["link"] for r in json.loads(body)]
    assert links and all(link.startswith(f"http://{host.lower()}/recordings/") for link in links)


def test_with_a_token_links_use_the_requested_host_if_it_is_a_host(token_server):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _, body = token_server.get("/api/recordings", {**auth, "Host": "heard.example.com:8443"})
    assert status == 200
    assert all(r["link"].startswith("http://heard.example.com:8443/recordings/") for r in json.loads(body))
    for host in ("evil.example/#", "evil.example/x?", "user@evil.example", "a b", "evil.example:99999"):
        status, _, body = token_server.get("/api/recordings", {**auth, "Host": host})
        assert status == 400 and b"recordings/" not in body, host


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "//evil.example/%2e%2e/", "/%2fevil.example/"])
def test_the_token_redirect_stays_on_this_server(token_server, path):
    status, headers, _ = token_server.get(f"{path}?token={TOKEN}")
    assert status == 303
    location = headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert urllib.parse.urlsplit(location).netloc == ""


@pytest.mark.fast
def test_off_loopback_a_short_token_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HEARD_TOKEN"}
    # Its own process with a time limit: a server that starts anyway must fail the test, not hang it.
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "0",
         "--token", "short-token"],
        cwd=REPO, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "16" in done.stderr and "--token" in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["bytes=5-1", "items=0-1", "bytes=abc", "bytes=-", "pages=1-2"])
def test_a_range_the_server_cannot_use_is_ignored(web_server, web_data, value):
    expected = (web_data.recordings / "acme-export.mp3").read_bytes()
    served = Served(web_server.port)
    status, _, body = served.get(f"/media/{web_data.ids['acme-export.mp3']}", {"Range": value})
    assert status == 200 and body == expected, (value, status)


def test_a_range_past_the_end_is_unsatisfiable(web_server, web_data):
    size = (web_data.recordings / "acme-export.mp3").stat().st_size
    status, headers, _ = Served(web_server.port).get(f"/media/{web_data.ids['acme-export.mp3']}",
                                                      {"Range": f"bytes={size + 10}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{size}"


def test_exports_escape_every_cell_of_hostile_recordings(hostile, test_config):
    with heard_serve(hostile, test_config) as served:
        query = urllib.parse.urlencode({"q": "what did the export write into the cell\n# Injected heading"})
        status, _, body = served.get(f"/export.csv?{query}")
        assert status == 200, body
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert any("HYPERLINK" in row["text"] for row in rows), rows
        for row in rows:
            for column, cell in row.items():
                assert not cell.startswith(FORMULA_STARTS), (column, cell)
        status, _, body = served.get(f"/export.md?{query}")
        assert status == 200
        assert_markdown_is_text(body.decode())


def test_a_long_lived_server_keeps_answering_when_its_sentence_cache_is_full(web_data, test_config, monkeypatch):
    from cachetools import LRUCache

    from pipeline.config import load_settings
    from pipeline.finding import quotes

    # The bounds a server reaches after days of queries (20,000 sentence vectors, 256 recordings),
    # made small enough that every request overflows them.
    vectors, sentences = LRUCache(maxsize=3), LRUCache(maxsize=1)
    monkeypatch.setattr(quotes, "_VECTORS", vectors)
    monkeypatch.setattr(quotes, "_SENTENCES", sentences)
    queries = ["exporting data to CSV", "price per seat", "single sign on", "exporting data to CSV", "onboarding"]
    with RunningServer(load_settings(test_config, web_data.data_dir, environ={})) as server:
        served = Served(server.port)
        for query in queries:
            status, _, body = served.get("/api/search?" + urllib.parse.urlencode({"q": query, "k": 5}))
            assert status == 200 and json.loads(body)["hits"], (query, body[:300])
    assert 0 < len(vectors) <= 3 and len(sentences) == 1
