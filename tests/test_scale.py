"""Past one machine: the index in a real Chroma server, transcription on several threads or a real Ray cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, last_json_line, run_heard

from pipeline.transcripts import load

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not come up in {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run` from the chromadb package) on a free port."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = shutil.which("chroma", path=str(BIN)) or "chroma"
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2).status == 200, "chroma run")
        yield url
    finally:
        stop(process)


def server_config(tmp_path: Path, url: str, collection: str) -> Path:
    config = tmp_path / f"{collection}.yaml"
    config.write_text(
        "transcribe:\n  model: tiny.en\nembedding:\n  model: all-MiniLM-L6-v2\n"
        f"store:\n  url: {url}\n  collection: {collection}\n  token: not-checked-by-a-local-server\n"
    )
    return config


def copy_transcripts(indexed_examples, data_dir: Path) -> None:
    """Transcripts already made by the shared fixture: these tests are about writing the index, not Whisper."""
    source, _ = indexed_examples
    shutil.copytree(source / "transcripts", data_dir / "transcripts")


def test_ingest_and_search_against_a_chroma_server_keep_no_local_index(chroma_server, indexed_examples, tmp_path):
    config = server_config(tmp_path, chroma_server, "single")
    data_dir = tmp_path / "data"
    copy_transcripts(indexed_examples, data_dir)
    result = run_heard(["ingest", EXAMPLES / "acme-export.mp3", "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    assert last_json_line(result.stdout)["new"] == 1
    assert not (data_dir / "index" / "chroma.sqlite3").exists()  # vectors live in the server

    # Another machine: its own (empty) data dir, the same server.
    elsewhere = tmp_path / "elsewhere"
    hits = run_heard(["search", "exporting data to CSV", "--format", "json"], elsewhere, config)
    assert hits.exit_code == 0, hits.output
    found = json.loads(hits.stdout)
    assert found and found[0]["recording"].endswith("acme-export.mp3")


def test_two_processes_ingesting_into_one_server_at_once_lose_nothing(chroma_server, indexed_examples, tmp_path):
    config = server_config(tmp_path, chroma_server, "shared")
    batches = {"one": ["acme-export.mp3", "brightside-onboarding.m4a"], "two": ["northwind-pricing.ogg"]}
    processes = {}
    for name, files in batches.items():
        # Each writer has its own data dir (transcripts and lock), as two machines would.
        data_dir = tmp_path / name
        copy_transcripts(indexed_examples, data_dir)
        processes[name] = subprocess.Popen(
            [sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir),
             "ingest", *[str(EXAMPLES / f) for f in files], "--format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    summaries = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        summaries[name] = last_json_line(out)

    from pipeline.config import load_settings
    from pipeline.indexing.store import open_store

    store = open_store(load_settings(config, tmp_path / "reader", environ={}), create=False)
    written = sum(s["chunks_written"] for s in summaries.values())
    assert written == indexed_examples[1]["chunks_written"]
    assert store.count() == written
    for name, files in batches.items():
        for transcript in (tmp_path / name / "transcripts").glob("*.json"):
            if Path(load(transcript).source).name in files:
                assert store.has_recording(load(transcript).recording_id), transcript


@pytest.mark.fast
def test_an_unreachable_server_is_a_config_error_naming_the_url(tmp_path):
    config = server_config(tmp_path, f"http://127.0.0.1:{free_port()}", "nowhere")
    result = run_heard(["search", "anything"], tmp_path, config)
    assert result.exit_code == 2
    assert "store.url" in result.stderr and "127.0.0.1" in result.stderr


def test_two_workers_transcribe_the_same_text_as_one(indexed_examples, test_config, tmp_path):
    import jiwer

    one, summary_one = indexed_examples
    two = tmp_path / "two-workers"
    result = run_heard(["ingest", EXAMPLES, "--workers", "2", "--format", "json"], two, test_config)
    assert result.exit_code == 0, result.output
    summary = last_json_line(result.stdout)
    assert summary["new"] == summary["transcribed"] == summary_one["new"]
    for path in (one / "transcripts").glob("*.json"):
        reference, parallel = load(path), load(two / "transcripts" / path.name)
        # Threads split differently can change int8 rounding, so allow a word or two, not a different text.
        assert jiwer.wer(reference.text, parallel.text) < 0.03, path.name
        assert parallel.title == reference.title


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A local Ray cluster with 2 CPUs, started as `ray start --head --block` and stopped with it."""
    pytest.importorskip("ray")
    port, client_port = free_port(), free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(REPO)}
    log = tmp_path_factory.mktemp("ray") / "ray.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [str(BIN / "ray"), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
             "--ray-client-server-port", str(client_port), "--include-dashboard=false", "--disable-usage-stats"],
            stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO,
        )
    try:
        wait_until(lambda: "--block" in log.read_text() or process.poll() is not None, "ray start", 120)
        assert process.poll() is None, log.read_text()[-2000:]
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


