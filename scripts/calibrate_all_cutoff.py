"""Choose search.all_cutoff (`heard search --all`) on the hard dev set's tune half.

    python scripts/calibrate_all_cutoff.py [--data build/devset-hard-data] [--queries build/devset-hard/queries-tune.yaml]

Runs `search_all` once per query with no cutoff, then for each candidate cutoff keeps the hits whose
fused score reaches it and prints precision and recall (uncapped: every labeled span) by query kind,
and the cutoff with the best F1 (of the averaged precision and recall) averaged over broad and
reasoning queries (the questions --all is for); needles, with one or two answers, are listed to show
what it costs them. The default, 0.35, is all-mpnet-base-v2's best and within 0.01 of
all-MiniLM-L6-v2's (a flat curve; docs/benchmarks.md, "Every passage that answers"). Tune only:
never run this on the held-out half.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.finding.eval import judge_all, load_queries  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402

CUTOFFS = [round(0.10 + 0.025 * i, 3) for i in range(25)]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "build" / "devset-hard-data"))
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset-hard" / "queries-tune.yaml"))
    parser.add_argument("--config", default=None, help="a config.yaml (e.g. another embedding model)")
    args = parser.parse_args()
    settings = load_settings(args.config, data_dir=args.data, environ={})
    queries = load_queries(args.queries)
    searcher = Searcher(settings)
    everything = [(q, searcher.search_all(q.query, cutoff=0.0)) for q in queries]
    kinds = sorted({q.kind for q in queries})
    print(f"model {settings.embedding.model}, {len(queries)} queries from {args.queries}")
    print("| cutoff | " + " | ".join(f"{k} P / R / hits" for k in kinds) + " | broad+reasoning F1 |")
    print("|---:|" + "---|" * len(kinds) + "---:|")
    best = (-1.0, 0.0)
    for cutoff in CUTOFFS:
        results = [judge_all(q, [h for h in hits if h.score >= cutoff]) for q, hits in everything]
        cells, f1s = [], []
        for kind in kinds:
            rs = [r for r in results if r.query.kind == kind]
            p, r = sum(x.precision for x in rs) / len(rs), sum(x.recall for x in rs) / len(rs)
            cells.append(f"{p:.2f} / {r:.2f} / {sum(len(x.hits) for x in rs) / len(rs):.1f}")
            if kind in ("broad", "reasoning"):
                f1s.append(f1(p, r))
        score = sum(f1s) / len(f1s) if f1s else 0.0
        best = max(best, (score, cutoff))
        print(f"| {cutoff:.3f} | " + " | ".join(cells) + f" | {score:.3f} |")
    print(f"best broad+reasoning F1 {best[0]:.3f} at cutoff {best[1]}")


if __name__ == "__main__":
    main()
