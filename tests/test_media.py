"""`/media/{id}` hands out only what was indexed: the regular file at a path the catalog holds for that
recording, with the size and modification time it had when indexed, opened without following a
symbolic link (issue 25: `ln -s /etc/passwd <the indexed mp3>` served /etc/passwd as audio/mpeg).

One real recording is ingested once for the module; each test changes its file for real (a symbolic
link, new bytes, a folder swapped for a link) and puts it back.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, last_json_line, run_heard
from web_fixtures import RunningServer

CHANGED = b"changed since indexed: run heard ingest"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, test_config):
    from pipeline.config import load_settings
    from pipeline.sources.discovery import identify

    root = tmp_path_factory.mktemp("media")
    folder = root / "recordings"
    folder.mkdir()
    recording = Path(shutil.copy2(EXAMPLES / "acme-export.mp3", folder / "acme-export.mp3"))
    data_dir = root / "data"
    result = run_heard(["ingest", folder, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0 and last_json_line(result.stdout)["new"] == 1, result.output
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        yield server, recording, identify(recording).id


def request(server, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def set_aside(path: Path):
    """Moves `path` away (a rename keeps its inode and times) and back afterwards."""
    aside = path.with_name(path.name + ".aside")
    os.replace(path, aside)
    try:
        yield aside
    finally:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        os.replace(aside, path)


def test_the_indexed_file_is_served_whole_and_by_range(indexed):
    server, recording, rid = indexed
    expected = recording.read_bytes()
    status, headers, body = request(server, "GET", f"/media/{rid}")
    assert status == 200 and body == expected and headers["content-type"] == "audio/mpeg"
    status, headers, body = request(server, "GET", f"/media/{rid}", {"Range": "bytes=100-199"})
    assert status == 206 and body == expected[100:200]


def test_head_answers_like_get_without_the_body(indexed):
    server, recording, rid = indexed
    status, headers, body = request(server, "HEAD", f"/media/{rid}")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == recording.stat().st_size and headers["content-type"] == "audio/mpeg"
    status, _, body = request(server, "HEAD", "/media/ffffffffffffffff")
    assert status == 404


def test_a_symbolic_link_put_in_place_of_the_file_is_not_followed(indexed, tmp_path):
    server, recording, rid = indexed
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER\n" * 9000)
    with set_aside(recording):
        for target in (secret, Path("/etc/passwd")):
            recording.symlink_to(target)
            status, _, body = request(server, "GET", f"/media/{rid}")
            assert status == 404 and CHANGED in body, body[:200]
            assert b"TOP-SECRET" not in body and b"root:" not in body
            recording.unlink()


def test_a_link_to_a_copy_with_the_same_size_and_time_is_not_followed_either(indexed, tmp_path):
    """Even a perfect copy elsewhere (same bytes, same modification time) is not reached through a link."""
    server, recording, rid = indexed
    elsewhere = Path(shutil.copy2(recording, tmp_path / "copy.mp3"))
    with set_aside(recording):
        recording.symlink_to(elsewhere)
        status, _, body = request(server, "GET", f"/media/{rid}")
        assert status == 404 and CHANGED in body


def test_a_folder_swapped_for_a_link_to_another_folder_is_not_followed(indexed, tmp_path):
    server, recording, rid = indexed
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(recording, other / recording.name)
    with set_aside(recording.parent):
        recording.parent.symlink_to(other, target_is_directory=True)
        status, _, body = request(server, "GET", f"/media/{rid}")
        assert status == 404 and CHANGED in body


def test_a_file_changed_since_it_was_indexed_is_not_served(indexed):
    server, recording, rid = indexed
    with set_aside(recording) as original:
        recording.write_bytes(b"ID3" + b"\0" * original.stat().st_size)  # other bytes, now
        status, _, body = request(server, "GET", f"/media/{rid}")
        assert status == 404 and CHANGED in body
        status, _, page = request(server, "GET", f"/recordings/{rid}")  # the page says so, and plays nothing
        assert status == 200 and b'id="changed"' in page and b'id="player"' not in page
        recording.unlink()
        recording.write_bytes(original.read_bytes())  # the same bytes, a new modification time
        status, _, body = request(server, "GET", f"/media/{rid}")
        assert status == 404 and CHANGED in body
        recording.unlink()
        os.mkfifo(recording)  # not a regular file
        status, _, body = request(server, "GET", f"/media/{rid}")
        assert status == 404 and CHANGED in body
    status, _, _ = request(server, "GET", f"/media/{rid}")
    assert status == 200  # put back as it was indexed


def test_a_file_that_is_gone_is_explained(indexed):
    server, recording, rid = indexed
    with set_aside(recording):
        status, _, body = request(server, "GET", f"/media/{rid}")
    assert status == 404 and b"no longer at" in body and b"heard ingest" in body


def test_a_clip_is_cut_only_from_the_indexed_file(indexed, tmp_path):
    """/clips/QUOTE_ID cuts the same file /media serves: another recording linked in place of the
    indexed one (any audio the server's user can read) is not cut and handed out."""
    server, recording, rid = indexed
    status, _, body = request(server, "GET", "/api/search?q=export&k=1")
    assert status == 200, body[:200]
    quote_id = json.loads(body)["hits"][0]["quote_id"]
    status, headers, clip = request(server, "GET", f"/clips/{quote_id}.wav")
    assert status == 200 and headers["content-type"].startswith("audio/") and len(clip) > 1000
    private = Path(shutil.copy2(EXAMPLES / "brightside-onboarding.m4a", tmp_path / "private.m4a"))
    with set_aside(recording):
        recording.symlink_to(private)
        status, _, body = request(server, "GET", f"/clips/{quote_id}.wav")
        assert status == 404 and CHANGED in body, body[:200]


def test_a_downloaded_report_embeds_clips_only_of_the_indexed_file(indexed, tmp_path):
    """/report.html embeds each quote's clip: cut, like /media, only from the file as indexed; a
    quote whose file changed says so in place of its clip."""
    server, recording, rid = indexed
    status, _, page = request(server, "GET", "/report.html?q=export")
    assert status == 200 and b"data:audio/" in page, page[:300]
    private = Path(shutil.copy2(EXAMPLES / "brightside-onboarding.m4a", tmp_path / "private.m4a"))
    with set_aside(recording):
        recording.symlink_to(private)
        status, _, page = request(server, "GET", "/report.html?q=export")
        assert status == 200 and b"data:audio/" not in page and CHANGED in page, page[:300]


def test_a_quote_is_translated_only_from_the_indexed_file(tmp_path, test_config):
    """?translate=1 has Whisper translate a quote's audio: only the file as indexed, never another
    recording linked in its place (its words would be handed out as the quote's translation)."""
    from pipeline.config import load_settings

    folder = tmp_path / "recordings"
    folder.mkdir()
    recording = Path(shutil.copy2(EXAMPLES / "acme-export.mp3", folder / "acme-export.mp3"))
    (folder / "acme-export.yaml").write_text("title: Acme export\nlanguage: es\n")  # a quote to translate
    data_dir = tmp_path / "data"
    assert run_heard(["ingest", folder], data_dir, test_config).exit_code == 0
    private = Path(shutil.copy2(EXAMPLES / "brightside-onboarding.m4a", tmp_path / "private.m4a"))
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        status, _, body = request(server, "GET", "/api/search?q=export&k=1&translate=1")
        assert status == 200 and json.loads(body)["hits"][0]["translation"], body[:300]
        with set_aside(recording):
            recording.symlink_to(private)
            status, _, body = request(server, "GET", "/api/search?q=overnight&k=1&translate=1")
            assert status == 200 and json.loads(body)["hits"][0].get("translation") is None, body[:300]
