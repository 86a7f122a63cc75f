"""heard serve over HTTP: the JSON API, media by id with Range requests, exports, empty states,
escaping, the access token and paths that must never reach the file system."""

from __future__ import annotations

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
from conftest import REPO, run_heard
from web_fixtures import INJECTED, RunningServer

QUERY = "the download of our records kept failing for big accounts"


def get(server, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A raw GET: http.client sends the path byte for byte, without normalizing `..` or escapes."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def post(server, path: str, body: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(server, path: str):
    status, _, body = get(server, path)
    assert status == 200, body
    return json.loads(body)


def search_url(query: str, **filters) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query, **filters}, doseq=True)


def test_api_search_returns_the_customers_quote_with_a_link_that_plays_it(web_server, web_data, truth):
    found = get_json(web_server, search_url(QUERY, k=3))
    top = found["hits"][0]
    assert top["recording_id"] == web_data.ids["acme-export.mp3"]
    answer = next(t for t in truth["acme-export.mp3"]["turns"] if "times out" in t["text"])
    assert top["start"] < answer["end"] and answer["start"] < top["end"]
    assert {"text", "speaker", "role", "title", "start", "end", "timestamp", "link", "media", "metadata"} <= top.keys()
    assert top["link"] == f"{web_server.url}/recordings/{top['recording_id']}?t={top['start']:.2f}&end={top['end']:.2f}"
    status, _, page = get(web_server, urllib.parse.urlsplit(top["link"]).path + "?" + urllib.parse.urlsplit(top["link"]).query)
    assert status == 200 and b'class="line quote"' in page
    # A mangled time in a pasted link still opens the transcript.
    status, _, page = get(web_server, f"/recordings/{top['recording_id']}?t=abc&end=nan")
    assert status == 200 and b'class="line"' in page and b'class="line quote"' not in page


def test_api_themes_are_the_cli_themes_with_links_that_play_them(web_server, web_data, test_config):
    found = get_json(web_server, "/api/themes")
    cli = json.loads(run_heard(["themes", "--format", "json"], web_data.data_dir, test_config).stdout)
    assert [(t["label"], [q["chunk_id"] for q in t["quotes"]]) for t in found["themes"]] == [
        (t["label"], [q["chunk_id"] for q in t["quotes"]]) for t in cli["themes"]]
    quote = found["themes"][0]["quotes"][0]
    assert quote["media"] == f"{web_server.url}/media/{quote['recording_id']}"
    assert quote["link"].startswith(f"{web_server.url}/recordings/{quote['recording_id']}?t=")
    wide = get_json(web_server, "/api/themes?min-recordings=2")["themes"]
    assert wide == [t for t in found["themes"] if t["recordings"] >= 2]
    brightside = get_json(web_server, "/api/themes?company=Brightside+Health")["themes"]
    assert {q["metadata"]["company"] for t in brightside for q in t["quotes"]} == {"Brightside Health"}
    status, _, body = get(web_server, "/api/themes?min-recordings=many")
    assert status == 400 and json.loads(body)["detail"] == "min-recordings: 'many' is not a whole number; give 1 to 1000000"


def test_api_lists_recordings_and_transcripts_by_segment(web_server, web_data):
    recordings = {r["id"]: r for r in get_json(web_server, "/api/recordings")}
    assert set(recordings) == set(web_data.ids.values())
    northwind = recordings[web_data.ids["northwind-pricing.ogg"]]
    assert northwind["available"] is False and recordings[web_data.ids["acme-export.mp3"]]["available"] is True
    transcript = get_json(web_server, f"/api/recordings/{web_data.ids['brightside-onboarding.m4a']}/transcript")
    assert {s["speaker"] for s in transcript["segments"]} == {"Tom", "Priya"}
    assert any(INJECTED in s["text"] for s in transcript["segments"])
    assert "words" not in transcript["segments"][0]


def test_openapi_documents_the_api(web_server):
    spec = get_json(web_server, "/openapi.json")
    assert {"/api/search", "/api/themes", "/api/recordings", "/api/recordings/{recording_id}/transcript"} <= set(spec["paths"])
    status, _, docs = get(web_server, "/docs")
    assert status == 200 and b"swagger" in docs.lower()


