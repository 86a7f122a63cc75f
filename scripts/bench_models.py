"""What each embedding model costs: disk, a cold and a warm query, re-embedding the hard dev set.

    python scripts/bench_models.py [--rounds 3] [--skip-reindex]

Measured on the hard dev set's indexes that `make eval-models` built (build/devset-hard-data/,
build/mpnet-devset-hard-data/, build/multilingual-e5-devset-hard-data/); a model whose index is
missing is skipped with a note. For each model:
- disk: its folder (the wheel's, or the one built into ~/.cache/heard), its ONNX export, and the
  wheels' installed pieces where the folder is built from them;
- cold query: `heard search` in a fresh process, wall time (imports, model load, one search);
- warm query: one `Searcher.search` (k=5) in a loaded process, over the held-out queries, and the
  query's encoding alone;
- reindex: `heard reindex` of a copy of the hard set's data dir (every chunk embedded again, what an
  ingest adds to Whisper's time).
Rounds interleave the models, so each figure has the default's beside it from the same minutes;
ratios to the first model are printed. Run it alone (no other benchmark at the same time) and say
how busy the machine was: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEARD = str(Path(sys.executable).with_name("heard"))
MODELS = (  # (name, config or None, data dir prefix)
    ("all-MiniLM-L6-v2", None, "build/"),
    ("all-mpnet-base-v2", "scripts/configs/mpnet.yaml", "build/mpnet-"),
    ("multilingual-e5-small", "scripts/configs/multilingual-e5.yaml", "build/multilingual-e5-"),
)
COLD_QUERY = "what do customers say about pricing"


def folder_bytes(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def disk(name: str) -> dict[str, float]:
    """MB of the model's folder, its ONNX export, and the installed wheels it is built from."""
    from pipeline.indexing.embedding_models import MPNET_PARTS
    from pipeline.indexing.model_files import local_folder
    from pipeline.indexing.onnx_encoder import cached_export
    from pipeline.model_cache import package_dir

    folder = local_folder(name)
    export = cached_export(folder) if folder else None
    wheels = [package_dir(part) for part in MPNET_PARTS] if name == "all-mpnet-base-v2" else []
    mb = 1024 * 1024
    return {
        "folder": folder_bytes(folder) / mb,
        "onnx": (export.stat().st_size if export and export.is_file() else 0) / mb,
        "wheels": sum(folder_bytes(w) for w in wheels) / mb,
    }


def config_args(config: str | None) -> list[str]:
    return ["--config", str(ROOT / config)] if config else []


def cold_query(config: str | None, data: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [HEARD, *config_args(config), "--data-dir", str(data), "search", COLD_QUERY, "-k", "5", "--format", "json"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def warm_queries(config: str | None, data: Path, queries: list[str]) -> tuple[float, float]:
    """Median seconds of one search and of one query's encoding, model loaded and warmed up."""
    from pipeline.config import load_settings
    from pipeline.finding.searcher import Searcher

    settings = load_settings(ROOT / config if config else None, data_dir=data, environ={})
    with Searcher(settings) as searcher:
        searcher.search(queries[0], k=5)  # loads the model, reads the keyword index
        searches, encodes = [], []
        for query in queries:
            started = time.perf_counter()
            searcher.search(query, k=5)
            searches.append(time.perf_counter() - started)
            started = time.perf_counter()
            searcher.embedder.encode_queries([query])
            encodes.append(time.perf_counter() - started)
    return statistics.median(searches), statistics.median(encodes)


def reindex(config: str | None, data: Path) -> float:
    """Seconds of `heard reindex` over a copy of `data` (transcripts and catalog; no index needed)."""
    copy = ROOT / "build" / "bench-models" / data.name
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    shutil.copytree(data / "transcripts", copy / "transcripts")
    for name in os.listdir(data):
        if name.startswith("catalog.sqlite3"):
            shutil.copy(data / name, copy / name)
    started = time.perf_counter()
    subprocess.run([HEARD, *config_args(config), "--data-dir", str(copy), "reindex"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(copy, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-reindex", action="store_true")
    args = parser.parse_args()
    from pipeline.finding.eval import load_queries

    queries = [q.query for q in load_queries(ROOT / "build" / "devset-hard" / "queries-heldout.yaml")]
    present = [(n, c, ROOT / f"{p}devset-hard-data") for n, c, p in MODELS if (ROOT / f"{p}devset-hard-data" / "index").is_dir()]
    for name, _, prefix in MODELS:
        if not (ROOT / f"{prefix}devset-hard-data" / "index").is_dir():
            print(f"skipped {name}: no {prefix}devset-hard-data/index (make eval-models builds it)")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows: dict[str, dict[str, list[float]]] = {name: {} for name, _, _ in present}
    for _ in range(args.rounds):
        for name, config, data in present:
            row = rows[name]
            row.setdefault("cold", []).append(cold_query(config, data))
            search, encode = warm_queries(config, data, queries)
            row.setdefault("warm", []).append(search)
            row.setdefault("encode", []).append(encode)
    if not args.skip_reindex:
        for name, config, data in present:
            rows[name]["reindex"] = [reindex(config, data)]
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base = {key: statistics.median(values) for key, values in rows[present[0][0]].items()}
    print("\n| model | disk MB (folder + ONNX + wheels) | cold query s | warm search ms | query encode ms | reindex hard set s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _, _ in present:
        sizes = disk(name)
        median = {key: statistics.median(values) for key, values in rows[name].items()}
        first = name == present[0][0]
        cells = [cell(median, base, key, scale, shape, first) for key, scale, shape in COLUMNS]
        total = sizes["folder"] + sizes["onnx"] + sizes["wheels"]
        print(
            f"| {name} | {total:.0f} ({sizes['folder']:.0f} + {sizes['onnx']:.0f} + {sizes['wheels']:.0f}) | "
            + " | ".join(cells)
            + " |"
        )


COLUMNS = (("cold", 1.0, "{:.1f}"), ("warm", 1000.0, "{:.0f}"), ("encode", 1000.0, "{:.0f}"), ("reindex", 1.0, "{:.0f}"))


def cell(median: dict[str, float], base: dict[str, float], key: str, scale: float, shape: str, first: bool) -> str:
    """One figure with its ratio to the first model's."""
    if key not in median:
        return ""
    ratio = "" if first else f" ({median[key] / base[key]:.1f}x)"
    return shape.format(median[key] * scale) + ratio


if __name__ == "__main__":
    main()
