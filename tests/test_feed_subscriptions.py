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


def test_feeds_list_right_after_feeds_add_says_when_the_feed_was_checked(server, tmp_path, test_config):
    url = server.put("/feed.xml", RSS.format(n=1), "application/rss+xml")
    added = run_heard(["feeds", "add", url], tmp_path, test_config)
    assert added.stdout.startswith(f"subscribed to Show 1 ({url}): 1 episode; "), added.output
    listed = run_heard(["feeds", "list"], tmp_path, test_config).stdout
    assert "not fetched yet" not in listed and "checked 20" in listed and "0 of 1 episode fetched" in listed
    (row,) = json.loads(run_heard(["feeds", "list", "--format", "json"], tmp_path, test_config).stdout)
    assert row["checked_at"] and (row["title"], row["episodes"], row["fetched"]) == ("Show 1", 1, 0)


@pytest.mark.parametrize("name, words", [
    ("Dana\x1b]0;pwned\x07\x1b[2J\nV9 Fake", "has a control character"),
    ("Evil\u202eshow", "has a control character"),
    ("   ", "give a name"),
    ("x" * 201, "201 characters; give at most 200"),
])
def test_a_show_name_with_control_characters_or_over_200_characters_is_refused(server, tmp_path, test_config, name, words):
    url = server.put("/feed.xml", RSS.format(n=1), "application/rss+xml")
    result = run_heard(["feeds", "add", url, "--name", name], tmp_path, test_config)
    assert result.exit_code == 2 and words in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "\x1b" not in line and "\u202e" not in line
    assert not (tmp_path / "feeds.yaml").exists()
    assert run_heard(["feeds", "add", url, "--name", "x" * 200], tmp_path, test_config).exit_code == 0


def test_a_name_put_in_feeds_yaml_by_hand_follows_the_same_rule(server, tmp_path, test_config):
    url = server.put("/feed.xml", RSS.format(n=1), "application/rss+xml")
    (tmp_path / "feeds.yaml").write_text(f'feeds:\n  - url: {url}\n    name: "Dana\\e[2J"\n')
    result = run_heard(["feeds", "list"], tmp_path, test_config)
    assert result.exit_code == 2
    assert f"{tmp_path / 'feeds.yaml'}: feed 1: the name 'Dana\\x1b[2J' has a control character" in result.stderr


def test_a_feed_title_with_control_characters_is_printed_escaped(server, tmp_path, test_config):
    url = server.put("/feed.xml", RSS.format(n="\u202eevil\u202c \x9b2J"), "application/rss+xml")
    added = run_heard(["feeds", "add", url], tmp_path, test_config)
    listed = run_heard(["feeds", "list"], tmp_path, test_config)
    for output in (added.output, listed.output):
        assert "\u202e" not in output and "\x9b" not in output and "Show \\u202eevil\\u202c \\x9b2J" in output


def test_feeds_add_never_writes_over_what_an_ingest_of_the_same_feed_just_saved(server, tmp_path, test_config, monkeypatch):
    """Both write the feed's state (.feed.json): `feeds add` what it saw, only while no ingest has
    fetched the feed; ingest what it downloaded. The ingest's save is made to land between the add's
    read and its write (a race two processes can hit; a thread here provokes it): the state must end
    as the ingest left it, its episode done, not as the add saw it before."""
    import threading

    from pipeline.config import load_settings
    from pipeline.sources.feeds import subscriptions
    from pipeline.sources.feeds.state import DONE, EpisodeRecord, FeedState, feed_folder

    url = server.put("/feed.xml", RSS.format(n=2), "application/rss+xml")
    settings = load_settings(test_config, data_dir=tmp_path)
    folder = feed_folder(tmp_path, url)
    read = FeedState.load

    def ingest_saves() -> None:
        state = FeedState(url=url, etag='"e"', title="Show 2", checked_at="2026-12-05T21:00:00+00:00")
        state.episodes["e1"] = EpisodeRecord(key="e1", title="E1", enclosure_url=server.url("/e1.mp3"), status=DONE, file="e1.mp3")
        state.save(folder)

    def read_then_let_an_ingest_save(at: Path, feed_url: str) -> FeedState:
        seen = read(at, feed_url)
        ingest = threading.Thread(target=ingest_saves)
        ingest.start()
        ingest.join(timeout=1.0)  # it finishes now, or waits for the add's lock and writes after it
        threads.append(ingest)
        return seen

    threads: list[threading.Thread] = []
    monkeypatch.setattr(FeedState, "load", staticmethod(read_then_let_an_ingest_save))
    subscriptions.subscribe(url, settings)
    monkeypatch.setattr(FeedState, "load", staticmethod(read))
    for thread in threads:
        thread.join(timeout=10)
    state = read(folder, url)
    assert state.etag == '"e"' and state.episodes["e1"].status == DONE