@pytest.mark.parametrize(
    "filters, check",
    [
        ({"company": "Brightside Health"}, lambda h: h["metadata"]["company"] == "Brightside Health"),
        ({"role": "customer"}, lambda h: h["role"] == "customer"),
        ({"speaker": "Tom"}, lambda h: h["speaker"] == "Tom"),
        ({"tag": ["onboarding", "sso"]}, lambda h: {"onboarding", "sso"} <= set(h["tags"])),
        ({"since": "2024-05-01", "until": "2024-05-31"}, lambda h: h["metadata"]["date"] == "2024-05-02"),
    ],
)
def test_filters_narrow_results_as_in_the_cli(web_server, filters, check):
    everything = get_json(web_server, search_url("problems with setup", k=20))["hits"]
    narrowed = get_json(web_server, search_url("problems with setup", k=20, **filters))["hits"]
    assert narrowed and all(check(h) for h in narrowed)
    assert len(narrowed) < len(everything)


def test_a_date_range_that_excludes_everything_finds_nothing(web_server):
    assert get_json(web_server, search_url("problems", until="2023-12-31"))["hits"] == []


def test_bad_filter_values_are_explained(web_server):
    status, _, body = get(web_server, search_url("problems", since="2024-13-01"))
    assert status == 400 and b"YYYY-MM-DD" in body
    status, _, page = get(web_server, "/?q=problems&role=ceo")
    assert status == 200 and b"role: &#39;ceo&#39; is not one of" in page


def test_media_answers_range_requests_with_the_files_bytes(web_server, web_data):
    path = web_data.recordings / "acme-export.mp3"
    expected = path.read_bytes()
    rid = web_data.ids["acme-export.mp3"]
    status, headers, body = get(web_server, f"/media/{rid}")
    assert status == 200 and body == expected and headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"
    status, headers, body = get(web_server, f"/media/{rid}", {"Range": "bytes=1000-1999"})
    assert status == 206 and body == expected[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(expected)}"
    status, _, _ = get(web_server, f"/media/{web_data.ids['brightside-onboarding.m4a']}")
    assert status == 200


def test_a_moved_recording_is_explained_not_broken(web_server, web_data):
    rid = web_data.ids["northwind-pricing.ogg"]
    status, _, body = get(web_server, f"/media/{rid}")
    assert status == 404 and b"no longer at" in body and b"heard ingest" in body
    status, _, page = get(web_server, f"/recordings/{rid}")
    assert status == 200 and b'id="moved"' in page and b"heard ingest" in page
    assert b'class="line' in page  # the transcript is still there to read
    cards = get(web_server, "/?" + urllib.parse.urlencode({"q": "price per seat as the team grows"}))[2].decode()
    assert "The audio file is no longer at" in cards


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text("TOP-SECRET-MARKER")
    return path


def traversal_paths(secret, recording_id):
    absolute = str(secret)
    up = "../" * 12 + absolute.lstrip("/")
    return [
        "/media/" + up,
        "/media/" + urllib.parse.quote(up, safe=""),
        "/media/" + up.replace(".", "%2e").replace("/", "%2f"),
        "/media/" + absolute,
        "/media/" + urllib.parse.quote(absolute, safe=""),
        "/media/" + urllib.parse.quote(urllib.parse.quote(absolute, safe=""), safe=""),
        f"/media/{recording_id}/" + up,
        f"/media/{recording_id}%2f" + urllib.parse.quote(up, safe=""),
        "/media/..%5c..%5c..%5c" + absolute.lstrip("/").replace("/", "%5c"),
        "/media/" + absolute + "%00",
        "/static/" + up,
        "/static/" + urllib.parse.quote(up, safe=""),
        "/static/%2e%2e/%2e%2e/%2e%2e/cli.py",
        "/static/../../../cli.py",
        "/recordings/" + urllib.parse.quote(up, safe=""),
        f"/api/recordings/{urllib.parse.quote(up, safe='')}/transcript",
        "/api/recordings/" + urllib.parse.quote("../../config", safe="") + "/transcript",
    ]


def test_no_request_path_reaches_the_file_system(web_server, web_data, secret):
    rid = web_data.ids["acme-export.mp3"]
    for path in traversal_paths(secret, rid):
        status, _, body = get(web_server, path)
        assert status in (400, 404, 422), (path, status)
        assert b"TOP-SECRET-MARKER" not in body and b"heard's command line" not in body, path


