"""resemblyzer's speaker encoder (a 3-layer LSTM over 1.6 s of mel frames -> a 256-d voice vector)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError
from pipeline.threads import limit_torch

BATCH = 128  # windows per encoder pass: bounds memory on long recordings


class VoiceEncoder:
    """resemblyzer's speaker encoder, loaded from the wheel's own weights.

    The network is rebuilt here rather than imported: importing the `resemblyzer` package imports
    webrtcvad, which fails with current setuptools (no pkg_resources), and its VAD is not needed.
    """

    def __init__(self, threads: int = 1):
        import torch

        spec = importlib.util.find_spec("resemblyzer")
        if spec is None or spec.origin is None:
            raise ConfigError("resemblyzer is not installed; run: pip install resemblyzer")
        weights = Path(spec.origin).parent / "pretrained.pt"
        limit_torch(threads)

        class Encoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
                self.linear = torch.nn.Linear(256, 256)

            def forward(self, mels):
                _, (hidden, _) = self.lstm(mels)
                raw = torch.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

        self._torch = torch
        self.model = Encoder()
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self.model.load_state_dict({k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))})
        self.model.eval()

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(windows, frames, 40) mel power frames -> (windows, 256) unit vectors."""
        with self._torch.inference_mode():
            return np.concatenate(
                [
                    self.model(self._torch.from_numpy(np.ascontiguousarray(mels[i : i + BATCH], dtype=np.float32))).numpy()
                    for i in range(0, len(mels), BATCH)
                ]
            )


@functools.lru_cache(maxsize=2)
def shared_encoder(threads: int = 1) -> VoiceEncoder:
    """One encoder per process: loading the weights costs about a second."""
    return VoiceEncoder(threads)
