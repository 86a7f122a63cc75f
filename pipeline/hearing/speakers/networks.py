"""How the speaker models run: onnxruntime sessions of their ONNX exports (onnx_export.py), each with the
thread count pipeline/threads.py gives it, so `heard ingest` with faster-whisper never imports torch.

torch runs them only to export them once, and where an export cannot be used: the cache cannot be
written, or the exported model did not give torch's outputs (onnx_export.py checks it). On one
thread, diarizing the 15 real clips took 23% less CPU with onnxruntime than with torch, for the same
turns (docs/benchmarks.md, "Speaker models: onnxruntime against torch").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np

from pipeline.threads import onnx_session_options, wait_passively

if TYPE_CHECKING:
    import torch

    from pipeline.hearing.speakers.encoder import SpeakerEncoder
    from pipeline.hearing.speakers.segmentation import Segmenter

# A network as the diarizer calls it: a float32 batch in, the network's float32 output out.
Network: TypeAlias = Callable[[np.ndarray], np.ndarray]
Runtime = Literal["onnx", "torch"]
MODELS = ("segmentation", "campplus")


class OnnxNetwork:
    """One onnxruntime session: `threads` intra-op threads, one inter-op thread, sequential, no spinning."""

    def __init__(self, model: Path, *, threads: int) -> None:
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(model), onnx_session_options(threads), providers=["CPUExecutionProvider"])
        self._input = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.asarray(self.session.run(None, {self._input: batch})[0])
        return out


class TorchNetwork:
    """The torch module itself, run with `threads` torch threads (restored afterwards)."""

    def __init__(self, module: torch.nn.Module, *, threads: int) -> None:
        self.module = module
        self.threads = threads

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        from pipeline.threads import torch_threads

        with torch_threads(self.threads), torch.inference_mode():
            out: np.ndarray = self.module(torch.from_numpy(batch)).numpy()
        return out


def torch_module(name: str, weights: Path) -> torch.nn.Module:
    """The torch network `name` ("segmentation" or "campplus") with its weights loaded."""
    from pipeline.hearing.speakers.encoder import load_campplus
    from pipeline.hearing.speakers.segmentation import load_pyannet

    return load_pyannet(weights) if name == "segmentation" else load_campplus(weights)


def load(files: dict[str, Path], *, threads: int, runtime: Runtime = "onnx") -> dict[str, Network]:
    """Each speaker model ready to run: its ONNX export in onnxruntime (exported first if needed),
    or the torch module where runtime is "torch" or the export cannot be used."""
    from pipeline.hearing.speakers import onnx_export

    out: dict[str, Network] = {}
    for name in MODELS:
        exported = onnx_export.exported(name, files[name], threads=threads) if runtime == "onnx" else None
        if exported is not None:
            out[name] = OnnxNetwork(exported, threads=threads)
        else:
            out[name] = TorchNetwork(torch_module(name, files[name]), threads=threads)
    return out


class SpeakerModels:
    """segmentation-3.0 and CAM++ with their weights, ready for the diarizer (diarize.py)."""

    segmenter: Segmenter
    encoder: SpeakerEncoder

    def __init__(self, threads: int, runtime: Runtime = "onnx") -> None:
        from pipeline.hearing.speakers.encoder import SpeakerEncoder
        from pipeline.hearing.speakers.segmentation import Segmenter
        from pipeline.hearing.weights import speaker_weights

        wait_passively()  # before a BLAS or OpenMP runtime loads (pipeline/threads.py)
        loaded = load(speaker_weights(), threads=threads, runtime=runtime)
        self.segmenter = Segmenter(loaded["segmentation"])
        self.encoder = SpeakerEncoder(loaded["campplus"])


@functools.lru_cache(maxsize=2)
def shared_models(threads: int = 1, runtime: Runtime = "onnx") -> SpeakerModels:
    """One copy per process and thread count (each ONNX session is made with its threads); loading
    both from the cached exports costs about a quarter of a second of CPU."""
    return SpeakerModels(threads, runtime)
