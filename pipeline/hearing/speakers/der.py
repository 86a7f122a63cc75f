"""Diarization error rate (NIST style): missed speech, false alarm and speaker confusion over reference speech.

Scored on a 10 ms grid. Around every reference turn boundary a `collar` (seconds each side) is not
scored, as md-eval and pyannote.metrics do. Hypothesis speakers are mapped one-to-one onto reference
speakers so that the matched time is largest (Hungarian assignment); overlapping speech counts each
speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP = 0.01

Turn = tuple[float, float, str]  # start, end, speaker


@dataclass
class DERResult:
    der: float
    missed: float  # seconds
    false_alarm: float
    confusion: float
    total: float  # scored reference speech, seconds

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


def _activity(turns: list[Turn], speakers: list[str], n: int) -> np.ndarray:
    grid = np.zeros((len(speakers), n), dtype=bool)
    index = {s: i for i, s in enumerate(speakers)}
    for start, end, speaker in turns:
        grid[index[speaker], int(round(start / STEP)) : int(round(end / STEP))] = True
    return grid


def diarization_error_rate(reference: list[Turn], hypothesis: list[Turn], collar: float = 0.25) -> DERResult:
    from scipy.optimize import linear_sum_assignment

    end = max([t[1] for t in reference] + [t[1] for t in hypothesis] + [0.0])
    n = int(round(end / STEP)) + 1
    ref_speakers = sorted({t[2] for t in reference})
    hyp_speakers = sorted({t[2] for t in hypothesis})
    ref = _activity(reference, ref_speakers, n)
    hyp = _activity(hypothesis, hyp_speakers, n)

    scored = np.ones(n, dtype=bool)
    for start, stop, _ in reference:
        for boundary in (start, stop):
            scored[max(0, int(round((boundary - collar) / STEP))) : int(round((boundary + collar) / STEP))] = False
    ref, hyp = ref[:, scored], hyp[:, scored]

    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # frames where ref speaker i and hyp speaker j both talk
    rows, cols = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    matched = int(overlap[rows, cols].sum()) if len(rows) else 0

    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = int(n_ref.sum())
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - matched
    der = (missed + false_alarm + confusion) / total if total else 0.0
    return DERResult(der, missed * STEP, false_alarm * STEP, confusion * STEP, total * STEP)


def read_rttm(text: str, uri: str | None = None) -> list[Turn]:
    """SPEAKER lines of an RTTM file as turns; only those of one recording (`uri`) when given."""
    turns = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER" and (uri is None or fields[1] == uri):
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration, fields[7]))
    return turns
