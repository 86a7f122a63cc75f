"""Benchmark: a nightly `heard ingest` over 1,000 recordings when nothing changed.

Generates N distinct short WAV recordings (real speech from examples/, each with a slightly
different noise floor so every file has its own hash), transcribes one of them with Whisper and
saves that transcript for every recording under its own id: a first `heard ingest` then finds
every recording already transcribed and only embeds and indexes them (transcribing 1,000 files
would take most of an hour and is not what this measures). Then it times, as a cron job would
run it (a fresh `heard ingest` process each time):

- the unchanged rerun (every file: one stat and one catalog lookup; nothing hashed),
- a rerun after every file's mtime changed (every file hashed; still nothing transcribed).

Usage: python scripts/bench_unchanged.py [--recordings 1000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def generate(folder: Path, count: int) -> list[Path]:
    import av
    import numpy as np

    from pipeline.hearing.audio import decode_audio

    speech = decode_audio(REPO / "examples" / "acme-export.mp3")[: 16000 * 3]
    rng = np.random.default_rng(0)
    paths = []
    for number in range(count):
        path = folder / f"batch-{number // 100:02d}" / f"call-{number:04d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        samples = speech + rng.normal(0, 0.001, speech.shape).astype(np.float32)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        with av.open(str(path), "w") as container:
            stream = container.add_stream("pcm_s16le", rate=16000, layout="mono")
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = 16000
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        paths.append(path)
    return paths


def seed_transcripts(paths: list[Path], data_dir: Path, config: Path) -> None:
    """One real transcription, saved under every recording's id (see the module docstring)."""
    import dataclasses

    from pipeline import transcripts
    from pipeline.config import load_settings
    from pipeline.hearing import transcribe
    from pipeline.sources import discovery

    settings = load_settings(config, data_dir)
    transcriber = transcribe.make_transcriber(settings.transcribe)
    template = transcribe.transcribe_recording(discovery.identify(paths[0]), transcriber)
    for path in paths:
        recording = discovery.identify(path)
        transcripts.save(
            dataclasses.replace(
                template, recording_id=recording.id, audio_sha256=recording.sha256, source=str(path), title=recording.title
            ),
            settings.transcripts_dir,
        )


def timed_ingest(folder: Path, data_dir: Path, config: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "cli", "--config", str(config), "--data-dir", str(data_dir),
         "ingest", str(folder), "--format", "json", "--quiet"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"heard ingest failed ({out.returncode}): {out.stderr.strip()}")
    return elapsed, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="timed unchanged reruns (median reported)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="heard-bench-") as tmp:
        root = args.keep or Path(tmp)
        folder, data_dir, config = root / "recordings", root / "data", root / "config.yaml"
        config.write_text("transcribe:\n  model: tiny.en\nembedding:\n  model: all-MiniLM-L6-v2\n")
        print(f"# Nightly ingest: unchanged rerun over {args.recordings} recordings", flush=True)
        started = time.perf_counter()
        paths = generate(folder, args.recordings)
        seed_transcripts(paths, data_dir, config)
        print(f"generated {len(paths)} recordings and their transcripts in {time.perf_counter() - started:.0f} s", flush=True)

        first, summary = timed_ingest(folder, data_dir, config)
        assert summary["new"] == args.recordings and summary["transcribed"] == 0, summary
        print(f"first ingest (embed + index {summary['chunks_written']} chunks, no Whisper): {first:.1f} s", flush=True)

        reruns = []
        for _ in range(args.runs):
            elapsed, summary = timed_ingest(folder, data_dir, config)
            assert summary["unchanged"] == args.recordings and summary["chunks_written"] == 0, summary
            reruns.append((elapsed, summary["wall_seconds"]))
        process = statistics.median(r[0] for r in reruns)
        inside = statistics.median(r[1] for r in reruns)
        print(f"unchanged rerun, whole `heard ingest` process: median {process:.2f} s of {args.runs} "
              f"({', '.join(f'{r[0]:.2f}' for r in reruns)}); inside the run: {inside:.2f} s", flush=True)

        now = time.time()
        for path in paths:
            os.utime(path, (now, now))
        touched, summary = timed_ingest(folder, data_dir, config)
        assert summary["unchanged"] == args.recordings and summary["transcribed"] == 0, summary
        print(f"rerun after every file's mtime changed (all hashed, nothing transcribed): {touched:.2f} s "
              f"(inside the run: {summary['wall_seconds']:.2f} s)", flush=True)
        print(json.dumps({
            "bench": "nightly_unchanged", "recordings": args.recordings, "first_ingest_s": round(first, 2),
            "unchanged_rerun_s": round(process, 2), "unchanged_rerun_inside_s": round(inside, 2),
            "touched_rerun_s": round(touched, 2), "cpus": os.cpu_count(),
        }))


if __name__ == "__main__":
    main()
