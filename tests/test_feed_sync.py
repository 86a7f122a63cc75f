"""The feed step on its own (sync_feeds, no model): every feed of a run is checked whatever one of
them holds, each failure one line naming its feed."""

from __future__ import annotations

import pytest
from feed_server import FeedServer

from pipeline.config import load_settings
from pipeline.sources.feeds import sync

# No model loads here: the whole file runs in make test-fast.
pytestmark = pytest.mark.fast

RSS = ('<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>{title}</title>'
       "</channel></rss>")


class Lines:
    def __init__(self):
        self.infos: list[str] = []
        self.failures: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def failure(self, message: str) -> None:
        self.failures.append(message)


def run(feeds: list[str], data_dir) -> tuple[sync.SyncResult, Lines]:
    lines = Lines()
    settings = load_settings(None, data_dir, environ={})
    return sync.sync_feeds([(url, None) for url in feeds], settings, lines, audio_seconds=lambda _path: 1.0), lines


def test_feeds_in_odd_encodings_among_subscriptions_are_read_and_the_others_still_checked(tmp_path):
    with FeedServer() as server:
        feeds = [
            server.put("/utf16.xml", RSS.format(declared="UTF-16", title="Café").encode("utf-16"), "application/rss+xml"),
            server.put("/mac.xml", RSS.format(declared="mac", title="Café").encode("mac_roman"), "application/rss+xml"),
            server.put("/sjis.xml", RSS.format(declared="Shift_JIS", title="東京").encode("shift_jis"), "application/rss+xml"),
            server.put("/broken.xml", b"\xff\xfe<\x00", "application/rss+xml"),
            server.put("/good.xml", RSS.format(declared="utf-8", title="Good"), "application/rss+xml"),
        ]
        result, lines = run(feeds, tmp_path)
    assert result.checked == 5
    (failure,) = result.failures
    assert failure.feed == feeds[3] and "\n" not in failure.line()
    assert lines.failures == [f"[feed] FAILED: {failure.line()}"]
    assert len(result.folders) == 4


def test_a_fault_of_heards_own_on_one_feed_fails_that_feed_alone(tmp_path, monkeypatch):
    """A fake only to provoke what no real feed should: an exception heard did not foresee in one feed."""
    original = sync.parse_feed

    def parse(data: bytes, url: str):
        if url.endswith("/odd.xml"):
            raise TypeError("an unforeseen shape")
        return original(data, url)

    monkeypatch.setattr(sync, "parse_feed", parse)
    with FeedServer() as server:
        odd = server.put("/odd.xml", RSS.format(declared="utf-8", title="Odd"), "application/rss+xml")
        good = server.put("/good.xml", RSS.format(declared="utf-8", title="Good"), "application/rss+xml")
        result, lines = run([odd, good], tmp_path)
    assert result.checked == 2 and len(result.folders) == 1
    (failure,) = result.failures
    assert failure.line() == (f"{odd}: TypeError: an unforeseen shape "
                              "(heard could not handle this feed; please report it)")
