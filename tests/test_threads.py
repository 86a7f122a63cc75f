"""One thread policy for the process (pipeline/threads.py), each recording decoded once, and
recordings that are ready at once embedded together. The spies only watch the real libraries."""

from __future__ import annotations

import collections
import functools
import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, REPO, run_heard

from pipeline import threads
from pipeline.config import SpeakersSettings, TranscribeSettings


@pytest.fixture(scope="module")
def watched_ingest(tmp_path_factory, test_config):
    """A real `heard ingest` of two examples with speakers on, watching what reaches the libraries."""
    import ctranslate2
    import faster_whisper.transcribe
    import onnxruntime

    from pipeline.hearing import audio
    from pipeline.hearing.speakers import diarize as diarize_module

    seen: dict = {"whisper": [], "sessions": [], "decoded": collections.Counter()}
    real_whisper, real_session, real_decode = ctranslate2.models.Whisper, onnxruntime.InferenceSession, audio.decode_audio

    def whisper(*args, **kwargs):
        seen["whisper"].append(kwargs)
        return real_whisper(*args, **kwargs)

    def session(path, *args, **kwargs):
        seen["sessions"].append((str(path), kwargs.get("sess_options", args[0] if args else None)))
        return real_session(path, *args, **kwargs)

    @functools.wraps(real_decode)
    def decode(path, **options):
        seen["decoded"][str(path)] += 1
        return real_decode(path, **options)

    real_by_voice = diarize_module._by_voice

    def by_voice(samples, num_speakers, models, windows=None):  # the speaker models at work: their sessions' options
        seen["speaker_sessions"] = [n.session.get_session_options() for n in (models.segmenter.network, models.encoder.network)]
        return real_by_voice(samples, num_speakers, models, windows)

    folder = tmp_path_factory.mktemp("two")
    for name in ("acme-export.mp3", "northwind-pricing.ogg"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(faster_whisper.transcribe.ctranslate2.models, "Whisper", whisper)
        patch.setattr(onnxruntime, "InferenceSession", session)
        patch.setattr(audio, "decode_audio", decode)
        patch.setattr(diarize_module, "_by_voice", by_voice)
        data_dir = tmp_path_factory.mktemp("data")
        result = run_heard(["ingest", folder], data_dir, test_config)
    assert result.exit_code == 0, result.output
    seen["folder"], seen["data_dir"] = folder, data_dir
    return seen


def test_no_library_chooses_its_own_thread_count(watched_ingest):
    # Whisper: the cores (one worker); the speaker models and the text encoder: one onnxruntime
    # thread each, whose workers sleep instead of spinning.
    assert [w["intra_threads"] for w in watched_ingest["whisper"]] == [threads.cores()]
    (text,) = [o for path, o in watched_ingest["sessions"] if path.endswith("model.onnx")]
    for options in [text, *watched_ingest["speaker_sessions"]]:
        assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.fast
def test_zero_threads_means_the_policy_not_the_library():
    cores = threads.cores()
    assert threads.transcribe_threads(TranscribeSettings(threads=0)) == cores
    assert threads.transcribe_threads(TranscribeSettings(threads=0, workers=2)) == max(1, cores // 2)
    assert threads.transcribe_threads(TranscribeSettings(threads=8, workers=2)) == 4
    assert threads.speaker_threads(SpeakersSettings(threads=0)) == 1
    assert threads.speaker_threads(SpeakersSettings(threads=3)) == 3
    assert threads.embedding_threads(beside_whisper=True) == 1
    assert threads.embedding_threads(beside_whisper=False) == cores


@pytest.mark.fast
def test_waiting_threads_sleep_unless_the_user_chose():
    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    threads.wait_passively(environ)
    assert environ == {"OMP_WAIT_POLICY": "ACTIVE", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def without_the_policy() -> dict[str, str]:
    """This process's environment without the thread policy's variables (conftest set them here)."""
    return {k: v for k, v in os.environ.items() if k not in threads.LIBRARY_ENVIRONMENT}


def test_importing_heard_leaves_the_environment_alone():
    # A program that imports heard as a library keeps its own environment: every module of it
    # (torch included, which campplus.py imports) and the CLI's, imported in a fresh process.
    code = (
        "import importlib, json, os, pkgutil\n"
        "before = dict(os.environ)\n"
        "import cli, pipeline\n"
        "for module in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(set(os.environ.items()) ^ set(before.items()))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=without_the_policy(), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# Runs `heard ingest` as the console script does, recording the policy's variables as each library
# that reads them is first imported: numpy (OpenBLAS), ctranslate2 (Whisper) and onnxruntime (the
# speaker models and the text encoder).
WATCH_IMPORTS = """
import importlib.abc, json, os, sys
seen = {}

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("numpy", "ctranslate2", "onnxruntime") and name not in seen:
            seen[name] = {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS")}
        return None

sys.meta_path.insert(0, Watch())
from cli import main
try:
    main(sys.argv[2:], prog_name="heard")
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(seen, out)
"""


def test_a_real_ingest_loads_its_libraries_under_the_policy(tmp_path, test_config):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "acme-export.mp3").write_bytes((EXAMPLES / "acme-export.mp3").read_bytes())
    seen_path = tmp_path / "seen.json"
    args = ["--config", test_config, "--data-dir", tmp_path / "data", "ingest", tmp_path / "one", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-c", WATCH_IMPORTS, seen_path, *map(str, args)],
        env=without_the_policy(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    policy = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}
    assert json.loads(seen_path.read_text()) == {"numpy": policy, "ctranslate2": policy, "onnxruntime": policy}


@pytest.mark.fast
def test_a_container_cpu_quota_lowers_the_cores(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert threads._cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads._cgroup_cpu_quota(tmp_path) is None


def test_each_recording_is_decoded_once_for_whisper_and_speakers(watched_ingest):
    folder = watched_ingest["folder"]
    assert dict(watched_ingest["decoded"]) == {str(p): 1 for p in sorted(folder.iterdir())}
    transcripts = (watched_ingest["data_dir"] / "transcripts").glob("*.json")
    diarized = [json.loads(p.read_text())["diarization"] for p in transcripts]
    assert len(diarized) == 2 and all(d["speakers"] == 2 for d in diarized)


def test_transcripts_ready_together_are_embedded_in_one_pass(tmp_path, heard, monkeypatch):
    from pipeline.indexing.embed import Embedder

    calls = []
    real_encode = Embedder._encode

    def encode(self, texts, prompt):
        calls.append(len(texts))
        return real_encode(self, texts, prompt)

    monkeypatch.setattr(Embedder, "_encode", encode)
    folder = tmp_path / "notes"
    folder.mkdir()
    for n, topic in enumerate(["pricing", "exports", "onboarding"]):
        (folder / f"call-{n}.txt").write_text(f"Dana: How is {topic} going?\nPriya: {topic.capitalize()} has been slow for us.\n")

    result = heard(["ingest", folder, "--format", "json"], tmp_path / "data")

    assert result.exit_code == 0, result.output
    assert calls == [6]  # three recordings of two chunks, one encoder call
    hits = heard(["search", "exports are slow", "--format", "json"], tmp_path / "data")
    assert json.loads(hits.stdout)[0]["recording"] == str(folder / "call-1.txt")
