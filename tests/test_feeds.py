"""Podcast feeds end to end, against a real HTTP server on 127.0.0.1: `heard ingest URL`,
subscriptions, reruns that cost one 304, changed enclosures, the publisher's transcripts,
speakers and chapters on hits, and every kind of bad feed failing alone."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from conftest import EXAMPLES, last_json_line, run_heard, small_tmpfs
from feed_server import FeedServer

NAMES = {"interviewer": "Dana Whitfield", "customer": "Priya Shah"}


@dataclass
class Item:
    guid: str | None
    title: str
    audio: str  # path on the server
    audio_type: str = "audio/mpeg"
    transcript: tuple[str, str] | None = None  # (path, MIME type)
    chapters: str | None = None
    persons: tuple[tuple[str, str], ...] = ()
    query: str = ""  # appended to the enclosure URL (tracking parameters)
    date: str = "Tue, 03 Mar 2026 06:00:00 GMT"


def rss(server: FeedServer, title: str, items: list[Item]) -> str:
    body = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>", f"<pubDate>{item.date}</pubDate>",
                 f"<link>{server.url('/episodes/' + (item.guid or 'x'))}</link>",
                 f'<enclosure url="{escape(server.url(item.audio) + item.query)}" type="{item.audio_type}" length="1"/>',
                 "<itunes:season>1</itunes:season><itunes:episode>3</itunes:episode>"]
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{item.guid}</guid>')
        if item.transcript:
            parts.append(f'<podcast:transcript url="{item.transcript[0]}" type="{item.transcript[1]}"/>')
        if item.chapters:
            parts.append(f'<podcast:chapters url="{item.chapters}" type="application/json+chapters"/>')
        parts += [f'<podcast:person role="{role}">{name}</podcast:person>' for name, role in item.persons]
        body.append("<item>" + "".join(parts) + "</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
            f"<title>{escape(title)}</title><link>{server.url('/show')}</link>" + "".join(body) + "</channel></rss>")


def json_transcript(turns: list[dict]) -> str:
    """A Podcasting 2.0 JSON transcript, one entry per word with times spread over its turn."""
    segments = []
    for turn in turns:
        words = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(words)
        for i, word in enumerate(words):
            segments.append({"speaker": NAMES[turn["speaker"]], "startTime": round(turn["start"] + i * step, 3),
                             "endTime": round(turn["start"] + (i + 1) * step, 3), "body": word})
    return json.dumps({"version": "1.0.0", "segments": segments})


def vtt_transcript(turns: list[dict]) -> str:
    def stamp(seconds: float) -> str:
        return f"00:{int(seconds // 60):02d}:{seconds % 60:06.3f}"

    cues = [f"{stamp(t['start'])} --> {stamp(t['end'])}\n<v {NAMES[t['speaker']]}>{t['text']}" for t in turns]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


@dataclass
class Show:
    server: FeedServer
    items: list[Item]
    feed_url: str

    def publish(self, title: str = "Builders & Buyers") -> None:
        self.server.put("/feed.xml", rss(self.server, title, self.items), "application/rss+xml")


@pytest.fixture
def show(truth):
    """A feed of three episodes: one with a JSON transcript, persons and chapters, one with a VTT
    transcript, one with none (Whisper)."""
    with FeedServer() as server:
        server.put("/audio/acme.mp3", (EXAMPLES / "acme-export.mp3").read_bytes(), "audio/mpeg")
        server.put("/audio/brightside.m4a", (EXAMPLES / "brightside-onboarding.m4a").read_bytes(), "audio/mp4")
        server.put("/audio/northwind.ogg", (EXAMPLES / "northwind-pricing.ogg").read_bytes(), "audio/ogg")
        server.put("/t/acme.json", json_transcript(truth["acme-export.mp3"]["turns"]), "application/json")
        server.put("/t/brightside.vtt", vtt_transcript(truth["brightside-onboarding.m4a"]["turns"]), "text/vtt")
        server.put("/t/northwind.vtt", vtt_transcript(truth["northwind-pricing.ogg"]["turns"]), "text/vtt")
        server.put("/t/acme.chapters.json", json.dumps({"version": "1.2.0", "chapters": [
            {"startTime": 0, "title": "Introductions"}, {"startTime": 14, "title": "Workarounds"},
            {"startTime": 30, "title": "Wishes"}]}), "application/json+chapters")
        items = [
            Item("ep-1", "Exporting for the board", "/audio/acme.mp3", query="?utm_source=feed",
                 transcript=(server.url("/t/acme.json"), "application/json"), chapters=server.url("/t/acme.chapters.json"),
                 persons=(("Dana Whitfield", "host"), ("Priya Shah", "guest"))),
            Item("ep-2", "Onboarding a team", "/audio/brightside.m4a", "audio/x-m4a",
                 transcript=(server.url("/t/brightside.vtt"), "text/vtt"), date="Tue, 24 Feb 2026 06:00:00 GMT"),
            Item("ep-3", "Paying for seats", "/audio/northwind.ogg", "audio/ogg", date="Tue, 17 Feb 2026 06:00:00 GMT"),
        ]
        found = Show(server, items, server.url("/feed.xml"))
        found.publish()
        yield found


def ingest(data_dir: Path, config: Path, *args) -> tuple[int, dict, str]:
    result = run_heard(["ingest", *args, "--format", "json"], data_dir, config)
    return result.exit_code, last_json_line(result.stdout), result.stderr


def search(data_dir: Path, config: Path, query: str, *args) -> list[dict]:
    result = run_heard(["search", query, "--format", "json", *args], data_dir, config)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def audio_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "feeds").rglob("*") if p.suffix in (".mp3", ".m4a", ".ogg") and not p.name.startswith("."))


def test_a_feed_is_indexed_with_the_publishers_transcripts_and_a_rerun_costs_one_304(show, tmp_path, test_config):
    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert code == 0, log
    assert (summary["new"], summary["failed"], summary["episodes_downloaded"]) == (3, 0, 3)
    assert summary["transcribed"] == 1  # only the episode without a transcript went through Whisper
    assert len(audio_files(tmp_path)) == 3

    hits = search(tmp_path, test_config, "exporting to CSV times out", "-k", "1")
    hit = hits[0]
    assert hit["speaker"] == "Priya Shah" and hit["role"] == "guest"
    assert hit["metadata"]["show"] == "Builders & Buyers" and hit["title"] == "Exporting for the board"
    assert hit["metadata"]["kind"] == "podcast" and hit["metadata"]["link"] == show.server.url("/episodes/ep-1")
    assert (hit["metadata"]["season"], hit["metadata"]["episode"]) == (1, 3)
    assert hit["metadata"]["chapter"] == "Introductions"
    assert Path(hit["recording"]).suffix == ".mp3" and Path(hit["recording"]).is_file()  # hits play the audio
    assert 5 <= hit["start"] <= 14  # the publisher's times for that turn
    vtt_hit = search(tmp_path, test_config, "single sign on settings", "-k", "1")[0]
    assert vtt_hit["speaker"] == "Priya Shah" and vtt_hit["title"] == "Onboarding a team"

    check_web_page(tmp_path, test_config, show)

    requests_before = len(show.server.requests)
    code, again, _ = ingest(tmp_path, test_config, show.feed_url)
    assert code == 0
    assert (again["new"], again["unchanged"], again["transcribed"], again["episodes_downloaded"]) == (0, 3, 0, 0)
    assert again["feeds_unchanged"] == 1
    assert [(r.path, r.status) for r in show.server.requests[requests_before:]] == [("/feed.xml", 304)]


def check_web_page(data_dir: Path, config: Path, show: Show) -> None:
    """The search page filters by show; a card names the show and episode and links to the episode's page."""
    import httpx
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    with RunningServer(load_settings(config, data_dir, environ={})) as server:
        page = httpx.get(server.url + "/", params={"q": "exporting to CSV times out", "show": "builders & BUYERS"}).text
        assert 'class="show"' in page and "Builders &amp; Buyers" in page and "Exporting for the board" in page
        assert f'class="episode-page" href="{show.server.url("/episodes/ep-1")}"' in page
        assert 'class="chapter" title="Chapter">Introductions<' in page
        assert 'name="show" value="builders &amp; BUYERS"' in page
        other = httpx.get(server.url + "/api/search", params={"q": "exporting to CSV times out", "show": "Another show"}).json()
        assert other["hits"] == []


