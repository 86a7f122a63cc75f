"""Benchmark: issue 23's budgets for highlights and reports.

- a report of 50 quotes builds in under 10 s with clips and under 2 s without;
- its file stays under 5 MB for 50 clips of 10 s;
- saving a highlight answers in under 100 ms.

Data: the first dev set's interviews (scripts/devset, synthesized into build/devset if missing, as
`make eval` does), ingested once into build/bench-evidence/data. A collection of N quotes is saved
from it, each a window of a customer's words whose clip (with evidence.clip_pad on each side) lasts
the given seconds; the dev set has too little customer speech for 50 separate 10 s windows, so a
window starts every quarter of its length and 50 of them, evenly spread, are kept. Timed:

- save: `pipeline.evidence.highlights.save` in this process, each call reading the transcript,
  metadata and names afresh as one `heard save` does; the page's POST /collections/save through a
  real server (uvicorn, in a thread); and `heard save` as its own process (start to exit);
- report: built (the collection's quotes and their themes) over a Searcher whose embedding model is
  loaded, as the page's "Download report" builds it, then written with and without clips; and
  `heard report --collection ... -o FILE.html` as its own process (imports and model load included).

Run it alone (no other benchmark at the same time): `python scripts/bench_evidence.py`. Usage: python scripts/bench_evidence.py [--quotes 50] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEVSET = REPO / "build" / "devset"
DATA = REPO / "build" / "bench-evidence" / "data"
RESULTS = REPO / "build" / "bench" / "evidence.json"
HEARD = [sys.executable, "-m", "cli"]


def prepare() -> None:
    """The dev set's recordings, ingested once."""
    if not (DEVSET / "recordings").is_dir():
        subprocess.run([sys.executable, str(REPO / "scripts" / "make_devset.py"), "--out", str(DEVSET)], check=True)
    if not (DATA / "index").is_dir():
        subprocess.run([*HEARD, "--data-dir", str(DATA), "ingest", str(DEVSET / "recordings"), "--quiet"], cwd=REPO, check=True)


def windows(settings, count: int, seconds: float) -> list[str]:
    """Quote ids of `count` windows of customers' words, each `seconds` long once padded."""
    from pipeline import transcripts
    from pipeline.evidence.spans import Recordings
    from pipeline.finding.hits import make_quote_id

    recordings = Recordings(settings)
    length = seconds - 2 * settings.evidence.clip_pad
    found: list[str] = []
    for path in sorted(settings.transcripts_dir.glob("*.json")):
        transcript = transcripts.load(path)
        names = recordings.people(transcript)
        words = [w for s in transcript.segments if names.get(s.speaker or "") and names[s.speaker].role == "customer" for w in s.words]
        at = 0
        while at < len(words):
            last = next((j for j in range(at, len(words)) if words[j].end - words[at].start >= length), None)
            if last is None or words[last].end - words[at].start > length + 1.0:
                at += 1
                continue
            found.append(make_quote_id(transcript.recording_id, words[at].start, words[last].end))
            at = next((j for j in range(at, len(words)) if words[j].start >= words[at].start + length / 4), len(words))
    if len(found) < count:
        raise SystemExit(f"only {len(found)} windows of {seconds} s in {DEVSET}; ask for fewer --quotes")
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 4),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4),
        "max": round(ordered[-1], 4),
        "n": len(ordered),
    }


def time_saves(settings, quote_ids: list[str]) -> dict[str, float]:
    from pipeline.evidence.highlights import save

    taken = []
    for quote_id in quote_ids:
        start = time.perf_counter()
        save(settings, quote_id, "bench", note="a note", tags=("pricing",))
        taken.append(time.perf_counter() - start)
    return summary(taken)


def time_page_saves(settings, quote_ids: list[str]) -> dict[str, float]:
    from pipeline.web.serve import bind, make_server

    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = make_server(settings, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    taken = []
    try:
        for quote_id in quote_ids:
            body = f"quote_id={quote_id}&to=page".encode()
            headers = {"Origin": url, "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
            request = urllib.request.Request(f"{url}/collections/save", data=body, headers=headers, method="POST")
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            taken.append(time.perf_counter() - start)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    return summary(taken)


def time_process(args: list[str], data_dir: Path, runs: int) -> dict[str, float]:
    taken = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*HEARD, "--data-dir", str(data_dir), *args], cwd=REPO, check=True, capture_output=True)
        taken.append(time.perf_counter() - start)
    return summary(taken)


def timed(step, *args, **kwargs) -> tuple[object, float, float]:
    """(what step(...) returned, wall seconds, CPU seconds of this process): on a shared machine the CPU
    time is what the step costs, the wall time what it took with the other jobs running."""
    wall, cpu = time.perf_counter(), time.process_time()
    found = step(*args, **kwargs)
    return found, time.perf_counter() - wall, time.process_time() - cpu


