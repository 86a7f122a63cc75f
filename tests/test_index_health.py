"""The keyword index beside the Chroma store: damage is reported like the store's, checked by content,
and never rebuilt by a search (issue 13)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from conftest import last_json_line

TRANSCRIPTS = {
    "export.txt": "Dana: How do you export data?\nSam: The quarterly export to CSV times out on our large workspace.\n",
    "pricing.txt": "Dana: What do you think of the price?\nSam: Paying per seat gets expensive as the team grows.\n",
}


def indexed(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    folder.mkdir()
    for name, text in TRANSCRIPTS.items():
        (folder / name).write_text(text)
    result = heard(["ingest", folder, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    return folder, data_dir


def says_damaged_run_reindex(result) -> bool:
    lines = result.stderr.strip().splitlines()
    return (result.exit_code == 2 and len(lines) == 1 and "damaged" in lines[0] and "heard reindex" in lines[0]
            and "keywords.sqlite3" in lines[0])


def status(heard, data_dir) -> dict:
    result = heard(["status", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_damaged_keyword_index_is_reported_by_search_ingest_and_status(tmp_path, heard):
    folder, data_dir = indexed(tmp_path, heard)
    (data_dir / "index" / "keywords.sqlite3").write_bytes(b"this is not a database" * 100)

    assert says_damaged_run_reindex(heard(["search", "export"], data_dir))
    (folder / "onboarding.txt").write_text("Dana: How was onboarding?\nSam: Single sign on took two weeks.\n")
    assert says_damaged_run_reindex(heard(["ingest", folder], data_dir))
    found = status(heard, data_dir)
    assert "keywords.sqlite3" in found["index"]["error"] and "heard reindex" in found["index"]["error"]
    assert "index ERROR" in heard(["status"], data_dir).stdout

    assert heard(["reindex"], data_dir).exit_code == 0
    assert status(heard, data_dir)["index"]["error"] is None
    hits = json.loads(heard(["search", "export times out", "--format", "json"], data_dir).stdout)
    assert hits[0]["recording"] == str(folder / "export.txt")


def test_a_keyword_index_from_another_state_is_caught_by_content_not_count(tmp_path, heard):
    """An older copy of keywords.sqlite3 (a restored backup) with as many rows as the collection."""
    folder, data_dir = indexed(tmp_path, heard)
    keywords = data_dir / "index" / "keywords.sqlite3"
    older = tmp_path / "keywords-before.sqlite3"
    shutil.copy(keywords, older)
    (folder / "pricing.txt").write_text("Dana: What do you think of the price?\nSam: Our auditors want a yearly invoice.\n")
    result = heard(["ingest", folder, "--format", "json"], data_dir)
    assert last_json_line(result.stdout)["updated"] == 1
    shutil.copy(older, keywords)
    db = sqlite3.connect(keywords)
    rows = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    db.close()
    assert rows == status(heard, data_dir)["chunks"]  # the same count: only the content tells

    assert says_damaged_run_reindex(heard(["search", "yearly invoice for auditors"], data_dir))
    assert "keywords.sqlite3" in (status(heard, data_dir)["index"]["error"] or "")


def test_search_never_writes_the_keyword_index(tmp_path, heard):
    """A read-only server cannot rebuild it: search reports, ingest or reindex repairs."""
    folder, data_dir = indexed(tmp_path, heard)
    keywords = data_dir / "index" / "keywords.sqlite3"
    db = sqlite3.connect(keywords)
    with db:
        db.execute("DELETE FROM chunks WHERE rowid = (SELECT min(rowid) FROM chunks)")
    db.close()
    damaged = keywords.read_bytes()

    assert says_damaged_run_reindex(heard(["search", "export"], data_dir))
    assert keywords.read_bytes() == damaged

    assert heard(["reindex"], data_dir).exit_code == 0
    hits = json.loads(heard(["search", "export times out", "--format", "json"], data_dir).stdout)
    assert hits[0]["recording"] == str(folder / "export.txt")


@pytest.mark.fast
def test_a_long_lived_reader_sees_every_write_to_the_keyword_index(tmp_path):
    """The reader's count is kept between searches (it costs a scan); a write by another
    connection, or by the reader's own, must never leave it stale."""
    from types import SimpleNamespace

    from pipeline.indexing.keyword_index import KeywordIndex

    def chunk(n):
        return SimpleNamespace(id=f"r:{n}", recording_id="r", text=f"the export failed on attempt {n}")

    writer = KeywordIndex(tmp_path)
    writer.replace_recording("r", [chunk(0)], generation="g1")
    reader = KeywordIndex(tmp_path, writable=False)
    assert reader.count() == 1 and reader.count() == 1
    writer.replace_recording("r", [chunk(0), chunk(1), chunk(2)], generation="g2")
    assert reader.count() == 3
    writer.remove_recording("r", generation="g3")
    assert reader.count() == 0
    writer.replace_recording("r", [chunk(5)], generation="g4")
    assert writer.count() == 1
    writer.rebuild([SimpleNamespace(id="s:0", recording_id="s", text="pricing"), chunk(6)], generation="g5")
    assert writer.count() == 2 and reader.count() == 2