def test_ray_workers_transcribe_and_the_driver_writes_transcripts_and_index(ray_cluster, test_config, example_copy, tmp_path):
    recordings = tmp_path / "recordings"
    example_copy("acme-export.mp3", recordings)
    example_copy("northwind-pricing.ogg", recordings)
    (recordings / "broken.mp3").write_bytes(b"not audio at all" * 100)
    data_dir = tmp_path / "data"
    process = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(test_config), "--data-dir", str(data_dir),
         "ingest", str(recordings), "--executor", "ray", "--address", ray_cluster, "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"},
    )
    summary = last_json_line(process.stdout)
    assert process.returncode == 1, process.stderr
    assert summary["new"] == summary["transcribed"] == 2 and summary["failed"] == 1
    assert summary["failures"][0]["path"] == str(recordings / "broken.mp3")
    titles = {load(p).title: load(p).source for p in (data_dir / "transcripts").glob("*.json")}
    assert titles == {"Acme export": str(recordings / "acme-export.mp3"),
                      "Northwind pricing": str(recordings / "northwind-pricing.ogg")}
    hits = run_heard(["search", "pricing per seat", "--format", "json"], data_dir, test_config)
    assert hits.exit_code == 0 and json.loads(hits.stdout)


def test_a_long_recording_is_transcribed_in_windows_cut_at_pauses_with_times_from_its_start(monkeypatch, indexed_examples):
    """Bounded memory for long recordings: shown here with 15 s windows on a 43 s interview."""
    import jiwer

    from pipeline.config import TranscribeSettings
    from pipeline.hearing import audio, transcribe
    from pipeline.sources import discovery

    monkeypatch.setattr(transcribe, "WINDOW_SECONDS", 15.0)
    monkeypatch.setattr(transcribe, "CUT_SEARCH_SECONDS", 5.0)
    path = EXAMPLES / "acme-export.mp3"
    samples = audio.decode_audio(path)
    spans = transcribe.windows(samples)
    assert len(spans) >= 3 and spans[0][0] == 0 and spans[-1][1] == len(samples)
    assert all(a[1] == b[0] and b[0] - a[0] <= 15 * audio.SAMPLE_RATE for a, b in zip(spans, spans[1:]))
    level = np.sqrt(np.mean(samples**2))
    for _, cut in spans[:-1]:
        # Cut in a pause, not inside a word.
        assert np.sqrt(np.mean(samples[cut - 800:cut + 800] ** 2)) < 0.05 * level, cut / audio.SAMPLE_RATE

    windowed = transcribe.transcribe_recording(discovery.identify(path), transcribe.make_transcriber(TranscribeSettings()))
    whole = next(load(p) for p in (indexed_examples[0] / "transcripts").glob("*.json") if load(p).title == "Acme export")
    assert jiwer.wer(whole.text, windowed.text) < 0.05
    starts = [w.start for s in windowed.segments for w in s.words]
    assert starts == sorted(starts) and starts[-1] > 30


@pytest.mark.fast
def test_device_auto_batches_on_cuda_and_not_on_cpu_unless_asked():
    """No GPU is needed to check the choice itself; the GPU run is recorded in docs/benchmarks.md when lent."""
    from pipeline.config import TranscribeSettings
    from pipeline.hearing.transcribe import batch_size_for, describe

    assert batch_size_for(TranscribeSettings(), "cuda") == 16
    assert batch_size_for(TranscribeSettings(), "cpu") == 1
    assert batch_size_for(TranscribeSettings(batch_size=8), "cpu") == 8
    # A batched transcript says so, so changing the setting marks old transcripts as made differently.
    assert describe(TranscribeSettings(batch_size=8)) != describe(TranscribeSettings())


@pytest.mark.fast
def test_an_unknown_executor_or_runtime_is_a_config_error_naming_the_key(tmp_path):
    from pipeline.config import load_settings
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="transcribe.executor.*local, ray"):
        load_settings(data_dir=tmp_path, environ={"HEARD_TRANSCRIBE_EXECUTOR": "spark"})
    with pytest.raises(ConfigError, match="embedding.runtime"):
        load_settings(data_dir=tmp_path, environ={"HEARD_EMBEDDING_RUNTIME": "tensorflow"})
    result = run_heard(["ingest", EXAMPLES, "--workers", "0"], tmp_path)
    assert result.exit_code == 2
