"""Subscriptions (`heard feeds add/list/remove`) as separate processes and people use them: six adds
at once, what `feeds list` says after an add, and the names people give shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_heard
from feed_server import FeedServer

# No model loads here: the whole file runs in make test-fast.
pytestmark = pytest.mark.fast

HEARD = Path(sys.executable).parent / "heard"
RSS = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Show {n}</title>'
       '<item><title>E1</title><guid>e1</guid><enclosure url="/e1.mp3" type="audio/mpeg" length="1"/></item>'
       "</channel></rss>")


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


def test_six_feeds_added_at_once_are_all_kept(server, tmp_path, test_config):
    """Each `feeds add` reads, changes and writes feeds.yaml: under a lock, none of the six is lost.
    The server answers the six fetches at the same moment, so the six writes race."""
    server.put("/feed.xml", RSS.format(n=0), "application/rss+xml")
    server.fault("/feed.xml", "barrier", count=6)
    urls = [server.url(f"/feed.xml?n={n}") for n in range(6)]
    adds = [subprocess.Popen([str(HEARD), "--config", str(test_config), "--data-dir", str(tmp_path), "feeds", "add", url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for url in urls]
    results = [(add.wait(timeout=120), add.stdout.read(), add.stderr.read()) for add in adds]
    assert all(code == 0 for code, _, _ in results), results
    listed = json.loads(run_heard(["feeds", "list", "--format", "json"], tmp_path, test_config).stdout)
    assert sorted(row["url"] for row in listed) == sorted(urls)
