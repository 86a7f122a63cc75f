"""Nightly ingest you can trust: incremental, honest about failures, rebuildable, observable.

Real Whisper, real embeddings, real Chroma, on short clips cut from the generated interviews.
"""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest
from conftest import last_json_line, run_heard
from nightly_helpers import make_clips, place, snapshot, write_wav

from pipeline.indexing import embedding_models
from pipeline.sources import discovery


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return make_clips(tmp_path_factory.mktemp("clips"))


def ingest(heard, folder, data_dir, *flags):
    result = heard(["ingest", folder, "--format", "json", *flags], data_dir)
    return result, last_json_line(result.stdout)


def catalog_rows(data_dir):
    db = sqlite3.connect(data_dir / "catalog.sqlite3")
    return {row[0]: row[1:] for row in db.execute("SELECT path, status, recording_id, last_error, failures FROM recordings")}


def test_unchanged_rerun_hashes_nothing_and_a_touched_file_is_hashed_but_not_transcribed(
    tmp_path, heard, clips, monkeypatch
):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    touched = place(clips["north"], folder / "b.wav")
    assert ingest(heard, folder, data_dir)[0].exit_code == 0
    hashed = []
    real_hash = discovery.hash_file
    monkeypatch.setattr(discovery, "hash_file", lambda path, *a: hashed.append(path) or real_hash(path, *a))

    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 0 and summary["unchanged"] == 2 and hashed == []

    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    result, summary = ingest(heard, folder, data_dir)
    assert hashed == [touched]
    assert summary["unchanged"] == 2 and summary["transcribed"] == summary["chunks_written"] == 0


