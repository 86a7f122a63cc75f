"""Measure `heard ask`'s extractive answer: the share of its quotes that answer the question.

    python scripts/eval_ask.py --data-dir build/devset-hard-data --queries build/devset-hard/queries-tune.yaml
    python scripts/eval_ask.py --data-dir build/devset-hard-data --queries build/devset-hard/queries-heldout.yaml

`make eval` runs it on both halves of the hard dev set (scripts/devset_hard; tune on queries-tune,
report queries-heldout). For each labeled query, the answer `heard ask --extractive` gives (the
themes of the passages `search --all` finds, each with its two most representative quotes) is
scored with `heard eval`'s rule: a quote answers when at least half of it lies inside a labeled
span. Per query kind:

- quotes: quotes the answer shows per query (mean);
- answering: answering quotes / quotes shown, over all the kind's queries together;
- per query: the same share averaged over queries (a query with no quote counts 0);
- some: queries whose answer shows at least one answering quote;
- spans: labeled spans its quotes find / all labeled spans (how much of the truth it shows).

Beside it, from the same searches: `top`, the same number of search --all's best-scored quotes
(what a list of the best quotes would show), and `all`, every search --all quote (its precision).
`--pick score` takes each theme's best-scored quotes instead of its most representative (the choice
was made on the tune half: docs/ask.md). LLM answers are not measured here: their quality depends
on the model, and no model runs on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass
class Tally:
    queries: int = 0
    shown: int = 0
    answering: int = 0
    share_sum: float = 0.0
    some: int = 0
    spans_found: int = 0
    spans: int = 0

    def add(self, shown: int, answering: int, found: int, spans: int) -> None:
        self.queries += 1
        self.shown += shown
        self.answering += answering
        self.share_sum += answering / shown if shown else 0.0
        self.some += answering > 0
        self.spans_found += found
        self.spans += spans

    def cells(self) -> list[str]:
        q = max(self.queries, 1)
        return [
            f"{self.shown / q:.1f}",
            f"{self.answering / max(self.shown, 1):.3f}",
            f"{self.share_sum / q:.3f}",
            f"{self.some}/{self.queries}",
            f"{self.spans_found / max(self.spans, 1):.3f}",
        ]


@dataclass
class Report:
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)  # (kind, method) -> tally

    def add(self, kind: str, method: str, hits, query) -> None:
        from pipeline.finding.eval import judge

        result = judge(query, hits)
        for key in ((kind, method), ("all", method)):
            self.tallies.setdefault(key, Tally()).add(
                len(hits), len(result.relevant_ranks), sum(f is not None for f in result.found), len(query.relevant)
            )

    def table(self, name: str) -> str:
        lines = [
            "| queries | kind | quotes from | quotes | answering | per query | some | spans |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        kinds = sorted({k for k, _ in self.tallies}, key=lambda k: (k == "all", k))
        for kind in kinds:
            for method in ("ask", "top", "all"):
                tally = self.tallies.get((kind, method))
                if tally:
                    lines.append(f"| {name} | {kind} | {method} | " + " | ".join(tally.cells()) + " |")
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="an ingested dev set (build/devset-hard-data)")
    parser.add_argument("--queries", required=True, help="labeled queries (build/devset-hard/queries-heldout.yaml)")
    parser.add_argument("--config", help="settings file (default: built-in defaults)")
    parser.add_argument("--pick", choices=("closeness", "score"), default="closeness",
                        help="a theme's quotes: most representative (closeness, heard's rule) or best-scored")
    args = parser.parse_args()

    from pipeline import threads
    from pipeline.answering import extractive
    from pipeline.answering.options import AskRequest
    from pipeline.config import load_settings
    from pipeline.finding.eval import load_queries
    from pipeline.finding.searcher import Searcher

    threads.wait_passively()
    settings = load_settings(args.config, args.data_dir, environ={})
    queries = load_queries(args.queries)
    report = Report()
    with Searcher(settings) as searcher:
        for query in queries:
            found = searcher.every_answer(query.query)
            choose = extractive.representative
            if args.pick == "score":
                scores = {hit.chunk_id: hit.score for hit in found.hits}
                choose = lambda quotes, s=scores: sorted(quotes, key=lambda h: -s.get(h.chunk_id, 0.0))[:2]  # noqa: E731
            answer = extractive.extractive_answer(searcher, AskRequest(query.query), found, choose=choose)
            shown = [hit for claim in answer.claims for hit in claim.quotes]
            report.add(query.kind, "ask", shown, query)
            report.add(query.kind, "top", found.hits[: len(shown)], query)
            report.add(query.kind, "all", found.hits, query)
    print(report.table(f"{Path(args.queries).stem} ({len(queries)}, pick {args.pick})"))


if __name__ == "__main__":
    main()
