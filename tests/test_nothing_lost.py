"""Nothing indexed is lost by a rebuild or a mistyped command (issue 25): `heard reindex` keeps a
recording whose sidecar broke, `heard speakers merge` refuses two people of one conversation, a
recording's path follows the copies of its file that exist, a name is saved only when the whole
command succeeds, a full disk is one line (exit 2, "free disk space") from ingest and reindex alike,
and a reindex of an empty data dir leaves nothing a search calls damaged.
"""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, last_json_line, small_tmpfs
from voice_helpers import hits, voice_of, voices
from web_fixtures import RunningServer

QUOTE = "the download of our records kept failing for big accounts"  # acme-export.mp3's customer


@pytest.fixture
def data(indexed_examples, tmp_path):
    """A copy of the data dir with the three examples ingested."""
    source, _ = indexed_examples
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    return copy


def chunk_texts(data_dir: Path, test_config, recording_id: str) -> list[str]:
    from pipeline.config import load_settings
    from pipeline.indexing.store import open_store

    store = open_store(load_settings(test_config, data_dir, environ={}), create=False)
    try:
        return sorted(c.text for c in store.all_chunks() if c.recording_id == recording_id)
    finally:
        store.close()


# ---- reindex ------------------------------------------------------------------------------------------


def test_reindex_keeps_a_recording_whose_sidecar_became_unreadable(tmp_path, heard, example_copy, test_config):
    """Its chunks as they were are carried into the new index (their vectors made again by the
    configured model), it is reported as failed, and status still counts what search finds."""
    from pipeline.sources.discovery import identify

    for name in ("acme-export.mp3", "acme-export.yaml", "northwind-pricing.ogg", "northwind-pricing.yaml"):
        example_copy(name)
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    assert heard(["ingest", folder], data_dir).exit_code == 0
    acme = identify(folder / "acme-export.mp3").id
    before = chunk_texts(data_dir, test_config, acme)
    sidecar = folder / "acme-export.yaml"
    sidecar.write_text("title: [unclosed\n")

    result = heard(["reindex", "--format", "json"], data_dir)

    summary = last_json_line(result.stdout)
    assert result.exit_code == 1, result.output
    assert (summary["recordings"], summary["failed"], summary["kept"]) == (1, 1, 1), summary
    assert str(sidecar) in summary["failures"][0]["reason"] and "kept its" in summary["failures"][0]["reason"]
    assert chunk_texts(data_dir, test_config, acme) == before
    assert any(h["recording_id"] == acme for h in hits(heard, data_dir, QUOTE))
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert status["recordings"]["indexed"] == 2 and status["index"]["error"] is None

    # A damaged index is what a reindex is for: it is rebuilt even when nothing can be carried.
    (data_dir / "index" / "chroma.sqlite3").write_bytes(b"not a database" * 1000)
    result = heard(["reindex", "--format", "json"], data_dir)
    summary = last_json_line(result.stdout)
    assert result.exit_code == 1 and (summary["recordings"], summary["kept"]) == (1, 0), result.output
    assert "could not be read from the old index" in summary["failures"][0]["reason"]
    assert hits(heard, data_dir, "what do you pay per seat")


def test_reindex_of_an_empty_data_dir_leaves_nothing_damaged(tmp_path, heard):
    data_dir = tmp_path / "empty"
    for _ in range(2):
        result = heard(["reindex"], data_dir)
        assert result.exit_code == 0 and "0 recordings" in result.stdout, result.output
        searched = heard(["search", "exports"], data_dir)
        assert "damaged" not in searched.output and searched.exit_code in (0, 2), searched.output
        status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
        assert status["index"]["error"] is None


# ---- speakers ---------------------------------------------------------------------------------------


def test_merge_refuses_two_voices_heard_in_one_recording(data, heard):
    listing = voices(heard, data)
    interviewer, customer = voice_of(listing, "S1"), voice_of(listing, "S2")
    result = heard(["speakers", "merge", interviewer, customer], data)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "\n" not in message and "both speak in" in message
    assert "acme-export.mp3" in message or "Exporting data" in message
    assert voices(heard, data) == listing  # nothing changed


