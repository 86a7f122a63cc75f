"""Which measure of a model's cosine spread makes its quotes and `--all` answers like the default's.

    python scripts/calibrate_spread.py --data build/multilingual-e5-devset-hard-data \
        --config scripts/configs/multilingual-e5.yaml [--queries build/devset-hard/queries-tune.yaml]

The score cuts tuned on all-MiniLM-L6-v2 move into another model's spread (pipeline/indexing/
spread.py) by a ratio of spreads. This runs the queries over one index with the cuts moved by each
candidate ratio (none: the cuts as tuned; how far a probe question's best matches stand above its
median, the measure heard uses; the interquartile range of two chunks' cosines; the gap from their
median to the median nearest neighbour), and prints what issue 21 holds within 10% of the
default model: quote length (seconds and sentences of the top 5 hits, seconds of every --all hit)
and --all precision and recall. Run it on the tune half only; report the held-out half with
`make eval`.
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.finding.eval import evaluate, evaluate_all, load_queries  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402
from pipeline.indexing import spread  # noqa: E402


def candidates(measured: spread.Spread) -> dict[str, spread.Spread]:
    """The index's spread rewritten so that Scale.margin moves by each candidate ratio."""
    ref = spread.REFERENCE
    dd = measured.pair_iqr / ref.pair_iqr
    gap = (measured.nearest - measured.pair_median) / (ref.nearest - ref.pair_median)
    return {
        "as tuned (ratio 1)": ref,
        f"query top, the measure used ({measured.query_top / ref.query_top:.2f})": measured,
        f"chunk pairs' IQR ({dd:.2f})": replace(measured, query_top=dd * ref.query_top),
        f"nearest gap ({gap:.2f})": replace(measured, query_top=gap * ref.query_top),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--config", default=None)
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset-hard" / "queries-tune.yaml"))
    args = parser.parse_args()
    settings = load_settings(args.config, data_dir=args.data, environ={})
    queries = load_queries(args.queries)
    searcher = Searcher(settings)
    measured = spread.Spread.from_measured(searcher.checked_store().recipe().measured)
    if measured is None:
        sys.exit(f"{args.data}: no spread measured; run heard reindex")
    print(f"model {settings.embedding.model}, {len(queries)} queries from {args.queries}; measured {measured}")
    print("| cuts moved by | quote s | sentences | --all quote s | --all P | --all R | R@5 | MRR |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, assumed in candidates(measured).items():
        searcher._scale = spread.Scale(assumed)
        ranked = evaluate(queries, searcher).averages
        every = evaluate_all(queries, searcher).by_kind()["all"]
        print(
            f"| {name} | {ranked['quote_seconds']:.2f} | {ranked['quote_sentences']:.2f} | {every['quote_seconds']:.2f} "
            f"| {every['precision']:.3f} | {every['recall']:.3f} | {ranked['recall@5']:.3f} | {ranked['mrr']:.3f} |"
        )


if __name__ == "__main__":
    main()
