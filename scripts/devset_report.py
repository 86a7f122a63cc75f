"""Print the hard dev set's eval results as one table: split x mode x query kind.

    heard eval build/devset-hard/queries-tune.yaml --mode all --format json > tune.json
    heard eval build/devset-hard/queries-heldout.yaml --mode all --format json > heldout.json
    python scripts/devset_report.py tune.json heldout.json

Each file is named after its split (the stem). Prints recall@5, recall@10 and MRR for every kind, as a
Markdown table for docs/benchmarks.md. The held-out split is the one to report; tune on the other.
"""
import argparse
import json
from pathlib import Path

METRICS = ("recall@5", "recall@10", "mrr")


def rows(split: str, reports: list[dict]) -> list[str]:
    out = []
    for report in reports:
        kinds = report["by_kind"]
        for kind in sorted(kinds):
            values = " | ".join(f"{kinds[kind][m]:.3f}" for m in METRICS)
            out.append(f"| {split} | {report['mode']} | {kind} | {values} |")
        overall = " | ".join(f"{report[m]:.3f}" for m in METRICS)
        out.append(f"| {split} | {report['mode']} | all ({report['queries']}) | {overall} |")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="`heard eval --format json` output, one file per split")
    args = parser.parse_args()
    lines = ["| split | mode | kind | recall@5 | recall@10 | MRR |", "|---|---|---|---:|---:|---:|"]
    for path in map(Path, args.results):
        split = path.stem.removeprefix("eval-")
        lines += rows(split, json.loads(path.read_text()))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