def test_transcript_text_is_escaped_everywhere(web_server, web_data):
    rid = web_data.ids["brightside-onboarding.m4a"]
    escaped = b"&lt;script&gt;window.pwned = 1&lt;/script&gt;"
    status, _, page = get(web_server, f"/recordings/{rid}")
    assert status == 200 and escaped in page and b"<script>window.pwned" not in page
    query = urllib.parse.urlencode({"q": "single sign on was our problem", "company": "Brightside Health"})
    results = get(web_server, "/?" + query)[2]
    assert escaped in results and b"<script>window.pwned" not in results and b"<img src=x" not in results
    markdown = get(web_server, "/export.md?" + query)[2].decode()
    assert "\\<script\\>" in markdown and "<script>" not in markdown
    themes = get(web_server, "/themes?company=Brightside+Health")[2]
    assert escaped in themes and b"<script>window.pwned" not in themes and b"<img src=x" not in themes
    # The query itself is echoed back on the page: escaped too.
    page = get(web_server, "/?" + urllib.parse.urlencode({"q": "<script>window.pwned = 3</script>"}))[2]
    assert b"<script>window.pwned = 3" not in page and b"&lt;script&gt;window.pwned = 3" in page


def test_exports_carry_quote_speaker_recording_timestamp_and_link(web_server):
    params = urllib.parse.urlencode({"q": "single sign on", "company": "Brightside Health", "k": 3})
    hits = get_json(web_server, f"/api/search?{params}")["hits"]
    status, headers, body = get(web_server, f"/export.csv?{params}")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"] and ".csv" in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["text"] for r in rows] == [h["text"] for h in hits]
    assert [r["quote_id"] for r in rows] == [h["quote_id"] for h in hits]
    assert [r["speaker"] for r in rows] == [h["speaker"] for h in hits]
    assert [r["url"] for r in rows] == [h["link"] for h in hits]
    assert {r["title"] for r in rows} == {"Onboarding a new team"} and rows[0]["timestamp"] == hits[0]["timestamp"]
    # One CSV schema: the command line's columns, with the link that plays each quote filled in.
    from pipeline.finding.formats.csv_format import CSV_FIELDS

    assert tuple(rows[0]) == CSV_FIELDS
    markdown = get(web_server, f"/export.md?{params}")[2].decode()
    for hit in hits:
        assert f"[{hit['timestamp']}]({hit['link']})" in markdown and hit["speaker"] in markdown


def test_no_results_suggest_broader_words(web_server):
    page = get(web_server, "/?" + urllib.parse.urlencode({"q": "pricing", "company": "No Such Company"}))[2]
    assert b'id="no-results"' in page and b"broader" in page and b"search without filters" in page


@pytest.mark.fast
def test_an_empty_data_dir_says_how_to_ingest(tmp_path, test_config):
    from pipeline.config import load_settings

    with RunningServer(load_settings(test_config, tmp_path / "empty", environ={})) as server:
        for path in ("/", "/?q=anything", "/recordings", "/themes"):
            status, _, page = get(server, path)
            assert status == 200 and b'id="no-index"' in page and b"ingest FOLDER" in page, path
        status, _, body = get(server, "/api/search?q=anything")
        assert status == 409 and b"heard ingest" in body
        assert get(server, "/api/themes")[0] == 409
        assert get(server, "/api/recordings")[2] == b"[]"
    assert not (tmp_path / "empty" / "index").exists()


def test_with_a_token_every_request_needs_it(web_data, test_config):
    from pipeline.config import load_settings

    rid = web_data.ids["acme-export.mp3"]
    with RunningServer(load_settings(test_config, web_data.data_dir, environ={}), token="s3cret-t0ken") as server:
        for path in ("/", "/?q=export", "/recordings", f"/recordings/{rid}", f"/media/{rid}", "/api/recordings",
                     "/api/search?q=export", "/export.csv?q=export", "/themes", "/api/themes", "/docs", "/openapi.json", "/static/app.js",
                     "/?token=wrong", f"/media/{rid}?token=s3cret"):
            status, _, body = get(server, path)
            assert status == 401 and b"token" in body, path
            assert get(server, path, {"Authorization": "Bearer wrong"})[0] == 401, path
        assert get(server, "/api/recordings", {"Authorization": "Bearer s3cret-t0ken"})[0] == 200
        form = "label=S2&name=Mallory"
        assert post(server, f"/recordings/{rid}/speakers", form, {"Origin": server.url})[0] == 401
        # A browser brings it once in the address; a cookie carries it from then on, and the
        # address it is sent back to no longer holds it.
        status, headers, _ = get(server, "/?q=export&token=s3cret-t0ken")
        assert status == 303 and headers["location"] == "/?q=export"
        cookie = headers["set-cookie"].split(";")[0]
        assert "httponly" in headers["set-cookie"].lower()
        assert get(server, f"/media/{rid}", {"Cookie": cookie, "Range": "bytes=0-9"})[0] == 206