def test_subscriptions_and_ingest_feeds(show, tmp_path, test_config, truth):
    added = run_heard(["feeds", "add", show.feed_url, "--name", "B&B"], tmp_path, test_config)
    assert added.exit_code == 0, added.output
    assert "subscribed to B&B" in added.stdout and "3 episodes" in added.stdout
    listed = run_heard(["feeds", "list", "--format", "json"], tmp_path, test_config)
    assert [(r["url"], r["name"], r["fetched"]) for r in json.loads(listed.stdout)] == [(show.feed_url, "B&B", 0)]

    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "call.vtt").write_text(vtt_transcript(truth["brightside-onboarding.m4a"]["turns"]))
    code, summary, log = ingest(tmp_path, test_config, "--feeds", folder)
    assert code == 0, log
    assert summary["new"] == 4 and summary["feeds_checked"] == 1
    assert search(tmp_path, test_config, "seat minimum pricing", "--show", "b&b")[0]["metadata"]["show"] == "B&B"
    local = search(tmp_path, test_config, "single sign on settings", "--recording", folder / "call.vtt")
    assert local and all(h["metadata"].get("show") is None for h in local)

    # A new episode appears: only it is fetched.
    show.items.insert(0, Item("ep-4", "Seats, again", "/audio/northwind.ogg", "audio/ogg",
                              transcript=(show.server.url("/t/northwind.vtt"), "text/vtt")))
    show.publish()
    code, summary, log = ingest(tmp_path, test_config, "--feeds")
    assert (summary["new"], summary["unchanged"], summary["episodes_downloaded"]) == (1, 3, 1), summary["failures"]
    assert "transcription settings" not in log  # publisher transcripts are not stale Whisper ones

    # A new name for the show: every episode re-indexed under it, nothing fetched or transcribed again.
    renamed = run_heard(["feeds", "add", show.feed_url, "--name", "Builders"], tmp_path, test_config)
    assert "already subscribed to Builders" in renamed.stdout
    code, summary, _ = ingest(tmp_path, test_config, "--feeds")
    assert (summary["updated"], summary["transcribed"], summary["episodes_downloaded"]) == (4, 0, 0)
    assert {h["metadata"]["show"] for h in search(tmp_path, test_config, "seat minimum pricing", "--show", "builders")} == {"Builders"}

    removed = run_heard(["feeds", "remove", show.feed_url], tmp_path, test_config)
    assert removed.exit_code == 0 and "stay indexed" in removed.stdout
    assert json.loads(run_heard(["feeds", "list", "--format", "json"], tmp_path, test_config).stdout) == []
    still = search(tmp_path, test_config, "seat minimum pricing", "--show", "Builders", "--per-recording", "1")
    assert {"Paying for seats", "Seats, again"} <= {h["title"] for h in still}


