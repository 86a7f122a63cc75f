"""Names people give: one rule for every name a user sets (a voice's through `heard speakers name` and
the page's rename form, a speaker's in a sidecar), and every name printed as one line of text.

A name is at most 200 characters of one line of text: no control characters (escape sequences, line
breaks, bells), no direction overrides, not only spaces. What breaks the rule is refused with one
line; nothing is saved. What an older heard saved is still shown as text (escaped), never as a
command to the terminal (issue 25).

No model loads here: the data dir holds one saved transcript of two speakers with their voice
vectors (what ingest writes after diarization) and no index, so naming a voice re-indexes nothing.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import run_heard
from web_fixtures import RunningServer

pytestmark = pytest.mark.fast

RECORDING_ID = "0123456789abcdef"
# The probe of issue 25: sets the terminal's title, clears the screen, forges a listing line.
HOSTILE = "Dana\x1b]0;pwned\x07\x1b[2J\nV9 Fake 99 recordings"


def interview_data_dir(root: Path, source: Path | None = None) -> Path:
    """A data dir with one transcript of two speakers, each with a voice vector, as ingest saves it."""
    from pipeline import transcripts
    from pipeline.transcripts import Segment, Transcript

    data_dir = root / "data"
    source = source or root / "call.mp3"
    rng = np.random.default_rng(7)
    voices = {label: {"embedding": list(map(float, rng.normal(size=192))), "seconds": 30.0} for label in ("S1", "S2")}
    lines = [("S1", "How do you export your data today?"), ("S2", "We export it by hand every quarter."),
             ("S1", "What goes wrong?"), ("S2", "The download times out for big accounts.")]
    segments = [Segment(15.0 * i, 15.0 * i + 15, text, speaker) for i, (speaker, text) in enumerate(lines)]
    transcript = Transcript(RECORDING_ID, "0" * 64, str(source), "Call", 60.0, "en", {"backend": "import"}, segments,
                            diarization={"method": "test", "voices": voices})
    transcripts.save(transcript, data_dir / "transcripts")
    return data_dir


def listing(data_dir: Path) -> dict[str, dict]:
    result = run_heard(["speakers", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    return {v["id"]: v for v in json.loads(result.stdout)}


def saved_names(data_dir: Path) -> dict[str, str | None]:
    with sqlite3.connect(data_dir / "voices.sqlite3") as db:
        return dict(db.execute("SELECT id, name FROM voices"))


def voice_of_label(data_dir: Path, label: str) -> str:
    """The voice of the interview's speaker `label`."""
    return next(v for v, found in listing(data_dir).items() if {h["label"] for h in found["heard"]} == {label})


@pytest.fixture
def data_dir(tmp_path) -> Path:
    found = interview_data_dir(tmp_path)
    assert len(listing(found)) == 2
    return found


@pytest.fixture(scope="module")
def untouched(tmp_path_factory) -> Path:
    """One data dir for the tests of names that are refused: each checks that nothing changed."""
    found = interview_data_dir(tmp_path_factory.mktemp("refused"))
    assert len(listing(found)) == 2
    return found


@pytest.fixture(scope="module")
def served_untouched(untouched):
    from pipeline.config import load_settings

    with RunningServer(load_settings(None, untouched, environ={})) as server:
        yield server


def first_voice(data_dir: Path) -> str:
    return sorted(listing(data_dir))[0]


# ---- heard speakers name ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, says", [
    (HOSTILE, "control character"),
    ("Dana\u202eevil", "control character"),  # turns the rest of the line around
    ("Dana\tWhitfield", "control character"),
    ("x" * 201, "201 characters; give at most 200"),
    ("   ", "give a name"),
    ("", "give a name"),
])
def test_a_name_that_breaks_the_rule_is_refused_with_one_line_and_nothing_saved(untouched, name, says):
    data_dir = untouched
    voice = first_voice(data_dir)
    before = saved_names(data_dir)
    result = run_heard(["speakers", "name", voice, name], data_dir)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert says in message and "\n" not in message and "\x1b" not in message and "\x07" not in message
    assert result.stdout == ""
    assert saved_names(data_dir) == before


def test_a_long_name_of_any_script_is_taken_whole(data_dir):
    voice = first_voice(data_dir)
    name = "Zoë Ó Briain-Łukasiewicz 李小龍 محمد" + "a" * 167  # 200 characters
    assert len(name) == 200
    result = run_heard(["speakers", "name", voice, f"  {name}  "], data_dir)
    assert result.exit_code == 0, result.output
    assert listing(data_dir)[voice]["name"] == name


def test_a_name_saved_by_an_older_heard_is_printed_as_text(data_dir):
    """voices.sqlite3 written before the rule: `heard speakers` prints the name escaped, on its line."""
    voice = first_voice(data_dir)
    with sqlite3.connect(data_dir / "voices.sqlite3") as db:
        db.execute("UPDATE voices SET name = ? WHERE id = ?", (HOSTILE, voice))
    result = run_heard(["speakers"], data_dir)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and not any(line.startswith("V9") for line in lines)
    assert "Dana\\x1b]0;pwned\\x07\\x1b[2J\\nV9 Fake 99 recordings" in result.stdout