def time_reports(settings, out: Path, runs: int) -> dict[str, object]:
    from pipeline.evidence.report import collection_report
    from pipeline.evidence.writing import write
    from pipeline.finding.searcher import Searcher

    taken: dict[str, list[float]] = {}
    with Searcher(settings) as searcher:
        searcher.embedder.encode_queries(["warm up"])  # loaded once, as the page's server holds it
        collection_report(settings, "bench", searcher=searcher)  # and scikit-learn imported, as after a first themes page
        for _ in range(runs):
            report, *build = timed(collection_report, settings, "bench", searcher=searcher)
            with_clips, *clips = timed(write, report, out / "with-clips.html", settings, clips=True)
            without, *plain = timed(write, report, out / "without-clips.html", settings, clips=False)
            for name, (wall, cpu) in {"build": build, "write_with_clips": clips, "write_without_clips": plain}.items():
                taken.setdefault(f"{name}_wall", []).append(wall)
                taken.setdefault(f"{name}_cpu", []).append(cpu)
            for kind in ("wall", "cpu"):
                taken.setdefault(f"with_clips_{kind}", []).append(taken[f"build_{kind}"][-1] + taken[f"write_with_clips_{kind}"][-1])
                taken.setdefault(f"without_clips_{kind}", []).append(taken[f"build_{kind}"][-1] + taken[f"write_without_clips_{kind}"][-1])
    return {
        "quotes": len(report.quotes),
        "themes": len(report.themes),
        "clip_seconds": round(sum(q.clip.end - q.clip.start for q in report.quotes if q.clip), 1),
        **{name: summary(values) for name, values in taken.items()},
        "bytes_with_clips": with_clips.size,
        "bytes_without_clips": without.size,
        "clips": with_clips.clips,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from pipeline import threads
    from pipeline.config import load_settings

    threads.wait_passively()
    prepare()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as scratch:
        data_dir = Path(scratch) / "data"
        shutil.copytree(DATA, data_dir)
        settings = load_settings(None, data_dir, environ={})
        quote_ids = windows(settings, args.quotes, args.seconds)
        load_before = os.getloadavg()
        found = {
            "quotes": args.quotes,
            "clip_seconds_each": args.seconds,
            "save_in_process_s": time_saves(settings, quote_ids),
            "save_page_post_s": time_page_saves(settings, quote_ids[:20]),
            "save_cli_process_s": time_process(["save", quote_ids[0], "--to", "cli"], data_dir, args.runs),
            "report": time_reports(settings, Path(scratch), args.runs),
            "report_cli_process_s": time_process(
                ["report", "--collection", "bench", "-o", str(Path(scratch) / "cli.html")], data_dir, args.runs
            ),
            "report_cli_process_no_clips_s": time_process(
                ["report", "--collection", "bench", "--no-clips", "-o", str(Path(scratch) / "cli.html")], data_dir, args.runs
            ),
            "load_average_before": [round(x, 1) for x in load_before],
            "load_average_after": [round(x, 1) for x in os.getloadavg()],
            "cores": os.cpu_count(),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=1))
    report = found["report"]
    print(f"{args.quotes} quotes, clips of {args.seconds:g} s ({report['clip_seconds']} s of audio); raw: {RESULTS}")
    print(f"save, in process:       median {found['save_in_process_s']['median'] * 1000:.0f} ms, max {found['save_in_process_s']['max'] * 1000:.0f} ms (budget 100 ms)")
    print(f"save, page POST:        median {found['save_page_post_s']['median'] * 1000:.0f} ms, max {found['save_page_post_s']['max'] * 1000:.0f} ms")
    print(f"save, `heard save`:     median {found['save_cli_process_s']['median']:.2f} s (a new process: Python, imports)")
    for name, budget in (("with_clips", 10), ("without_clips", 2)):
        size = report[f"bytes_{name}"] / 1e6
        print(
            f"report {name.replace('_', ' ')}: median {report[f'{name}_wall']['median']:.2f} s wall, "
            f"{report[f'{name}_cpu']['median']:.2f} s CPU (budget {budget} s), {size:.2f} MB"
        )
    print(f"  built in {report['build_cpu']['median']:.2f} s CPU ({report['themes']} themes); {report['clips']} clips (size budget 5 MB)")
    print(f"`heard report` process: median {found['report_cli_process_s']['median']:.2f} s with clips, {found['report_cli_process_no_clips_s']['median']:.2f} s without (imports and model load included)")
    print(f"load average {found['load_average_before']} before, {found['load_average_after']} after, {found['cores']} cores")


if __name__ == "__main__":
    main()
