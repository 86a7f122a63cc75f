"""Nothing in a folder can break a run or lose what is indexed (issue 13).

The bad-input corpus in tests/data/bad/ goes through the real `heard ingest` next to good files: every
bad recording fails alone, named in one line with the file that is wrong (a sidecar, a manifest and its
line, the recording itself), recorded in the catalog; the good ones are indexed and searchable; nothing
indexed before is removed. Cases made from audio (a truncated mp3) and names the file system must hold
(255 bytes) are made at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, last_json_line
from nightly_helpers import snapshot

BAD = Path(__file__).resolve().parent / "data" / "bad"

# Each bad recording (relative to the corpus) -> the file its failure must name (relative too) and
# words its one-line reason must hold.
CASES = {
    "json-start-is-text.json": ("json-start-is-text.json", ["start", "zero"]),
    "json-text-is-number.json": ("json-text-is-number.json", ["text"]),
    "json-word-without-time.json": ("json-word-without-time.json", ["start"]),
    "json-not-json.json": ("json-not-json.json", ["line 4", "JSON"]),
    "vtt-no-header.vtt": ("vtt-no-header.vtt", ["line 1", "WEBVTT"]),
    "vtt-bad-time.vtt": ("vtt-bad-time.vtt", ["line 6", "times"]),
    "srt-no-timing.srt": ("srt-no-timing.srt", ["line 5", "timing line"]),
    "srt-ends-before-start.srt": ("srt-ends-before-start.srt", ["line 2", "ends before it starts"]),
    "txt-no-speakers.txt": ("txt-no-speakers.txt", ["line 1", "Name: text"]),
    "txt-time-backwards.txt": ("txt-time-backwards.txt", ["line 2", "backwards"]),
    "txt-latin1.txt": ("txt-latin1.txt", ["UTF-8"]),
    "txt-empty.txt": ("txt-empty.txt", ["no speaker lines"]),
    "not-audio.mp3": ("not-audio.mp3", ["not a readable audio"]),
    "empty.wav": ("empty.wav", ["empty"]),
    "manifest-comma/acme.txt": ("manifest-comma/manifest.csv", ["line 2"]),
    "sidecar-aliases/call.txt": ("sidecar-aliases/call.yaml", ["alias"]),
    "sidecar-kind/call.txt": ("sidecar-kind/call.yaml", ["kind 'webinar'"]),
    "sidecar-not-yaml/call.txt": ("sidecar-not-yaml/call.yaml", ["line 2"]),
    "folder-file/call.txt": ("folder-file/heard.yaml", ["recordings"]),
    # Made below from examples/acme-export.mp3: its first 3 KB, whose header still announces 42 s.
    "truncated.mp3": ("truncated.mp3", ["decoded", "42.1 s"]),
}

GOOD_BEFORE = {
    "export.txt": "Dana: How do you export data?\nSam: The quarterly export to CSV times out on our large workspace.\n",
    "pricing.txt": "Dana: What do you think of the price?\nSam: Paying per seat gets expensive as the team grows.\n",
}
GOOD_WITH_THE_BAD = "Dana: How was onboarding?\nSam: Single sign on took our administrators two whole weeks.\n"
# 255 bytes is the longest name most file systems allow: its sidecar name (.yaml) would be 256.
LONG_NAME = "l" * 251 + ".txt"
LONG_NAME_TEXT = "Dana: Any other wishes?\nSam: A dark theme for the dashboard would help our night shift.\n"


def ingest(heard, folder, data_dir, *flags):
    result = heard(["ingest", folder, "--format", "json", *flags], data_dir)
    return result, last_json_line(result.stdout)


def catalog_failures(data_dir: Path) -> dict[str, str]:
    db = sqlite3.connect(data_dir / "catalog.sqlite3")
    try:
        return dict(db.execute("SELECT path, last_error FROM recordings WHERE status = 'failed'"))
    finally:
        db.close()


def search(heard, data_dir, query, *flags):
    result = heard(["search", query, "--format", "json", *flags], data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_good(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_every_bad_file_fails_alone_named_in_one_line_and_nothing_indexed_is_lost(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder / "good", GOOD_BEFORE)
    result, first = ingest(heard, folder, data_dir)
    assert result.exit_code == 0 and first["new"] == 2, result.output
    before = snapshot(data_dir)

    bad = folder / "bad"
    shutil.copytree(BAD, bad)
    (bad / "truncated.mp3").write_bytes((EXAMPLES / "acme-export.mp3").read_bytes()[:3000])
    write_good(folder / "good", {"onboarding.txt": GOOD_WITH_THE_BAD, LONG_NAME: LONG_NAME_TEXT})

    result, summary = ingest(heard, folder, data_dir)

    assert result.exit_code == 1, result.output
    assert summary["new"] == 2 and summary["unchanged"] == 2 and summary["removed"] == 0
    assert summary["failed"] == len(CASES), summary["failures"]
    reasons = {Path(f["path"]).relative_to(bad).as_posix(): f["reason"] for f in summary["failures"]}
    assert set(reasons) == set(CASES)
    recorded = catalog_failures(data_dir)
    lines = result.stderr.splitlines()
    for case, (blamed, words) in CASES.items():
        reason = reasons[case]
        assert "\n" not in reason and all(w in reason for w in words), (case, reason)
        if blamed != case:  # another file is at fault: the reason names it (the line names the recording)
            assert str(bad / blamed) in reason, (case, reason)
        assert recorded[str(bad / case)] == reason, case
        named = [line for line in lines if str(bad / case) in line]
        assert len(named) == 1 and "FAILED" in named[0] and reason in named[0], (case, named)
    assert "Traceback" not in result.output

    after = snapshot(data_dir)
    assert before.items() <= after.items()  # nothing indexed before was removed or changed
    assert search(heard, data_dir, "single sign on took weeks")[0]["recording"] == str(folder / "good" / "onboarding.txt")
    assert search(heard, data_dir, "dark theme for the night shift")[0]["recording"] == str(folder / "good" / LONG_NAME)
    assert search(heard, data_dir, "export times out")[0]["recording"] == str(folder / "good" / "export.txt")


def test_a_file_deleted_while_whisper_works_on_it_fails_alone(tmp_path, heard, monkeypatch):
    """A nightly run must survive someone moving a file away mid-run: it is that file's failure,
    not a storage error that stops the run."""
    from pipeline.hearing import audio

    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    folder.mkdir()
    vanishing = Path(shutil.copy(EXAMPLES / "acme-export.mp3", folder / "a-vanishing.mp3"))
    write_good(folder, {"b-after.txt": GOOD_WITH_THE_BAD})
    decode = audio.decode_audio

    def decode_then_delete(path):
        samples = decode(path)  # Whisper now works on the decoded samples; the file goes away
        if Path(path) == vanishing and vanishing.exists():
            vanishing.unlink()
        return samples

    monkeypatch.setattr(audio, "decode_audio", decode_then_delete)
    result, summary = ingest(heard, folder, data_dir)

    assert result.exit_code == 1, result.output
    assert "cannot write" not in result.output and "permissions" not in result.output
    assert summary["new"] == 1 and summary["failed"] == 1
    assert summary["failures"][0]["path"] == str(vanishing)
    assert search(heard, data_dir, "single sign on")[0]["recording"] == str(folder / "b-after.txt")


def test_a_255_byte_file_name_is_indexed(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder, {LONG_NAME: LONG_NAME_TEXT, "pricing.txt": GOOD_BEFORE["pricing.txt"]})
    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 0 and summary["new"] == 2, result.output


@pytest.mark.fast
def test_yaml_aliases_cannot_blow_up_metadata(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    shutil.copytree(BAD / "sidecar-aliases", folder)
    result, summary = ingest(heard, folder, data_dir)
    assert result.exit_code == 1 and summary["failed"] == 1, result.output
    assert "alias" in summary["failures"][0]["reason"] and "call.yaml" in summary["failures"][0]["reason"]


# ---- never delete because something could not be read -------------------------------------------


def heard_process(args, data_dir, config, *, without_root_powers=False):
    """`heard` as its own process. As root, `without_root_powers` drops the capabilities that let root
    read any folder (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a `chmod 000` folder is unreadable to it
    as it is to any user."""
    prefix = []
    if without_root_powers and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a folder unreadable")
        drop = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir), *map(str, args)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.parametrize("prune", [False, True])
def test_an_unreadable_folder_is_a_failure_by_name_and_its_recordings_stay(tmp_path, heard, test_config, prune):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder, {"export.txt": GOOD_BEFORE["export.txt"]})
    write_good(folder / "team-b", {"pricing.txt": GOOD_BEFORE["pricing.txt"]})
    assert ingest(heard, folder, data_dir)[0].exit_code == 0
    before = snapshot(data_dir)
    transcripts_before = sorted(p.name for p in (data_dir / "transcripts").iterdir())

    (folder / "team-b").chmod(0)
    try:
        done = heard_process(["ingest", folder, "--format", "json", *(["--prune"] if prune else [])], data_dir,
                             test_config, without_root_powers=True)
    finally:
        (folder / "team-b").chmod(0o755)

    assert done.returncode == 1, done.stderr
    summary = last_json_line(done.stdout)
    assert summary["removed"] == 0 and summary["chunks_removed"] == 0
    assert [f["path"] for f in summary["failures"]] == [str(folder / "team-b")]
    assert any(str(folder / "team-b") in line and "FAILED" in line for line in done.stderr.splitlines()), done.stderr
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in (data_dir / "transcripts").iterdir()) == transcripts_before


def test_a_folder_that_comes_up_empty_removes_nothing_unless_told(tmp_path, heard):
    """An unmounted network share shows as an empty folder: one nightly run must not empty the index."""
    share, data_dir = tmp_path / "share", tmp_path / "data"
    write_good(share, GOOD_BEFORE)
    assert ingest(heard, share, data_dir)[0].exit_code == 0
    before = snapshot(data_dir)
    unmounted = tmp_path / "unmounted-contents"
    share.rename(unmounted)
    share.mkdir()

    result, summary = ingest(heard, share, data_dir, "--prune")

    assert result.exit_code == 1, result.output
    assert summary["removed"] == 0 and snapshot(data_dir) == before
    line = next(line for line in result.stderr.splitlines() if str(share) in line)
    assert "2" in line and "--allow-empty" in line, line
    assert len(list((data_dir / "transcripts").glob("*.json"))) == 2

    result, summary = ingest(heard, share, data_dir, "--allow-empty")
    assert result.exit_code == 0 and summary["removed"] == 2, result.output


# ---- honest counts and messages -----------------------------------------------------------------


def test_imported_transcripts_are_never_stale(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder, GOOD_BEFORE)
    (folder / "subtitles.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Sam>Our export is slow.</v>\n")
    assert ingest(heard, folder, data_dir)[0].exit_code == 0

    result, summary = ingest(heard, folder, data_dir)
    assert summary["unchanged"] == 3 and summary["stale"] == 0, result.output
    assert "--retranscribe" not in result.stderr

    result, summary = ingest(heard, folder, data_dir, "--retranscribe")
    assert summary["unchanged"] == 3 and summary["transcribed"] == 0 and summary["stale"] == 0, result.output
    assert "modification time" not in result.stderr


def test_a_metadata_edit_says_re_indexed_not_re_transcribed(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder, {"export.txt": GOOD_BEFORE["export.txt"]})
    assert ingest(heard, folder, data_dir)[0].exit_code == 0
    (folder / "export.yaml").write_text("company: Acme Logistics\n")

    result, summary = ingest(heard, folder, data_dir)

    assert summary["updated"] == 1, result.output
    line = next(line for line in result.stderr.splitlines() if "export.txt" in line)
    assert "re-indexed" in line and "re-transcribed" not in line.replace("not re-transcribed", ""), line


def test_a_run_that_ended_with_an_error_leaves_no_lock_to_take_over(tmp_path, heard, monkeypatch):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    write_good(folder, {"export.txt": GOOD_BEFORE["export.txt"]})
    assert ingest(heard, folder, data_dir)[0].exit_code == 0
    monkeypatch.setenv("HEARD_EMBEDDING_MODEL", "all-mpnet-base-v2")  # mismatch: a config error inside the lock
    failed = heard(["ingest", folder], data_dir)
    assert failed.exit_code == 2 and "heard reindex" in failed.stderr
    monkeypatch.delenv("HEARD_EMBEDDING_MODEL")

    result = heard(["ingest", folder], data_dir)
    assert result.exit_code == 0 and "took over the lock" not in result.stderr, result.stderr