def test_changed_content_is_retranscribed_and_replaces_the_old_chunks(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    path = place(clips["acme"], folder / "call.wav")
    ingest(heard, folder, data_dir)
    before = snapshot(data_dir)
    old_id = discovery.hash_file(path)[:16]

    place(clips["north"], path)  # the same file name now holds another conversation
    result, summary = ingest(heard, folder, data_dir)

    assert result.exit_code == 0 and summary["updated"] == 1 and summary["transcribed"] == 1
    after = snapshot(data_dir)
    new_id = discovery.hash_file(path)[:16]
    assert {i.split(":")[0] for i in before} == {old_id}
    assert {i.split(":")[0] for i in after} == {new_id}
    assert {meta[1] for meta in after.values()} == {str(path)}
    hits = json.loads(heard(["search", "price per seat", "--format", "json"], data_dir).stdout)
    assert hits[0]["recording_id"] == new_id


def test_deleted_recording_leaves_the_index_but_keeps_its_transcript_unless_pruned(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    kept = place(clips["acme"], folder / "a.wav")
    gone = place(clips["north"], folder / "b.wav")
    ingest(heard, folder, data_dir)
    gone_id = discovery.hash_file(gone)[:16]
    transcript = data_dir / "transcripts" / f"{gone_id}.json"
    gone.unlink()

    result, summary = ingest(heard, folder, data_dir, "--keep-missing")
    assert summary["kept_missing"] == 1 and summary["removed"] == 0
    assert any(i.startswith(gone_id) for i in snapshot(data_dir))
    assert catalog_rows(data_dir)[str(gone)][0] == "missing"

    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 0 and summary["removed"] == 1 and summary["chunks_removed"] > 0
    assert not any(i.startswith(gone_id) for i in snapshot(data_dir))
    assert transcript.is_file() and str(gone) not in catalog_rows(data_dir)
    assert "b.wav: file is gone; removed" in result.stderr

    place(clips["north"], gone)
    ingest(heard, folder, data_dir)  # back again: its transcript is reused, nothing transcribed
    gone.unlink()
    kept.unlink()
    # The folder is now empty, as an unmounted share would be: nothing goes without --allow-empty.
    result, summary = ingest(heard, folder, data_dir, "--prune")
    assert result.exit_code == 1 and summary["removed"] == 0 and transcript.exists()
    assert "--allow-empty" in summary["failures"][0]["reason"]
    result, summary = ingest(heard, folder, data_dir, "--prune", "--allow-empty")
    assert summary["removed"] == 2 and not transcript.exists()
    assert snapshot(data_dir) == {}


def test_changed_transcription_settings_retranscribe_only_when_asked(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["bright"], folder / "a.wav")
    ingest(heard, folder, data_dir)
    config = tmp_path / "greedy.yaml"
    config.write_text("transcribe:\n  model: tiny.en\n  beam_size: 1\n")

    result = run_heard(["ingest", folder, "--format", "json"], data_dir, config)
    summary = last_json_line(result.stdout)
    assert summary["stale"] == 1 and summary["transcribed"] == 0 and "--retranscribe" in result.stderr

    result = run_heard(["ingest", folder, "--format", "json", "--retranscribe"], data_dir, config)
    summary = last_json_line(result.stdout)
    assert result.exit_code == 0 and summary["transcribed"] == 1 and summary["updated"] == 1
    saved = json.loads(next((data_dir / "transcripts").glob("*.json")).read_text())
    assert saved["transcriber"]["settings"]["beam_size"] == 1


def test_new_embedding_model_is_refused_until_reindex_rebuilds_without_transcribing(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    place(clips["north"], folder / "b.wav")
    ingest(heard, folder, data_dir)
    transcripts_before = {p.name: p.stat().st_mtime_ns for p in (data_dir / "transcripts").iterdir()}
    ids_before = set(snapshot(data_dir))
    # The same weights under another name: a different model as far as the index can tell.
    other_model = embedding_models.resolve_embedding_model("all-MiniLM-L6-v2")
    config = tmp_path / "other.yaml"
    config.write_text(f"transcribe:\n  model: tiny.en\nembedding:\n  model: {other_model}\n")

    refused = run_heard(["ingest", folder], data_dir, config)
    assert refused.exit_code == 2
    assert "all-MiniLM-L6-v2" in refused.stderr and "heard reindex" in refused.stderr
    assert set(snapshot(data_dir)) == ids_before

    rebuilt = run_heard(["reindex", "--format", "json"], data_dir, config)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert last_json_line(rebuilt.stdout)["recordings"] == 2
    assert set(snapshot(data_dir)) == ids_before
    assert {p.name: p.stat().st_mtime_ns for p in (data_dir / "transcripts").iterdir()} == transcripts_before
    result = run_heard(["ingest", folder, "--format", "json"], data_dir, config)
    assert result.exit_code == 0 and last_json_line(result.stdout)["unchanged"] == 2
    hits = json.loads(run_heard(["search", "export timed out", "--format", "json"], data_dir, config).stdout)
    assert hits and hits[0]["recording"].endswith("a.wav")


def test_changed_chunking_is_reported_and_reindex_applies_it(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    ingest(heard, folder, data_dir)
    before = snapshot(data_dir)
    config = tmp_path / "small-chunks.yaml"
    config.write_text("transcribe:\n  model: tiny.en\nchunking:\n  max_words: 8\n  max_seconds: 4\n")

    result = run_heard(["ingest", folder, "--format", "json"], data_dir, config)
    assert last_json_line(result.stdout)["reindex_needed"] == 1 and "heard reindex" in result.stderr
    assert run_heard(["reindex"], data_dir, config).exit_code == 0
    assert len(snapshot(data_dir)) > len(before)
    result = run_heard(["ingest", folder, "--format", "json"], data_dir, config)
    assert last_json_line(result.stdout)["reindex_needed"] == 0


def test_damaged_store_is_reported_and_reindex_rebuilds_it(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    ingest(heard, folder, data_dir)
    before = snapshot(data_dir)
    with open(data_dir / "index" / "chroma.sqlite3", "r+b") as handle:
        handle.write(b"this is not a database" * 200)

    for command in (["search", "export"], ["ingest", folder]):
        result = heard(command, data_dir)
        assert result.exit_code == 2
        message = result.stderr.strip().splitlines()[-1]
        assert "damaged" in message and "heard reindex" in message and str(data_dir / "index") in message
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert "damaged" in status["index"]["error"]

    result = heard(["reindex"], data_dir)
    assert result.exit_code == 0, result.output
    assert snapshot(data_dir) == before
    hits = json.loads(heard(["search", "export timed out", "--format", "json"], data_dir).stdout)
    assert hits and hits[0]["recording"] == str(folder / "a.wav")


def test_failed_recording_is_kept_in_the_catalog_and_retried_when_changed_or_asked(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "good.wav")
    bad = folder / "bad.mp3"
    bad.write_text("not audio at all\n" * 100)

    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 1 and summary["new"] == 1 and summary["failed"] == 1
    status, _, reason, attempts = catalog_rows(data_dir)[str(bad)]
    assert status == "failed" and "not a readable audio" in reason and attempts == 1

    result, summary = ingest(heard, folder, data_dir)  # straight after: not retried, still reported
    assert result.exit_code == 1 and summary["failures"][0]["retried"] is False
    assert "--retry-failed" in result.stderr and catalog_rows(data_dir)[str(bad)][3] == 1

    result, summary = ingest(heard, folder, data_dir, "--retry-failed")
    assert result.exit_code == 1 and catalog_rows(data_dir)[str(bad)][3] == 2

    config = tmp_path / "retry-always.yaml"
    config.write_text("transcribe:\n  model: tiny.en\ningest:\n  retry_failed_after_hours: 0\n")
    result = run_heard(["ingest", folder, "--format", "json"], data_dir, config)
    assert last_json_line(result.stdout)["failures"][0]["retried"] is True

    place(clips["north"], bad)  # fixed: replaced by a real recording
    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 0 and summary["new"] == 1 and summary["failed"] == 0
    assert catalog_rows(data_dir)[str(bad)][0] == "indexed"


def test_unreadable_recording_fails_alone(tmp_path, clips, test_config):
    """Root reads any file, so as root the run gives up the capabilities that let it (DAC override)
    and meets a real EACCES, as any other user would."""
    import subprocess
    import sys

    from conftest import REPO

    folder = tmp_path / "rec"
    place(clips["acme"], folder / "good.wav")
    locked = place(clips["north"], folder / "locked.wav")
    locked.chmod(0)
    drop = []
    if os.geteuid() == 0:
        caps = "-dac_override,-dac_read_search"
        drop = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
    out = subprocess.run(
        [*drop, sys.executable, "-m", "cli", "--config", str(test_config), "--data-dir", str(tmp_path / "data"),
         "ingest", str(folder), "--format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 1, out.stderr
    summary = last_json_line(out.stdout)
    assert summary["new"] == 1 and summary["failed"] == 1
    assert summary["failures"][0]["path"].endswith("locked.wav")
    assert "permission" in summary["failures"][0]["reason"].lower()


def test_status_reports_recordings_chunks_hours_runs_failures_models_and_size(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    place(clips["north"], folder / "b.wav")
    (folder / "empty.wav").write_bytes(b"")
    result, summary = ingest(heard, folder, data_dir)

    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert status["recordings"] == {"indexed": 2, "pending": 0, "failed": 1, "missing": 0}
    assert status["chunks"] == len(snapshot(data_dir)) == summary["chunks_written"]
    assert status["audio_hours"] == pytest.approx(24 / 3600, abs=0.001)
    assert status["last_run"]["result"] == "failed" and status["last_run"]["ended_at"]
    assert status["last_run"]["summary"]["new"] == 2
    assert status["recent_failures"][0]["path"].endswith("empty.wav")
    assert "empty" in status["recent_failures"][0]["reason"]
    assert status["models"]["transcription"][0]["model"] == "tiny.en"
    assert status["models"]["embedding"] == ["all-MiniLM-L6-v2"]
    assert status["index"]["bytes"] > 0 and status["running"] is None

    text = heard(["status"], data_dir).stdout
    assert "2 indexed" in text and "1 failed" in text and "empty.wav" in text and "last run: ingest" in text


def test_logs_one_line_per_recording_and_a_json_summary_last_and_quiet_keeps_failures(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    write_wav(folder / "silent.wav", np.zeros(16000 * 2))
    result = heard(["ingest", folder, "--format", "json"], data_dir)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "a.wav: indexed" in lines[0] and "silent.wav: FAILED: silent" in lines[1]
    assert json.loads(result.stdout.strip().splitlines()[-1])["failed"] == 1

    quiet = heard(["ingest", folder, "--quiet", "--retry-failed"], data_dir)
    assert quiet.stderr.strip().splitlines() == [line for line in quiet.stderr.strip().splitlines() if "FAILED" in line]
    assert len(quiet.stderr.strip().splitlines()) == 1 and quiet.exit_code == 1


def test_missing_embedding_model_stops_with_one_line_and_the_next_run_resumes(tmp_path, heard, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    config = tmp_path / "no-model.yaml"
    config.write_text(f"transcribe:\n  model: tiny.en\nembedding:\n  model: {tmp_path / 'no-such-model'}\n")

    result = run_heard(["ingest", folder], data_dir, config)

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-model" in lines[0] and "all-MiniLM-L6-v2" in lines[0]
    assert catalog_rows(data_dir) == {}
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert status["last_run"]["result"].startswith("error: ") and status["chunks"] == 0
    result, summary = ingest(heard, folder, data_dir)  # the transcript made before the fault is reused
    assert result.exit_code == 0 and summary["new"] == 1 and summary["transcribed"] == 0