def test_the_lock_names_what_holds_it(data_dir):
    """While `heard speakers name` re-indexes, an ingest says that is what it waits for."""
    from pipeline.jobs.lock import data_dir_lock

    (data_dir.parent / "call.mp3").write_bytes(b"")
    with data_dir_lock(data_dir, "speakers"):
        for command in (["ingest", data_dir.parent / "call.mp3"], ["reindex"]):
            result = run_heard(command, data_dir)
            assert result.exit_code == 3, result.output
            assert "heard speakers" in result.stderr and "ingest or reindex" not in result.stderr


# ---- the page's rename form ---------------------------------------------------------------------------


def _post(server, path: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                       "Origin": server.url, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def served(data_dir):
    from pipeline.config import load_settings

    with RunningServer(load_settings(None, data_dir, environ={})) as server:
        yield server


@pytest.mark.parametrize("name", [HOSTILE, "x" * 201, "   ", "Dana\u2028V9"])
def test_the_rename_form_refuses_what_the_command_line_refuses(served_untouched, untouched, name):
    served, data_dir = served_untouched, untouched
    from urllib.parse import urlencode

    before = saved_names(data_dir)
    status, body = _post(served, f"/recordings/{RECORDING_ID}/speakers", urlencode({"label": "S1", "name": name}).encode())
    assert status == 400, body
    assert b"\x1b" not in body
    assert saved_names(data_dir) == before


def test_the_rename_form_takes_a_good_name(served, data_dir):
    status, _ = _post(served, f"/recordings/{RECORDING_ID}/speakers", b"label=S2&name=Sam+Lee&role=customer")
    assert status == 303
    assert "Sam Lee" in saved_names(data_dir).values()


def _post_raw(server, path: str, headers: dict, chunks: list[bytes]) -> int:
    """A POST of `chunks` as they are (a chunked body when asked), then the status it got."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("POST", path)
        for key, value in {"Origin": server.url, "Content-Type": "application/x-www-form-urlencoded", **headers}.items():
            conn.putheader(key, value)
        conn.endheaders()
        for chunk in chunks:
            conn.send(chunk)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("path", [f"/recordings/{RECORDING_ID}/speakers", "/api/search", "/api/ask", "/ask", "/nowhere"])
def test_every_post_body_is_capped(served_untouched, untouched, path):
    """A 5 MB form grew the index by 180 MB (issue 25): the server refuses a body past 64 KB, whatever
    the route: from its declared length before reading a byte of it, and a chunked one (no length)
    once what arrived passes the limit."""
    served, data_dir = served_untouched, untouched
    before = saved_names(data_dir)
    assert _post_raw(served, path, {"Content-Length": str(5 << 20)}, []) == 413  # not a byte sent
    piece = b"x" * 40_000
    chunked = [f"{len(piece):x}\r\n".encode() + piece + b"\r\n"] * 2 + [b"0\r\n\r\n"]
    assert _post_raw(served, path, {"Transfer-Encoding": "chunked"}, chunked) == 413
    assert saved_names(data_dir) == before
    small = b"label=S9&name=Sam"  # a small body is read (no such speaker: nothing is saved)
    assert _post_raw(served, path, {"Content-Length": str(len(small))}, [small]) != 413


# ---- names in metadata --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, says", [
    ("Dana\x1b]0;pwned\x07", "control character"),
    ("x" * 201, "give at most 200"),
    ("   ", "give a name"),
])
def test_a_sidecar_speaker_name_follows_the_same_rule(tmp_path, name, says):
    from pipeline.errors import RecordingError
    from pipeline.sources.metadata import for_recording

    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"")
    sidecar = tmp_path / "call.yaml"
    sidecar.write_text(yaml.safe_dump({"speakers": [{"name": name, "role": "customer"}]}))
    with pytest.raises(RecordingError) as refused:
        for_recording(recording)
    assert str(sidecar) in str(refused.value) and says in str(refused.value)
    sidecar.write_text(yaml.safe_dump({"speakers": {"S2": {"name": "Sam Lee", "role": "customer"}}}))
    assert for_recording(recording)["speakers"] == [{"label": "S2", "name": "Sam Lee", "role": "customer"}]


def test_every_line_heard_prints_shows_direction_controls_and_escapes_as_text():
    """U+202E in a feed title or a name reached log lines (issue 25): safe(), the one path for
    what heard prints of other people's text, shows it escaped."""
    from pipeline.messages import safe

    assert safe("Show\u202eevil\x1b[2J\nV9\u2066x\u200f") == "Show\\u202eevil\\x1b[2J\\nV9\\u2066x\\u200f"
