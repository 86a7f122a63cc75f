"""Each window's voices as pieces of speech with a voice vector, and the speaker turns they give back.

segmentation-3.0 says which of up to three local speakers talks in each frame of a 10 s window;
each local speaker with enough speech becomes a Piece: up to PIECE_SECONDS of its speech (preferring
frames where it talks alone), embedded by CAM++. clustering.py joins the pieces into speakers and
`speaker_spans` turns the windows' frames back into time spans per speaker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pipeline.hearing.speakers.segmentation import FRAME_STEP, FRAMES, SAMPLE_RATE, WINDOW, Window, frame_seconds

# Each local speaker of a window is embedded from at most this much of its speech heard alone. On
# the dev clips: 1.5 s DER 0.189 with 19% less CPU than 2 s (0.186); 1.25 s 0.190 with more
# speaker-count errors; 1 s 0.425. The encoder's cost grows with it.
PIECE_SECONDS = 1.5
MIN_PIECE_SECONDS = 0.3  # less is not embedded (its frames are left out of the turns)
PENDING = 32  # pieces embedded at once: only their audio is held, never the whole recording's


class _Segmenter(Protocol):
    def windows(self, samples: np.ndarray) -> Iterator[Window]: ...


class _Encoder(Protocol):
    def embed(self, pieces: list[np.ndarray]) -> np.ndarray: ...


@dataclass
class Piece:
    window: int
    local: int  # 0-2, the segmentation model's speaker slot in that window
    seconds: float  # the local speaker's speech in the window


@dataclass
class Pieces:
    """What the two networks found in a recording: everything clustering needs."""

    windows: list[Window]
    pieces: list[Piece]
    embeddings: np.ndarray  # one unit CAM++ vector per piece
    n_samples: int


def embedded_pieces(
    samples: np.ndarray, segmenter: _Segmenter, encoder: _Encoder, *, windows: Iterable[Window] | None = None
) -> Pieces:
    """The segmentation windows (`windows` when the caller has them: the transcription step computes
    them for Whisper), each local speaker's piece of speech and its voice vector (one row per
    piece). Pieces are embedded PENDING at a time, so only their audio is held."""
    seen: list[Window] = []
    pieces: list[Piece] = []
    vectors: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for window in segmenter.windows(samples) if windows is None else windows:
        for local, (piece, seconds) in window_pieces(samples, window).items():
            pieces.append(Piece(len(seen), local, seconds))
            pending.append(piece)
        seen.append(window)
        if len(pending) >= PENDING:
            vectors.append(encoder.embed(pending))
            pending = []
    if pending:
        vectors.append(encoder.embed(pending))
    embeddings = np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
    return Pieces(seen, pieces, embeddings, len(samples))


def window_pieces(samples: np.ndarray, window: Window) -> dict[int, tuple[np.ndarray, float]]:
    """Local speaker -> (up to PIECE_SECONDS of its speech, preferring frames where it talks alone; its speech seconds)."""
    out = {}
    for local in range(3):
        seconds = float(window.active[:, local].sum() * FRAME_STEP)
        if seconds < MIN_PIECE_SECONDS:
            continue
        piece = middle_audio(samples, window, heard_frames(window.active, local))
        if len(piece) >= MIN_PIECE_SECONDS * SAMPLE_RATE:
            out[local] = (piece, seconds)
    return out


def heard_frames(active: np.ndarray, local: int, first: int = 0, end: int = FRAMES) -> np.ndarray:
    """The frames of one local speaker (between first and end) that its voice vector is made from:
    those where it talks alone, when there are enough of them, else all of its frames."""
    mine = np.zeros(len(active), dtype=bool)
    mine[first:end] = active[first:end, local]
    alone = mine & (active.sum(axis=1) == 1)
    return alone if alone.sum() * FRAME_STEP >= MIN_PIECE_SECONDS else mine


def middle_audio(samples: np.ndarray, window: Window, mask: np.ndarray) -> np.ndarray:
    """The audio of the window's frames in mask, joined, and of that at most PIECE_SECONDS from the
    middle: the edges of a turn carry the neighbours' voices most."""
    parts = []
    for first, last in runs(mask):
        a = window.start + int((frame_seconds(first) - 0.01) * SAMPLE_RATE)
        b = window.start + int((frame_seconds(last - 1) + 0.01) * SAMPLE_RATE)
        parts.append(samples[max(a, 0) : min(b, len(samples))])
    piece = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    cap = int(PIECE_SECONDS * SAMPLE_RATE)
    return piece[(len(piece) - cap) // 2 :][:cap] if len(piece) > cap else piece


def speaker_spans(
    windows: list[Window],
    speaker_of: dict[tuple[int, int], int],
    n_samples: int,
    *,
    frame_speakers: dict[tuple[int, int], np.ndarray] | None = None,
) -> dict[int, list[list[float]]]:
    """Speaker index -> [start, end] seconds of each run of its frames, window by window.
    `frame_speakers`: (window, local) -> speaker per frame, for slots whose runs went to different
    speakers (relisten.py); other slots give all their frames to speaker_of's speaker."""
    spans: dict[int, list[list[float]]] = {}
    for w, window in enumerate(windows):
        start = window.start / SAMPLE_RATE
        # The last window may start inside the one before: it only speaks for the part after it.
        floor = (windows[w - 1].start + WINDOW) / SAMPLE_RATE if w else 0.0
        end = min(start + WINDOW / SAMPLE_RATE, n_samples / SAMPLE_RATE)
        for local in range(3):
            speaker = speaker_of.get((w, local))
            if speaker is None:
                continue
            labels = (frame_speakers or {}).get((w, local), np.full(FRAMES, speaker))
            for first, last, speaker in _speaker_runs(window.active[:, local], labels):
                # Speech running into the window's edge runs to the edge: the next window goes on.
                a = max(floor, start if first == 0 else start + frame_seconds(first) - FRAME_STEP / 2)
                b = min(end, end if last == FRAMES else start + frame_seconds(last - 1) + FRAME_STEP / 2)
                if b > a:
                    spans.setdefault(speaker, []).append([a, b])
    return spans


def _speaker_runs(active: np.ndarray, labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(first, end, speaker) of each run of active frames with one speaker."""
    return [(a, b, int(k)) for k in np.unique(labels[active]) for a, b in runs(active & (labels == k))]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) index ranges where mask is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))
