"""Fetching feeds and enclosures from a real HTTP server on 127.0.0.1: conditional requests,
redirects, size caps, timeouts, and downloads that land atomically and resume."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
from feed_server import FeedServer

from pipeline.sources.feeds.fetch import Client, FeedError, Limits

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AUDIO = (EXAMPLES / "acme-export.mp3").read_bytes()


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def test_an_unchanged_feed_costs_one_304(server):
    url = server.put("/feed.xml", "<rss><channel/></rss>", "application/rss+xml")
    with Client() as client:
        first = client.fetch_feed(url)
        again = client.fetch_feed(url, etag=first.etag, last_modified=first.last_modified)
    assert (first.status, first.body) == (200, b"<rss><channel/></rss>")
    assert (again.status, again.body) == (304, None)
    assert [r.status for r in server.hits("/feed.xml")] == [200, 304]
    assert server.hits("/feed.xml")[1].headers["if-none-match"] == first.etag


def test_redirects_are_followed_to_http_only(server):
    url = server.put("/moved.xml", "<rss/>")
    server.fault("/old.xml", "redirect", location="/moved.xml")
    server.fault("/to-file.xml", "redirect", location="file:///etc/passwd")
    server.fault("/to-ftp.xml", "redirect", location="ftp://127.0.0.1/feed.xml")
    with Client() as client:
        assert client.fetch_feed(server.url("/old.xml")).url == url
        for path in ("/to-file.xml", "/to-ftp.xml"):
            with pytest.raises(FeedError, match="heard follows redirects to http\\(s\\) only"):
                client.fetch_feed(server.url(path))
        with pytest.raises(FeedError, match="only http:// and https://"):
            client.fetch_feed("file:///etc/passwd")


@pytest.mark.parametrize("status, words", [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")])
def test_http_errors_are_one_line(server, status, words):
    server.fault("/feed.xml", "status", status=status)
    with Client() as client, pytest.raises(FeedError) as failure:
        client.fetch_feed(server.url("/feed.xml"))
    assert str(failure.value) == f"{server.url('/feed.xml')}: the server answered {words}"


def test_unreachable_host_and_stalled_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with Client() as client, pytest.raises(FeedError, match="cannot connect"):
        client.fetch_feed(f"http://127.0.0.1:{closed_port}/feed.xml")
    with FeedServer() as server:
        server.fault("/slow.xml", "stall", after=3)
        with Client(Limits(read_timeout=0.5)) as client, pytest.raises(FeedError, match="timed out"):
            client.fetch_feed(server.url("/slow.xml"))


def test_download_lands_whole_and_atomically(server, tmp_path):
    url = server.put("/ep1.mp3", AUDIO, "audio/mpeg")
    target = tmp_path / "show" / "ep1.mp3"
    with Client() as client:
        done = client.download(url + "?utm=1", target)
    assert target.read_bytes() == AUDIO and done.size == len(AUDIO) and done.resumed_from == 0
    assert sorted(p.name for p in target.parent.iterdir()) == ["ep1.mp3"]


def test_a_server_that_dies_mid_download_leaves_no_partial_file_and_the_next_run_resumes(server, tmp_path):
    url = server.put("/ep1.mp3", AUDIO, "audio/mpeg")
    server.fault("/ep1.mp3", "die", after=len(AUDIO) // 3, times=1)
    target = tmp_path / "ep1.mp3"
    with Client() as client:
        with pytest.raises(FeedError, match="the transfer broke off"):
            client.download(url, target)
        assert not target.exists()  # only a hidden .part, which discovery skips
        assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
        done = client.download(url, target)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(AUDIO).digest()
    assert done.resumed_from == len(AUDIO) // 3
    resumed = server.hits("/ep1.mp3")[-1]
    assert resumed.headers["range"] == f"bytes={len(AUDIO) // 3}-" and resumed.status == 206
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep1.mp3"]


def test_a_changed_file_is_not_glued_onto_an_old_partial_download(server, tmp_path):
    url = server.put("/ep1.mp3", AUDIO, "audio/mpeg")
    server.fault("/ep1.mp3", "die", after=1000, times=1)
    with Client() as client:
        with pytest.raises(FeedError):
            client.download(url, tmp_path / "ep1.mp3")
        replaced = AUDIO[::-1]
        server.put("/ep1.mp3", replaced, "audio/mpeg")  # new ETag: If-Range fails, the server sends it all
        client.download(url, tmp_path / "ep1.mp3")
    assert (tmp_path / "ep1.mp3").read_bytes() == replaced


def test_enclosures_that_are_not_audio_or_too_big_are_refused(server, tmp_path):
    page = server.put("/ep.html", "<html>moved</html>", "text/html; charset=utf-8")
    big = server.put("/big.mp3", AUDIO, "audio/mpeg")
    with Client(Limits(max_episode_bytes=10_000)) as client:
        with pytest.raises(FeedError, match=r"the enclosure is not audio \(the server sent text/html\)"):
            client.download(page, tmp_path / "a.mp3")
        with pytest.raises(FeedError, match="over feeds.max_episode_mb"):
            client.download(big, tmp_path / "b.mp3")
    assert list(tmp_path.iterdir()) == [] or all(p.name.startswith(".") for p in tmp_path.iterdir())


# ---- a total deadline for every fetch: read_timeout bounds the gaps between bytes, not the whole ----

def test_a_feed_that_trickles_fails_at_its_deadline_however_short_the_gaps(server):
    """One byte every 0.2 s never trips read_timeout; feeds.feed_deadline ends it, body or headers."""
    server.put("/trickle.xml", "<rss><channel/></rss>", "application/rss+xml")
    server.fault("/trickle.xml", "trickle", every=0.2)
    server.fault("/slow-headers.xml", "trickle-headers", every=0.2)
    server.put("/no-length.xml", "<rss><channel/></rss>", "application/rss+xml")
    server.fault("/no-length.xml", "trickle", every=0.2, length=False)  # ends when the connection closes
    with Client(Limits(read_timeout=30, feed_deadline=1.5)) as client:
        for path in ("/trickle.xml", "/slow-headers.xml", "/no-length.xml"):
            started = time.monotonic()
            with pytest.raises(FeedError) as failure:
                client.fetch_feed(server.url(path))
            assert time.monotonic() - started < 4
            assert str(failure.value) == (
                f"{server.url(path)}: took longer than 1.5 s in all (feeds.feed_deadline); "
                "the server is too slow or keeps the connection open"
            )


@pytest.mark.parametrize("length", [True, False])
def test_a_trickled_download_fails_at_its_deadline_and_the_next_run_resumes(server, tmp_path, length):
    url = server.put("/ep1.mp3", AUDIO, "audio/mpeg")
    server.fault("/ep1.mp3", "trickle", every=0.05, times=1, length=length)
    target = tmp_path / "ep1.mp3"
    with Client(Limits(read_timeout=30, download_deadline=1.0)) as client:
        started = time.monotonic()
        with pytest.raises(FeedError, match=r"took longer than 1 s in all \(feeds.download_deadline\)"):
            client.download(url, target)
        assert time.monotonic() - started < 4
        assert not target.exists()
        kept = (tmp_path / ".ep1.mp3.part").stat().st_size
        assert kept > 0  # what arrived before the deadline is resumed, not fetched again
        done = client.download(url, target)
    assert target.read_bytes() == AUDIO and done.resumed_from == kept


@pytest.mark.parametrize("fault", ["trickle", "die"])
def test_a_failed_download_the_server_cannot_resume_leaves_no_partial_file(server, tmp_path, fault):
    """No ETag nor Last-Modified: the next run cannot resume, so the partial would only hold the space."""
    url = server.put("/ep1.mp3", AUDIO, "audio/mpeg", validators=False)
    server.fault("/ep1.mp3", fault, every=0.05, after=len(AUDIO) // 3, times=1)
    with Client(Limits(read_timeout=30, download_deadline=1.0)) as client:
        with pytest.raises(FeedError) as failure:
            client.download(url, tmp_path / "ep1.mp3")
        assert list(tmp_path.iterdir()) == []
        if fault == "trickle":
            assert str(failure.value) == (
                f"{url}: took longer than 1 s in all (feeds.download_deadline); "
                "the server cannot resume a download, so the next run starts it over"
            )
        done = client.download(url, tmp_path / "ep1.mp3")
    assert (tmp_path / "ep1.mp3").read_bytes() == AUDIO and done.resumed_from == 0