def test_rotating_tracking_parameters_redo_nothing_and_a_new_enclosure_is_transcribed_again(show, tmp_path, test_config):
    assert ingest(tmp_path, test_config, show.feed_url)[0] == 0
    show.items[0].query = "?utm_source=elsewhere&session=42"
    show.publish()
    code, summary, _ = ingest(tmp_path, test_config, show.feed_url)
    assert (code, summary["episodes_downloaded"], summary["updated"], summary["unchanged"]) == (0, 0, 0, 3)

    # Same guid, a new file: downloaded into the same place, transcribed again, old chunks replaced.
    show.items[2].audio = "/audio/northwind-v2.ogg"
    show.server.put("/audio/northwind-v2.ogg", (EXAMPLES / "acme-export.mp3").read_bytes(), "audio/mpeg")
    show.publish()
    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert code == 0, log
    assert (summary["episodes_downloaded"], summary["updated"], summary["transcribed"]) == (1, 1, 1)
    assert len(audio_files(tmp_path)) == 3
    titles = {h["title"] for h in search(tmp_path, test_config, "schedule the export overnight", "-k", "5")}
    assert "Paying for seats" in titles  # the new audio (acme's words) under the old episode


def test_the_server_dying_mid_download_leaves_no_partial_recording_and_the_next_run_completes(show, tmp_path, test_config):
    del show.items[2]  # transcripts only: no Whisper needed to test downloads
    show.publish()
    audio = (EXAMPLES / "brightside-onboarding.m4a").read_bytes()
    show.server.fault("/audio/brightside.m4a", "die", after=len(audio) // 2, times=1)
    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert code == 1
    (failure,) = summary["failures"]
    assert failure["path"] == show.feed_url and failure["episode"] == "Onboarding a team"
    assert "the transfer broke off" in failure["reason"]
    assert f'{show.feed_url}: episode "Onboarding a team": the transfer broke off' in log
    assert summary["new"] == 1 and [p.suffix for p in audio_files(tmp_path)] == [".mp3"]

    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert code == 0, log
    assert (summary["new"], summary["unchanged"], summary["feeds_unchanged"]) == (1, 1, 1)
    resumed = show.server.hits("/audio/brightside.m4a")[-1]
    assert resumed.headers.get("range") == f"bytes={len(audio) // 2}-" and resumed.status == 206
    (m4a,) = [p for p in audio_files(tmp_path) if p.suffix == ".m4a"]
    assert m4a.read_bytes() == audio


def test_an_episode_that_leaves_the_feed_keeps_its_chunks(show, tmp_path, test_config):
    del show.items[2]
    show.publish()
    assert ingest(tmp_path, test_config, show.feed_url)[0] == 0
    del show.items[1]
    show.publish()
    code, summary, _ = ingest(tmp_path, test_config, show.feed_url)
    assert (code, summary["removed"], summary["chunks_removed"]) == (0, 0, 0)
    assert search(tmp_path, test_config, "single sign on settings", "-k", "1")[0]["title"] == "Onboarding a team"


def test_bad_feeds_fail_alone_each_naming_its_feed_and_keep_what_was_indexed(show, tmp_path, test_config, truth):
    """Unreachable host, 404, 500, not XML, a redirect to file://: one line each, exit 1, the good
    feed and folder indexed, and the episodes earlier runs brought in from the bad feeds kept."""
    turns = truth["brightside-onboarding.m4a"]["turns"]
    bad = {"404": "the server answered HTTP 404 Not Found", "500": "the server answered HTTP 500 Internal Server Error",
           "not-xml": "not well-formed XML", "redirect": "heard follows redirects to http(s) only"}
    for name in bad:  # each bad feed starts out good, with an episode of its own
        show.server.put(f"/t/{name}.vtt", vtt_transcript(turns).replace("WEBVTT\n", f"WEBVTT\n\nNOTE {name}\n"), "text/vtt")
        item = Item(f"{name}-1", f"Onboarding ({name})", "/audio/brightside.m4a", "audio/x-m4a",
                    transcript=(show.server.url(f"/t/{name}.vtt"), "text/vtt"))
        show.server.put(f"/{name}.xml", rss(show.server, f"Show {name}", [item]), "application/rss+xml")
    feeds = [show.server.url(f"/{name}.xml") for name in bad]
    show.items = show.items[:1]
    show.publish()
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "call.vtt").write_text(vtt_transcript(truth["northwind-pricing.ogg"]["turns"]))
    code, summary, log = ingest(tmp_path, test_config, *feeds, show.feed_url, folder)
    assert (code, summary["new"]) == (0, 6), log

    show.server.fault("/404.xml", "status", status=404)
    show.server.fault("/500.xml", "status", status=500)
    show.server.put("/not-xml.xml", "<html><body>We moved!<br></body></html>", "text/html")
    show.server.fault("/redirect.xml", "redirect", location="file:///etc/passwd")
    unreachable = "http://127.0.0.1:9/feed.xml"
    code, summary, log = ingest(tmp_path, test_config, unreachable, *feeds, show.feed_url, folder)
    assert code == 1
    reasons = {f["path"]: f["reason"] for f in summary["failures"]}
    assert set(reasons) == {unreachable, *feeds}
    assert "cannot connect" in reasons[unreachable]
    for name, reason in bad.items():
        assert reason in reasons[show.server.url(f"/{name}.xml")]
    for url, reason in reasons.items():
        assert f"{url}: {reason}" in log
    assert (summary["unchanged"], summary["removed"], summary["chunks_removed"]) == (6, 0, 0)
    kept = search(tmp_path, test_config, "single sign on settings", "--per-recording", "1", "-k", "10")
    assert {f"Onboarding ({name})" for name in bad} <= {h["title"] for h in kept}


