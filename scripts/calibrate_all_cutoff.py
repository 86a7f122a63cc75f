"""Choose search.all_cutoff (`heard search --all`) on the hard dev set's tune half, and measure where
the cut falls with another model.

    python scripts/calibrate_all_cutoff.py [--config C] [--data build/devset-hard-data] [--queries build/devset-hard/queries-tune.yaml]
    python scripts/calibrate_all_cutoff.py --remeasure [--config C] [--data D]   # an index built before the levels
    python scripts/calibrate_all_cutoff.py --reference                           # all_cut.REFERENCE_LEVELS

Runs `search_all` once per query with no cutoff, then for each candidate setting (all-MiniLM-L6-v2's
units, as search.all_cutoff) keeps the hits whose fused score reaches the cut it moves to on this
index (pipeline/finding/all_cut.py: the same share of a question's candidates) and prints precision,
recall (uncapped: every labeled span) and quotes a question by query kind, and the setting with the
best F1 (of the averaged precision and recall) averaged over broad and reasoning queries (the
questions --all is for); needles, with one or two answers, are listed to show what it costs them.
The default, 0.35, is all-mpnet-base-v2's best and within 0.01 of all-MiniLM-L6-v2's (a flat curve;
docs/benchmarks.md, "Every passage that answers"). Tune only: never run this on the held-out half.

--reference prints the levels of the index (all-MiniLM-L6-v2 over the hard dev set: the reference the
cut is set against); --remeasure records an index's spread and levels again, as reindex would.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.finding.all_cut import SHARES, levels_of  # noqa: E402
from pipeline.finding.eval import judge_all, load_queries  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402

CUTOFFS = [round(0.10 + 0.025 * i, 3) for i in range(25)]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def remeasure(settings) -> None:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import open_store_for_writing
    from pipeline.jobs.measure import measure_index

    store = open_store_for_writing(settings)
    try:
        measure_index(settings, store, Embedder(settings.embedding))
        print(f"{settings.index_dir}: measured {store.recipe().measured}")
    finally:
        store.close()


def reference(searcher: Searcher) -> None:
    levels = levels_of(searcher.checked_store().recipe().measured)
    if levels is None:
        sys.exit("this index has no levels measured: run with --remeasure first")
    print(f"# {searcher.settings.embedding.model} over {searcher.settings.data_dir}, shares {SHARES[0]}..{SHARES[-1]}")
    print("REFERENCE_LEVELS = (" + ", ".join(f"{level:.5f}" for level in levels) + ")")


def table(searcher: Searcher, queries_path: str) -> None:
    queries = load_queries(queries_path)
    everything = [(q, searcher.search_all(q.query, cutoff=0.0)) for q in queries]
    kinds = sorted({q.kind for q in queries})
    print(f"model {searcher.settings.embedding.model}, {len(queries)} queries from {queries_path}")
    print("| setting | cut here | " + " | ".join(f"{k} P / R / hits" for k in kinds) + " | broad+reasoning F1 |")
    print("|---:|---:|" + "---|" * len(kinds) + "---:|")
    best = (-1.0, 0.0)
    for setting in CUTOFFS:
        cut = searcher.all_cut(setting).in_use
        results = [judge_all(q, [h for h in hits if h.score >= cut]) for q, hits in everything]
        cells, f1s = [], []
        for kind in kinds:
            rs = [r for r in results if r.query.kind == kind]
            p, r = sum(x.precision for x in rs) / len(rs), sum(x.recall for x in rs) / len(rs)
            cells.append(f"{p:.2f} / {r:.2f} / {sum(len(x.hits) for x in rs) / len(rs):.1f}")
            if kind in ("broad", "reasoning"):
                f1s.append(f1(p, r))
        score = sum(f1s) / len(f1s) if f1s else 0.0
        best = max(best, (score, setting))
        print(f"| {setting:.3f} | {cut:.3f} | " + " | ".join(cells) + f" | {score:.3f} |")
    print(f"best broad+reasoning F1 {best[0]:.3f} at setting {best[1]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "build" / "devset-hard-data"))
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset-hard" / "queries-tune.yaml"))
    parser.add_argument("--config", default=None, help="a config.yaml (e.g. another embedding model)")
    parser.add_argument("--remeasure", action="store_true", help="measure the index's figures again and store them")
    parser.add_argument("--reference", action="store_true", help="print the index's levels as REFERENCE_LEVELS")
    args = parser.parse_args()
    settings = load_settings(args.config, data_dir=args.data, environ={})
    if args.remeasure:
        return remeasure(settings)
    with Searcher(settings) as searcher:
        reference(searcher) if args.reference else table(searcher, args.queries)


if __name__ == "__main__":
    main()
