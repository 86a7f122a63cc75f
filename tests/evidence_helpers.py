"""What the evidence tests share: a data dir whose transcript was written from a recording's true
turns (no model), and finding where a clip's audio lies in its recording by cross-correlation."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from conftest import EXAMPLES, TRUTH

from pipeline import transcripts
from pipeline.sources.discovery import identify
from pipeline.transcripts import Segment, Transcript, Word

LABELS = {"interviewer": "S1", "customer": "S2"}


@dataclass
class Handmade:
    data_dir: Path
    recording: Path
    recording_id: str
    transcript: Transcript

    def quote_id(self, needle: str) -> str:
        """The quote id of the segment (a true turn) whose text holds `needle`: its first word's start
        to its last word's end, as search makes them."""
        from pipeline.finding.hits import make_quote_id

        segment = next(s for s in self.transcript.segments if needle in s.text)
        return make_quote_id(self.recording_id, segment.words[0].start, segment.words[-1].end)


def handmade(tmp_path: Path, name: str = "acme-export.mp3") -> Handmade:
    """A data dir holding one recording's transcript written from its true turns (tests/data), each
    turn a segment whose words share its time evenly: what ingest would write, without Whisper."""
    folder = tmp_path / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    recording = Path(shutil.copy(EXAMPLES / name, folder / name))
    sidecar = EXAMPLES / f"{Path(name).stem}.yaml"
    if sidecar.is_file():
        shutil.copy(sidecar, folder / sidecar.name)
    truth = json.loads((TRUTH / f"{Path(name).stem}.turns.json").read_text())
    found = identify(recording)
    segments = []
    for turn in truth["turns"]:
        texts = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(texts)
        words = [Word(round(turn["start"] + i * step, 3), round(turn["start"] + (i + 1) * step, 3), " " + t) for i, t in enumerate(texts)]
        segments.append(Segment(turn["start"], turn["end"], turn["text"], LABELS[turn["speaker"]], words))
    transcript = Transcript(
        recording_id=found.id,
        audio_sha256=found.sha256,
        source=str(recording),
        title=truth["title"],
        duration=segments[-1].end + 1,
        language="en",
        transcriber={"backend": "test", "model": "true turns"},
        segments=segments,
    )
    data_dir = tmp_path / "data"
    transcripts.save(transcript, data_dir / "transcripts")
    return Handmade(data_dir, recording, found.id, transcript)


def locate(clip: np.ndarray, recording: np.ndarray, around: float, rate: int = 16_000, search: float = 2.0) -> tuple[float, float]:
    """(second, correlation): where in `recording` the clip's audio starts, searched within `search`
    seconds of `around`, by normalized cross-correlation; a lossy encoding of the same audio
    correlates near 1, other speech near 0."""
    from scipy.signal import correlate

    first = max(0, int((around - search) * rate))
    window = recording[first : first + len(clip) + int(2 * search * rate)]
    scores = correlate(window, clip, mode="valid", method="fft")
    running = np.concatenate([[0.0], np.cumsum(window.astype(np.float64) ** 2)])
    energy = np.sqrt((running[len(clip) :] - running[: -len(clip)]) * float(np.sum(clip.astype(np.float64) ** 2)))
    normalized = scores / np.maximum(energy, 1e-9)
    best = int(np.argmax(normalized))
    return (first + best) / rate, float(normalized[best])