def test_bad_episodes_fail_alone_naming_the_episode(show, tmp_path, test_config, truth):
    show.server.fault("/audio/brightside.m4a", "status", status=404)
    show.server.put("/audio/northwind.ogg", "<html>gone</html>", "text/html")
    show.server.put("/t/acme.json", '{"segments": [{"startTime": "soon", "body": "hi"}]}', "application/json")
    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert code == 1
    reasons = {f["episode"]: f["reason"] for f in summary["failures"]}
    assert set(reasons) == {"Exporting for the board", "Onboarding a team", "Paying for seats"}
    assert "segment 1: startTime and endTime must be numbers" in reasons["Exporting for the board"]
    assert "HTTP 404" in reasons["Onboarding a team"]
    assert "the enclosure is not audio (the server sent text/html)" in reasons["Paying for seats"]
    assert audio_files(tmp_path) == []

    # A transcript of another length than its audio is not used: Whisper transcribes that episode.
    show.server.faults.clear()  # brightside is back; northwind is still not audio
    long_turns = [{**t, "start": t["start"] + 600, "end": t["end"] + 600} for t in truth["acme-export.mp3"]["turns"]]
    show.server.put("/t/acme.json", json_transcript(long_turns), "application/json")
    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert (code, summary["new"], summary["transcribed"]) == (1, 2, 1)
    assert {f["episode"] for f in summary["failures"]} == {"Paying for seats"}
    assert (f'episode "Exporting for the board": the publisher\'s transcript {show.server.url("/t/acme.json")} '
            "does not fit the audio (the transcript runs to") in log and "Whisper transcribes the episode" in log
    assert search(tmp_path, test_config, "exporting to CSV times out", "-k", "1")[0]["title"] == "Exporting for the board"


