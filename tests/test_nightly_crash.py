"""kill -9 at any point, a second copy, a reader during a write, a full disk: the index stays whole.

Ingest runs as a real subprocess and is killed for real: once from outside while it transcribes,
and at named points between two writes (HEARD_CRASH_AT, see pipeline/crash.py) where no outside
timer could reliably land.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, last_json_line
from nightly_helpers import make_clips, place, snapshot


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return make_clips(tmp_path_factory.mktemp("clips"))


def start_ingest(args, data_dir, config, crash_at=None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HEARD_CRASH_AT", None)
    if crash_at:
        env["HEARD_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir), "ingest", *map(str, args)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def heard_process(args, data_dir, config) -> str:
    """`heard` as its own process: a fresh Chroma client, as every real search gets."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir), *map(str, args)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True,
    )
    return done.stdout


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 240) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return seen
    process.kill()
    raise AssertionError(f"ingest never printed {needle!r}: {''.join(seen)}")


def killed_by_itself(process: subprocess.Popen) -> bool:
    process.communicate(timeout=300)
    return process.returncode == -signal.SIGKILL


def test_killed_ingest_reruns_to_the_index_of_a_clean_run(tmp_path, heard, test_config, clips):
    folder, data_dir = tmp_path / "rec", tmp_path / "data"
    place(clips["acme"], folder / "a.wav")
    place(clips["bright"], folder / "b.wav")
    place(clips["north"], folder / "c.wav")
    long_recording = place(clips["long"], tmp_path / "z-long" / "long.wav")  # sorted after rec/

    # 1. Killed from outside while transcribing a long recording, after a.wav was indexed;
    #    meanwhile a second ingest is refused and search answers from what is indexed.
    #    SIGSTOP holds it mid-transcription (lock held, store open) however fast the machine is.
    running = start_ingest([folder / "a.wav", long_recording], data_dir, test_config)
    wait_for_line(running, "a.wav: indexed")
    running.send_signal(signal.SIGSTOP)
    second = heard(["ingest", folder], data_dir)
    hits = heard(["search", "export timed out", "--format", "json"], data_dir)
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    running.send_signal(signal.SIGKILL)
    running.communicate()
    assert status["running"] == {"pid": running.pid} and status["last_run"]["result"] == "running"
    assert second.exit_code == 3
    assert f"PID {running.pid}" in second.stderr and "ingest.lock" in second.stderr
    assert hits.exit_code == 0 and json.loads(hits.stdout)[0]["recording"] == str(folder / "a.wav")

    # 2. Killed inside transcription of b.wav (a.wav unchanged).
    assert killed_by_itself(start_ingest([folder], data_dir, test_config, crash_at="transcribing"))
    # 3. a.wav changed content: killed after the new chunks were written, before the old ones
    #    were deleted (both in the store for a moment).
    place(clips["acme-late"], folder / "a.wav")
    assert killed_by_itself(start_ingest([folder], data_dir, test_config, crash_at="store-written"))
    stored = {chunk_id.split(":")[0] for chunk_id, meta in snapshot(data_dir).items() if meta[1] == str(folder / "a.wav")}
    found = json.loads(heard_process(["search", "export", "-k", "20", "--format", "json"], data_dir, test_config))
    shown = {h["recording_id"] for h in found if h["recording"] == str(folder / "a.wav")}
    assert len(stored) == 2 and len(shown) == 1, "both versions are stored, search shows one"
    # 4. Killed after a recording's chunks were stored, before the catalog said so.
    assert killed_by_itself(start_ingest([folder], data_dir, test_config, crash_at="indexed:2"))
    # 5. Killed right after a transcript was saved, before it was indexed.
    assert killed_by_itself(start_ingest([folder], data_dir, test_config, crash_at="transcript-saved"))

    result = heard(["ingest", folder, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    assert "took over the lock left by PID" in result.stderr
    clean_dir = tmp_path / "clean"
    assert heard(["ingest", folder], clean_dir).exit_code == 0

    killed, clean = snapshot(data_dir), snapshot(clean_dir)
    assert killed == clean and len(clean) >= 3
    status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
    assert status["recordings"]["indexed"] == 3 and status["chunks"] == len(clean)
    assert status["last_run"]["result"] == "ok" and status["running"] is None
    leftovers = [p for p in (data_dir / "transcripts").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def fill(disk: Path) -> None:
    try:
        with open(disk / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
    except OSError:
        pass  # full


def test_full_disk_stops_with_one_line_and_nothing_half_written(tmp_path, heard, clips):
    """Real full disks: a 16 MB tmpfs holds transcripts/, then the whole data dir. Needs mount rights."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        folder, data_dir = tmp_path / "rec", tmp_path / "data"
        data_dir.mkdir()
        (disk / "transcripts").mkdir()
        (data_dir / "transcripts").symlink_to(disk / "transcripts")
        place(clips["acme"], folder / "a.wav")
        assert heard(["ingest", folder], data_dir).exit_code == 0
        before = snapshot(data_dir)
        place(clips["north"], folder / "b.wav")
        fill(disk)

        result = heard(["ingest", folder], data_dir)  # b.wav is transcribed, then cannot be saved

        assert result.exit_code == 2
        message = result.stderr.strip().splitlines()[-1]
        assert str(data_dir / "transcripts") in message and "No space left on device" in message
        assert "free disk space" in message
        assert sorted(p.suffix for p in (disk / "transcripts").iterdir()) == [".json", ".md"]  # a.wav's only
        assert snapshot(data_dir) == before
        status = json.loads(heard(["status", "--format", "json"], data_dir).stdout)
        assert status["recordings"]["indexed"] == 1 and "error" in status["last_run"]["result"]

        (disk / "filler").unlink()
        result = heard(["ingest", folder, "--format", "json"], data_dir)
        assert result.exit_code == 0 and last_json_line(result.stdout)["new"] == 1

        # The whole data dir on a full disk: the catalog cannot even record the run.
        moved = disk / "data"
        shutil.copytree(data_dir, moved, ignore=shutil.ignore_patterns("transcripts"))
        fill(disk)
        result = heard(["ingest", folder], moved)
        assert result.exit_code == 2
        message = result.stderr.strip().splitlines()[-1]
        assert "no space left on device" in message.lower() and "free disk space" in message
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
