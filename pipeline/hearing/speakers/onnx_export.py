"""The speaker models exported once to ONNX, checked against torch, and kept in the user cache.

Where: at the first diarization (the first `heard ingest` with speakers), in the process that needs
them, into <cache>/speaker-onnx/<model>-<sha256 of the weights>-v<EXPORT_VERSION>/ (model_cache.cache_dir:
$HEARD_CACHE_DIR, else ~/.cache/heard). torch is needed for that export only; every later run loads the
ONNX files with onnxruntime. New weights have another hash, and a change to a network's code bumps
EXPORT_VERSION: either way the export is made again.

The check: the exported model and the torch module are run on the same input (CHECK_SECONDS of a
deterministic speech-like signal: harmonics of a gliding pitch, syllable-rate bursts, pauses, noise),
and the export is kept only when no output differs by more than TOLERANCE; check.json records the
largest difference. An export that fails the check, or that torch cannot make at all (its error is
recorded), is recorded as failed, and the diarizer runs the torch module instead (same outputs, more
CPU). On real speech (the pyannote phone call and the AMI excerpts) the differences measured 7e-5
(segmentation log-probabilities) and 7e-6 (CAM++ outputs) and DER is identical on every clip
(tests/test_speaker_onnx.py, scripts/bench_speaker_runtime.py).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import ConfigError
from pipeline.files import hash_file
from pipeline.hearing.speakers.features import N_MELS, fbank
from pipeline.hearing.speakers.networks import Network, OnnxNetwork, TorchNetwork, torch_module
from pipeline.hearing.speakers.segmentation import SAMPLE_RATE, WINDOW
from pipeline.model_cache import cache_dir, file_stamp, remembered_hash, staging_dir

if TYPE_CHECKING:
    import torch

# Bump when segmentation.py's PyanNet or campplus.py's CAMPPlus changes: cached exports are re-made.
EXPORT_VERSION = 1
OPSET = 17
TOLERANCE = 1e-3  # largest absolute difference allowed between ONNX and torch outputs
CHECK_SECONDS = 20.0


@dataclass(frozen=True)
class _Spec:
    input: str
    output: str
    dynamic: dict[int, str]  # the input's axes that vary between calls


SPECS = {
    "segmentation": _Spec("audio", "log_probabilities", {0: "batch"}),
    "campplus": _Spec("fbank", "embedding", {0: "batch", 1: "frames"}),
}


def weights_hash(weights: Path) -> str:
    """SHA-256 of the weights file, read once per path, size and time (model_cache.remembered_hash)."""
    return remembered_hash(f"sha256|{file_stamp(weights)}", lambda: hash_file(weights))


def export_dir(name: str, weights: Path) -> Path:
    """Where the export of these weights is kept: keyed by their content, not their path."""
    return cache_dir() / "speaker-onnx" / f"{name}-{weights_hash(weights)[:16]}-v{EXPORT_VERSION}"


def exported(name: str, weights: Path, *, threads: int = 1) -> Path | None:
    """The checked ONNX file of speaker model `name`, exported first if needed; None when the export
    cannot be used (the cache is not writable, or the export did not give torch's outputs)."""
    target = export_dir(name, weights)
    model, check = target / f"{name}.onnx", target / "check.json"
    if check.is_file() and json.loads(check.read_text())["ok"] and not model.is_file():
        shutil.rmtree(target, ignore_errors=True)  # the model file was deleted by hand: made again
    if not check.is_file():
        try:
            _export_into(target, name, weights, threads=threads)
        except OSError:
            return None  # a read-only cache: torch runs the model, same outputs
    return model if json.loads(check.read_text())["ok"] and model.is_file() else None


def _export_into(target: Path, name: str, weights: Path, *, threads: int) -> None:
    """Export, check, and move the folder onto `target` whole (a concurrent run may have done it first)."""
    try:
        import torch
    except ImportError:
        raise ConfigError(
            f"speaker models: {target.parent} has no ONNX export of {weights.name} yet, and making it needs torch "
            "once: run `pip install torch==2.13.0` and ingest again, or set speakers.diarize: false"
        ) from None
    from pipeline.threads import torch_threads

    module = torch_module(name, weights)
    spec = SPECS[name]
    example = check_input(name)
    with staging_dir(target, f".{name}-") as staging:
        onnx_file = staging / f"{name}.onnx"
        result: dict[str, object] = {"weights": str(weights), "torch": torch.__version__, "opset": OPSET}
        try:
            with torch_threads(threads), torch.inference_mode():
                _trace(module, spec, example, onnx_file)
            difference = max_difference(onnx_file, TorchNetwork(module, threads=threads), example)
            result.update(ok=bool(difference <= TOLERANCE), max_abs_difference=difference, tolerance=TOLERANCE)
        except Exception as error:  # noqa: BLE001 - a torch whose exporter lacks an operator, an onnxruntime
            # that cannot load the file: recorded, not retried on every run, and torch runs the model.
            result.update(ok=False, error=f"{type(error).__name__}: {error}")
        (staging / "check.json").write_text(json.dumps(result, indent=1))
        staging.chmod(0o755)  # mkdtemp's folder is the owner's only; a server may run as another user
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / "check.json").is_file():
                raise


def _trace(module: torch.nn.Module, spec: _Spec, example: np.ndarray, onnx_file: Path) -> None:
    import warnings

    import torch

    # The tracer warns about instance norm's training flag and the LSTM's batch_first; the check
    # of outputs against torch is what says the export is right.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.from_numpy(example),),
            str(onnx_file),
            input_names=[spec.input],
            output_names=[spec.output],
            dynamic_axes={spec.input: spec.dynamic, spec.output: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def max_difference(onnx_file: Path, reference: Network, batch: np.ndarray) -> float:
    """Largest absolute difference between the ONNX model's and `reference`'s outputs on `batch`."""
    return float(np.abs(OnnxNetwork(onnx_file, threads=1)(batch) - reference(batch)).max())


def check_input(name: str) -> np.ndarray:
    """What the export is traced and checked with: two 10 s windows of the speech-like signal for the
    segmentation model, two 1.5 s pieces' fbank features for CAM++."""
    signal = speech_like(CHECK_SECONDS)
    if name == "segmentation":
        return signal[: 2 * WINDOW].reshape(2, 1, WINDOW)
    piece = int(1.5 * SAMPLE_RATE)
    feats = np.stack([fbank(signal[i * piece : (i + 1) * piece]) for i in (1, 4)])
    assert feats.shape[2] == N_MELS
    return feats


def speech_like(seconds: float, seed: int = 7) -> np.ndarray:
    """A deterministic stand-in for speech: 20 harmonics of a pitch gliding between two voices' ranges,
    shaped by syllable-rate bursts with pauses, over faint noise (16 kHz float32)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = np.where(np.sin(2 * np.pi * t / 6) > 0, 120.0, 210.0) * (1 + 0.1 * np.sin(2 * np.pi * 0.8 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 21))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) * ((t % 3.0) < 2.4)
    out = 0.1 * voiced * syllables + 0.003 * rng.standard_normal(len(t))
    return out.astype(np.float32)