def test_nothing_is_written_outside_the_data_dir_whatever_the_feed_says(tmp_path, test_config, truth):
    with FeedServer() as server:
        server.put("/a.mp3", (EXAMPLES / "acme-export.mp3").read_bytes(), "audio/mpeg")
        server.put("/t.json", json_transcript(truth["acme-export.mp3"]["turns"]), "application/json")
        server.put("/feed.xml", rss(server, "../../../escape", [
            Item("../../../../etc/passwd", "../../outside", "/a.mp3", query="?name=../../x.mp3",
                 transcript=(server.url("/x/../../t.json"), "application/json"))]), "application/rss+xml")
        data_dir = tmp_path / "data"
        code, _, log = ingest(data_dir, test_config, server.url("/feed.xml"))
    assert code == 0, log
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(audio_files(data_dir)) == 1 and all(p.is_relative_to(data_dir) for p in written)


def config_with(test_config: Path, folder: Path, extra: str) -> Path:
    """The pinned test settings plus `extra` (YAML sections)."""
    path = folder / "config.yaml"
    path.write_text(test_config.read_text() + extra)
    return path


def test_a_trickling_feed_or_enclosure_fails_alone_at_its_deadline_and_the_run_goes_on(show, tmp_path, test_config):
    """A server that sends one byte every so often never trips read_timeout: the total deadlines end
    that feed or that episode with one line, the other feeds and episodes are indexed, the lock is let go."""
    config = config_with(test_config, tmp_path, "feeds:\n  feed_deadline: 2\n  download_deadline: 2\n  read_timeout: 30\n")
    del show.items[2]  # transcripts only: no Whisper needed
    show.publish()
    trickle = show.server.put("/trickle.xml", rss(show.server, "Slow show", []), "application/rss+xml")
    show.server.fault("/trickle.xml", "trickle", every=0.25, count=40)  # 10 s for the first 40 bytes
    show.server.fault("/audio/brightside.m4a", "trickle", every=0.05, count=100, times=1)  # 5 s
    data_dir = tmp_path / "data"
    started = time.monotonic()
    code, summary, log = ingest(data_dir, config, trickle, show.feed_url)
    assert time.monotonic() - started < 60
    assert code == 1 and summary["new"] == 1, log
    reasons = {(f["path"], f["episode"]): f["reason"] for f in summary["failures"]}
    assert reasons == {
        (trickle, None): "took longer than 2 s in all (feeds.feed_deadline); the server is too slow or keeps the connection open",
        (show.feed_url, "Onboarding a team"): (
            "took longer than 2 s in all (feeds.download_deadline); the next run resumes the download"),
    }
    assert f"{trickle}: took longer than 2 s in all (feeds.feed_deadline)" in log

    # The lock was let go, and the next run fetches the episode (resuming what arrived).
    code, summary, log = ingest(data_dir, config, show.feed_url)
    assert (code, summary["new"], summary["episodes_downloaded"]) == (0, 1, 1), log