def test_a_rename_is_taken_only_from_a_page_of_this_server(web_server, web_data):
    """Cross-site request forgery: another site's page cannot rename speakers through a browser."""
    rid = web_data.ids["acme-export.mp3"]
    path, form = f"/recordings/{rid}/speakers", "label=S2&name=Mallory&role=interviewer"
    assert post(web_server, path, form)[0] == 403  # neither Origin nor Referer
    assert post(web_server, path, form, {"Origin": "http://evil.example"})[0] == 403
    assert post(web_server, path, form, {"Origin": "null"})[0] == 403
    assert post(web_server, path, form, {"Referer": "http://evil.example/recordings"})[0] == 403
    assert get(web_server, path)[0] == 405
    own = {"Origin": web_server.url}
    assert post(web_server, path, "label=S9&name=Mallory", own)[0] == 400  # no such speaker
    assert post(web_server, path, "label=S2&role=admin", own)[0] == 400
    assert b"Mallory" not in get(web_server, f"/recordings/{rid}")[2]


@pytest.mark.fast
def test_serve_refuses_to_listen_beyond_this_machine_without_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("HEARD_TOKEN", raising=False)
    result = run_heard(["serve", "--host", "0.0.0.0"], tmp_path)
    assert result.exit_code == 2 and "--token" in result.stderr and "HEARD_TOKEN" in result.stderr


def test_serve_says_when_the_port_is_taken(tmp_path, web_server):
    result = run_heard(["serve", "--port", str(web_server.port)], tmp_path)
    assert result.exit_code == 2 and str(web_server.port) in result.stderr and "--port" in result.stderr


def test_heard_serve_command_serves_the_index(web_data, test_config):
    env = {**os.environ, "HEARD_TOKEN": "from-the-environment", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "cli", "--config", str(test_config), "--data-dir", str(web_data.data_dir),
               "serve", "--port", "0"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert "http://127.0.0.1:" in line, line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])

        class Server:
            pass

        server = Server()
        server.port = port
        assert get(server, "/api/recordings")[0] == 401
        status, _, body = get(server, "/api/recordings", {"Authorization": "Bearer from-the-environment"})
        assert status == 200 and len(json.loads(body)) == 3
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        process.stderr.close()


def test_quotes_ingested_while_the_server_runs_are_found_without_a_restart(web_data, test_config, tmp_path):
    import shutil

    from pipeline.config import load_settings

    data_dir = tmp_path / "data"
    shutil.copytree(web_data.data_dir, data_dir)
    query = urllib.parse.urlencode({"q": "walk me through how you export data", "k": 50})
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        before = get_json(server, f"/api/search?{query}")["hits"]
        # A new recording arrives: the first seconds of the Acme call, as a file of its own (a whole
        # file: a cut-off copy of the mp3 would fail as truncated).
        from nightly_helpers import RATE, write_wav

        from pipeline.hearing.audio import decode_audio

        new = write_wav(tmp_path / "new" / "acme-opening.wav", decode_audio(web_data.recordings / "acme-export.mp3")[: RATE * 10])
        # In another process, as a nightly job would: it shares no Chroma client with the server.
        result = subprocess.run(
            [sys.executable, "-m", "cli", "--config", str(test_config), "--data-dir", str(data_dir), "ingest", str(new),
             "--format", "json"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        )
        assert result.returncode == 0 and json.loads(result.stdout.splitlines()[-1])["new"] == 1, result.stderr
        after = get_json(server, f"/api/search?{query}")["hits"]
        assert "Acme opening" in {h["title"] for h in after} and "Acme opening" not in {h["title"] for h in before}
        assert "Acme opening" in {r["title"] for r in get_json(server, "/api/recordings")}