def test_a_name_is_saved_only_when_the_whole_command_succeeds(data, heard, tmp_path):
    """A configuration whose vectors differ from the index's (another question mode) cannot re-index:
    the command fails and the name is not kept."""
    from conftest import run_heard

    other = tmp_path / "other.yaml"
    other.write_text("transcribe:\n  model: tiny.en\nembedding:\n  model: all-MiniLM-L6-v2\n  question: vector\n")
    interviewer = voice_of(voices(heard, data), "S1")
    result = run_heard(["speakers", "name", interviewer, "Dana"], data, other)
    assert result.exit_code == 2 and "reindex" in result.stderr, result.output
    assert voices(heard, data)[interviewer]["name"] is None
    assert "Dana" not in {h["speaker"] for h in hits(heard, data, "how did it go")}


# ---- two files with the same audio ---------------------------------------------------------------------


def test_a_recordings_path_follows_the_copies_that_exist(tmp_path, heard, test_config):
    """A/x.mp3 and B/y.mp3 hold the same audio; y.mp3 is deleted: hits, /media and status follow x.mp3."""
    from pipeline.config import load_settings
    from pipeline.sources.discovery import identify

    folder = tmp_path / "recordings"
    first, second = folder / "A" / "x.mp3", folder / "B" / "y.mp3"
    for copy in (first, second):
        copy.parent.mkdir(parents=True)
        shutil.copy2(EXAMPLES / "acme-export.mp3", copy)
    (folder / "B" / "notes.txt").write_text("Interviewer: How was it?\nCustomer: Fine, thanks.\n")  # B is not empty
    data_dir = tmp_path / "data"
    assert heard(["ingest", folder], data_dir).exit_code == 0
    second.unlink()

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 0, result.output
    rid = identify(first).id
    found = [h for h in hits(heard, data_dir, QUOTE) if h["recording_id"] == rid]
    assert found and {h["recording"] for h in found} == {str(first)}
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert status["recordings"]["indexed"] == 2 and sum(status["recordings"].values()) == 2  # x.mp3 and notes.txt
    assert heard(["reindex"], data_dir).exit_code == 0  # a rebuild from the transcripts keeps following it
    assert {h["recording"] for h in hits(heard, data_dir, QUOTE) if h["recording_id"] == rid} == {str(first)}
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", f"/media/{rid}")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == first.read_bytes()
        conn.close()


# ---- a full disk ----------------------------------------------------------------------------------------


def _fill(disk: Path, leave: int) -> None:
    """Fill `disk` until about `leave` bytes are free."""
    with open(disk / "filler", "wb") as handle:
        try:
            while (free := shutil.disk_usage(disk).free) > leave:
                handle.write(b"\0" * min(1 << 20, max(free - leave, 4096)))
                handle.flush()
        except OSError:
            pass  # full


@pytest.fixture
def small_disk(tmp_path):
    with small_tmpfs(tmp_path / "small-disk", "48m") as disk:
        yield disk


def _one_storage_line(result) -> None:
    """A run stopped by the disk: exit 2 and one line that says to free disk space (no traceback, and
    never "damaged, run heard reindex": the index is whole, the disk is full)."""
    assert result.exit_code == 2, result.output
    message = result.stderr.strip().splitlines()[-1]
    assert "free disk space" in message, result.output
    assert "Traceback" not in result.output and "damaged" not in result.output and "InternalError" not in result.output


def test_reindex_and_ingest_on_a_nearly_full_disk_say_free_disk_space(indexed_examples, small_disk, heard, tmp_path):
    """Each run is tried with more room each time, from none to enough: wherever the disk fills (the
    catalog, the voices, Chroma's files or its compaction, the keyword index), the run says so, and
    what was indexed is still searched."""
    source, _ = indexed_examples
    data_dir = small_disk / "data"
    shutil.copytree(source, data_dir)
    recordings = tmp_path / "recordings"
    shutil.copytree(EXAMPLES, recordings)
    (recordings / "acme-export.yaml").write_text("title: Exporting data\ncompany: Acme Logistics\nsegment: enterprise\n")
    before = sorted(h["chunk_id"] for h in hits(heard, data_dir, QUOTE))
    for command in (["reindex"], ["ingest", recordings]):  # the ingest re-indexes acme (new metadata), no transcribing
        for leave in range(0, 4 << 20, 96 << 10):
            _fill(small_disk, leave)
            result = heard(command, data_dir)
            (small_disk / "filler").unlink()
            if result.exit_code == 0:
                break
            _one_storage_line(result)
            assert sorted(h["chunk_id"] for h in hits(heard, data_dir, QUOTE)) == before  # nothing was lost
        else:
            pytest.fail(f"{command} never fit in 4 MB")
    assert heard(["reindex"], data_dir).exit_code == 0
    assert sorted(h["chunk_id"] for h in hits(heard, data_dir, QUOTE)) == before