@pytest.fixture
def small_disk(tmp_path):
    """A real 100 KB file system (tmpfs) mounted as the data dir's feeds/ folder. Needs mount rights."""
    with small_tmpfs(tmp_path / "data" / "feeds", "100k") as disk:
        yield disk


def test_a_full_disk_while_downloading_stops_with_one_line_and_leaves_only_a_resumable_partial(
        show, tmp_path, test_config, small_disk):
    """The enclosure (169 KB) does not fit: exit 2 and one line naming the file and "free disk space";
    a partial that cannot be resumed (no ETag or Last-Modified) is removed, one that can is kept and
    `heard status` says how big it is; with room again the next run resumes it."""
    import subprocess

    show.items = show.items[:1]  # acme, with its JSON transcript (no Whisper)
    show.publish()
    audio = (EXAMPLES / "acme-export.mp3").read_bytes()
    data_dir = small_disk.parent

    show.server.put("/audio/acme.mp3", audio, "audio/mpeg", validators=False)
    result = run_heard(["ingest", show.feed_url], data_dir, test_config)
    assert result.exit_code == 2, result.output
    (message,) = result.stderr.strip().splitlines()[-1:]
    assert "No space left on device" in message and "free disk space" in message
    assert message.startswith(f"Error: {small_disk}/")  # the file it could not write
    assert [p.name for p in small_disk.rglob("*.part")] == []  # it could not be resumed: removed

    show.server.put("/audio/acme.mp3", audio, "audio/mpeg")  # now with an ETag
    result = run_heard(["ingest", show.feed_url], data_dir, test_config)
    assert result.exit_code == 2 and "free disk space" in result.stderr
    (partial,) = small_disk.rglob("*.part")
    kept = partial.stat().st_size
    assert 0 < kept < len(audio)
    status = json.loads(run_heard(["status", "--format", "json"], data_dir, test_config).stdout)
    assert status["partial_downloads"] == {"files": 1, "bytes": kept}
    text = run_heard(["status"], data_dir, test_config).stdout
    assert f"partial downloads: 1 file, {kept / 1e6:.1f} MB in {data_dir / 'feeds'}" in text

    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True)
    code, summary, log = ingest(data_dir, test_config, show.feed_url)
    assert (code, summary["new"]) == (0, 1), log
    assert show.server.hits("/audio/acme.mp3")[-1].headers.get("range") == f"bytes={kept}-"
    assert list(small_disk.rglob("*.part")) == []
    assert json.loads(run_heard(["status", "--format", "json"], data_dir, test_config).stdout)["partial_downloads"] == {
        "files": 0, "bytes": 0}


def rotating_feed(server: FeedServer, run: int, audio_length: int) -> str:
    """A feed without guids whose CDN puts the same episode under a new path on every fetch."""
    item = (f"<item><title>Exporting for the board</title><pubDate>Tue, 03 Mar 2026 06:00:00 GMT</pubDate>"
            f'<enclosure url="{server.url(f"/rot/{run}/ep.mp3")}" type="audio/mpeg" length="{audio_length}"/>'
            f'<podcast:transcript url="{server.url("/t/acme.json")}" type="application/json"/></item>')
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
            f"<channel><title>Rotating</title>{item}</channel></rss>")


