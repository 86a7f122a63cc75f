"""Cheaper variants of the second pass over voices (pipeline/hearing/speakers/relisten.py), measured
against its cost. None of them is in heard: each was measured and not kept (docs/benchmarks.md,
"The second pass's cost against the wrong-role target", issue 24 round 6).

    python scripts/relisten_levers.py words VARIANT [bench_speakers.py options]
        the long conversations' figures (scripts/bench_speakers.py --long-only ...) with VARIANT, and
        how many runs the pass heard again
    python scripts/relisten_levers.py cost [--minutes 15]
        the diarizer's CPU (one thread) on make bench's HELD-BACK long interview with the pass off,
        pauses only, main, and each VARIANT below, against Whisper's CPU (ingest's settings) in the
        same process, two interleaved rounds

VARIANT (main is `halves`):
  halves        main: long runs heard as halves where halves_wanted (close voices, <= 3 speakers)
  pauses        no halves (relisten.HALVE_CLOSER = -1)
  off           no second pass at all
  closer=D      halves only where the closest voices are under D apart (main: 0.9)
  margin=M      halves only in slots whose vector's two highest similarities to the speakers' mean
                voices are under M apart (a slot heard as one voice whose vector sits between two)
  lone          halves only in slots that are their window's only slot of >= 2 s
  seconds=S     every run heard from at most S s of its middle (main: pieces.PIECE_SECONDS, 1.5)
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.hearing.speakers import relisten  # noqa: E402
from pipeline.hearing.speakers.pieces import Pieces  # noqa: E402

MAIN = {name: getattr(relisten, name) for name in ("HALVE_CLOSER", "MIN_RECORDING_SECONDS", "split_slots", "middle_audio")}
_main_frame_speakers = relisten.frame_speakers
RUNS = {"heard": 0}


def _counting_split(chosen: Callable[[Pieces, np.ndarray, int], bool] | None) -> Callable[..., list[tuple[int, int, int]]]:
    """relisten.split_slots with the halves only in the slots `chosen` picks (all when None), counting runs."""
    means_now: dict[str, np.ndarray] = {}

    def frame_speakers(pieces: Pieces, speaker_of: Any, means: np.ndarray, samples: np.ndarray, encoder: Any) -> Any:
        means_now["means"] = means
        return _main_frame_speakers(pieces, speaker_of, means, samples, encoder)

    def split_slots(pieces: Pieces, *, halve: bool = False) -> list[tuple[int, int, int]]:
        whole = MAIN["split_slots"](pieces, halve=False)
        if halve and chosen is not None:
            halved = MAIN["split_slots"](pieces, halve=True)
            keep = {i for i in range(len(pieces.pieces)) if chosen(pieces, means_now["means"], i)}
            whole = [r for r in halved if r[0] in keep] + [r for r in whole if r[0] not in keep]
        elif halve:
            whole = MAIN["split_slots"](pieces, halve=True)
        RUNS["heard"] += len(whole)
        return whole

    relisten.frame_speakers = frame_speakers
    return split_slots


def _between(margin: float) -> Callable[[Pieces, np.ndarray, int], bool]:
    def chosen(pieces: Pieces, means: np.ndarray, i: int) -> bool:
        voiced = means[np.abs(means).sum(axis=1) > 0]
        two = np.sort(voiced @ pieces.embeddings[i])[-2:]
        return len(two) == 2 and float(two[1] - two[0]) < margin

    return chosen


def _lone(pieces: Pieces, means: np.ndarray, i: int) -> bool:
    window = pieces.pieces[i].window
    return sum(p.window == window and p.seconds >= relisten.SLOT_SECONDS for p in pieces.pieces) <= 1


def _shorter(seconds: float) -> Callable[..., np.ndarray]:
    def middle_audio(samples: np.ndarray, window: Any, mask: np.ndarray) -> np.ndarray:
        piece: np.ndarray = MAIN["middle_audio"](samples, window, mask)
        cap = int(seconds * 16_000)
        return piece[(len(piece) - cap) // 2 :][:cap] if len(piece) > cap else piece

    return middle_audio


def use(variant: str) -> None:
    """Put VARIANT in place of main's second pass (undoing the one before)."""
    for name, value in MAIN.items():
        setattr(relisten, name, value)
    relisten.frame_speakers = _main_frame_speakers
    name, _, value = variant.partition("=")
    chosen: Callable[[Pieces, np.ndarray, int], bool] | None = None
    if name == "pauses":
        relisten.HALVE_CLOSER = -1.0
    elif name == "off":
        relisten.MIN_RECORDING_SECONDS = float("inf")
    elif name == "closer":
        relisten.HALVE_CLOSER = float(value)
    elif name == "margin":
        chosen = _between(float(value))
    elif name == "lone":
        chosen = _lone
    elif name == "seconds":
        relisten.middle_audio = _shorter(float(value))
    elif name != "halves":
        raise SystemExit(f"unknown variant {variant!r}: see the docstring")
    relisten.split_slots = _counting_split(chosen)


def words(variant: str, bench_args: list[str]) -> None:
    import bench_speakers

    use(variant)
    atexit.register(lambda: print(f"runs heard again with {variant}: {RUNS['heard']}", flush=True))
    sys.argv = ["bench_speakers.py", *bench_args]
    bench_speakers.main()


def cost(minutes: float, variants: list[str]) -> None:
    import bench_ingest

    from pipeline import threads
    from pipeline.config import SpeakersSettings, TranscribeSettings
    from pipeline.hearing import audio, transcribe
    from pipeline.hearing.speakers.diarize import diarize

    samples = audio.decode_audio(bench_ingest.long_interview(minutes) / "interview.wav")
    speaker_threads = threads.speaker_threads(SpeakersSettings())
    transcriber = transcribe.make_transcriber(TranscribeSettings(beam_size=5))
    transcriber.transcribe(samples[: 16_000 * 5]), diarize(samples[: 16_000 * 5], threads=speaker_threads)
    cpu: dict[str, list[float]] = {}
    for _ in range(2):
        started = time.process_time()
        transcribe.transcribe_in_windows(transcriber, samples)
        cpu.setdefault("whisper", []).append(time.process_time() - started)
        for variant in ["off", "pauses", "halves", *variants]:
            use(variant)
            started = time.process_time()
            diarize(samples, threads=speaker_threads)
            cpu.setdefault(variant, []).append(time.process_time() - started)
    whisper = float(np.median(cpu["whisper"]))
    print(f"{len(samples) / 16_000 / 60:.1f} min; CPU seconds per round, and the median's share of Whisper's")
    for name, seconds in cpu.items():
        print(f"{name:14s} {' '.join(f'{s:6.2f}' for s in seconds)}   {100 * float(np.median(seconds)) / whisper:5.1f}%")
    print(json.dumps({k: [round(s, 2) for s in v] for k, v in cpu.items()}))


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("words", "cost"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "words":
        words(sys.argv[2], sys.argv[3:])
    else:
        args = sys.argv[2:]
        minutes = float(args[args.index("--minutes") + 1]) if "--minutes" in args else 15.0
        cost(minutes, [a for a in args if "=" in a or a == "lone"])


if __name__ == "__main__":
    main()