def test_an_episode_without_a_guid_whose_enclosure_path_rotates_is_stored_once(show, tmp_path, test_config, truth):
    """Identity without a guid: title and date (the path is what rotates); the enclosure's length tells
    a new file for the same episode. Three runs: one download, one audio file, one sidecar."""
    audio = (EXAMPLES / "acme-export.mp3").read_bytes()
    downloads = []
    for run in range(3):
        show.server.put(f"/rot/{run}/ep.mp3", audio, "audio/mpeg")
        show.server.put("/rot.xml", rotating_feed(show.server, run, len(audio)), "application/rss+xml")
        code, summary, log = ingest(tmp_path, test_config, show.server.url("/rot.xml"))
        assert code == 0, log
        downloads.append(summary["episodes_downloaded"])
    assert downloads == [1, 0, 0]
    folder = next((tmp_path / "feeds").iterdir())
    assert [p.suffix for p in sorted(folder.iterdir()) if not p.name.startswith(".")] == [".json", ".mp3", ".yaml"]

    # A new file for the same episode (another length): fetched again into the same place.
    replaced = (EXAMPLES / "brightside-onboarding.m4a").read_bytes()
    show.server.put("/rot/3/ep.mp3", replaced, "audio/mpeg")
    show.server.put("/rot.xml", rotating_feed(show.server, 3, len(replaced)), "application/rss+xml")
    show.server.put("/t/acme.json", json_transcript(truth["brightside-onboarding.m4a"]["turns"]), "application/json")
    code, summary, log = ingest(tmp_path, test_config, show.server.url("/rot.xml"))
    assert (code, summary["episodes_downloaded"], summary["updated"]) == (0, 1, 1), log
    (mp3,) = folder.glob("*.mp3")
    assert mp3.read_bytes() == replaced


def test_episodes_an_older_heard_stored_by_enclosure_url_are_not_fetched_again(show, tmp_path, test_config):
    """Before title + date, a guid-less episode was keyed by its enclosure URL: such a state is adopted."""
    import hashlib

    audio = (EXAMPLES / "acme-export.mp3").read_bytes()
    show.server.put("/rot/0/ep.mp3", audio, "audio/mpeg")
    show.server.put("/rot.xml", rotating_feed(show.server, 0, len(audio)), "application/rss+xml")
    feed_url = show.server.url("/rot.xml")
    assert ingest(tmp_path, test_config, feed_url)[0] == 0
    state_file = next((tmp_path / "feeds").iterdir()) / ".feed.json"
    state = json.loads(state_file.read_text())
    (record,) = state["episodes"].values()
    old_key = hashlib.sha256(f"{feed_url}\nenclosure:{show.server.url('/rot/0/ep.mp3')}".encode()).hexdigest()[:12]
    state["episodes"] = {old_key: {**record, "key": old_key}}
    state["etag"] = state["last_modified"] = None
    state_file.write_text(json.dumps(state))

    code, summary, log = ingest(tmp_path, test_config, feed_url)
    assert (code, summary["episodes_downloaded"], summary["unchanged"]) == (0, 0, 1), log
    assert len(list(state_file.parent.glob("*.mp3"))) == 1


def test_publisher_transcripts_too_big_or_not_fitting_go_to_whisper_and_nan_times_fail_naming_the_file(
        show, tmp_path, test_config, truth):
    """Over the 5 MB cap, or 60,000 cues for a 45 s episode: Whisper transcribes it, and a line names the
    transcript. "startTime": "NaN": the episode fails with one line naming the transcript, and no NaN
    reaches transcripts/."""
    nan_turns = json.loads(json_transcript(truth["acme-export.mp3"]["turns"]))
    nan_turns["segments"][3]["startTime"] = "NaN"
    show.server.put("/t/acme.json", json.dumps(nan_turns), "application/json")
    big = vtt_transcript(truth["brightside-onboarding.m4a"]["turns"]) + "\nNOTE " + "padding " * 700_000 + "\n"
    show.server.put("/t/brightside.vtt", big, "text/vtt")
    flood = "WEBVTT\n\n" + "".join(f"00:00:{i % 30:02d}.000 --> 00:00:{i % 30:02d}.500\nw{i}\n\n" for i in range(60_000))
    show.items[2].transcript = (show.server.url("/t/northwind.vtt"), "text/vtt")
    show.server.put("/t/northwind.vtt", flood, "text/vtt")
    show.publish()

    code, summary, log = ingest(tmp_path, test_config, show.feed_url)
    assert (code, summary["new"], summary["transcribed"]) == (1, 2, 2), log
    (failure,) = summary["failures"]
    assert failure["episode"] == "Exporting for the board"
    assert failure["reason"].startswith(f"the publisher's transcript {show.server.url('/t/acme.json')}: ")
    assert failure["reason"].endswith("segment 4: startTime and endTime must be numbers of seconds, not NaN")
    assert (f'episode "Onboarding a team": the publisher\'s transcript {show.server.url("/t/brightside.vtt")} '
            "is over 5 MB; Whisper transcribes the episode") in log
    assert (f'episode "Paying for seats": the publisher\'s transcript {show.server.url("/t/northwind.vtt")} '
            "does not fit the audio (60000 cues for") in log
    for saved in (tmp_path / "transcripts").glob("*.json"):
        assert "NaN" not in saved.read_text()
    assert not [p for p in (tmp_path / "feeds").rglob("*") if p.suffix in (".json", ".vtt") and not p.name.startswith(".")]


def test_a_feed_urls_password_is_kept_only_in_feeds_yaml(show, tmp_path, test_config):
    """http://user:hunter2@host/feed.xml: the password is used (Basic auth on the feed and its
    enclosures) and shown nowhere: not in feeds add/list output, log lines, folder or file names,
    hits' recording paths in any format, the index or any other file of the data dir."""
    del show.items[2]  # transcripts only: no Whisper needed
    show.publish()
    secret_url = show.feed_url.replace("http://", "http://listener:hunter2@")
    shown_url = show.feed_url.replace("http://", "http://***@")
    added = run_heard(["feeds", "add", secret_url, "--name", "Private"], tmp_path, test_config)
    assert added.exit_code == 0 and shown_url in added.stdout, added.output
    code, summary, log = ingest(tmp_path, test_config, "--feeds")
    assert (code, summary["new"]) == (0, 2), log
    assert shown_url in log
    outputs = [added.output, log, json.dumps(summary)]
    for args in (["feeds", "list"], ["feeds", "list", "--format", "json"], ["status"], ["status", "--format", "json"]):
        outputs.append(run_heard(args, tmp_path, test_config).output)
    for output_format in ("table", "json", "md", "csv"):
        result = run_heard(["search", "single sign on", "--format", output_format], tmp_path, test_config)
        assert result.exit_code == 0 and (output_format == "table" or "feeds/" in result.stdout)
        outputs.append(result.output)
    assert all("hunter2" not in text and "listener" not in text for text in outputs)

    feeds_yaml = tmp_path / "feeds.yaml"
    assert "hunter2" in feeds_yaml.read_text() and feeds_yaml.stat().st_mode & 0o777 == 0o600
    for path in tmp_path.rglob("*"):
        assert "hunter2" not in path.name and "listener" not in path.name, path
        if path.is_file() and path != feeds_yaml:
            assert b"hunter2" not in path.read_bytes(), path

    # The credentials were sent: to the feed and to the enclosures on the same server.
    import base64

    basic = "Basic " + base64.b64encode(b"listener:hunter2").decode()
    assert {r.headers.get("authorization") for r in show.server.hits("/feed.xml")} == {basic}
    assert {r.headers.get("authorization") for r in show.server.hits("/audio/acme.mp3")} == {basic}


def test_one_episode_is_one_episode_and_a_title_with_direction_controls_reaches_the_log_escaped(show, tmp_path, test_config):
    show.items = show.items[:1]
    show.items[0].title = "Exporting\u202e draob eht rof"
    show.publish(title="Builders\u202e & Buyers")
    result = run_heard(["ingest", show.feed_url], tmp_path, test_config)
    assert result.exit_code == 0, result.output
    assert "1 feed checked (0 unchanged), 1 episode downloaded" in result.stdout
    assert "\u202e" not in result.output
    assert 'episode "Exporting\\u202e draob eht rof": downloaded with its transcript' in result.stderr
