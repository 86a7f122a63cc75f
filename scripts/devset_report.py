"""Print dev-set eval results as one table: dev set x split x mode x query kind.

    heard eval build/devset-hard/queries-tune.yaml --mode all --answers --format json > build/devset-hard/eval-tune.json
    python scripts/devset_report.py build/devset/eval-all.json build/devset-hard/eval-tune.json build/devset-hard/eval-heldout.json

Each file is named after its split (`eval-<split>.json`) in its dev set's folder. Prints recall@5,
recall@10, MRR and the quotes' length (seconds and sentences of the top 5 hits) for every kind and,
where `heard eval --answers` measured it, `search --all`'s precision, recall, hits per query and
seconds per hit, as a Markdown table for docs/benchmarks.md. For the hard set
the held-out split is the one to report; tune on the other.
"""
import argparse
import json
from pathlib import Path

METRICS = ("recall@5", "recall@10", "mrr")


def cells(values: dict, every: dict | None) -> str:
    out = [f"{values[m]:.3f}" for m in METRICS]
    out += [f"{values.get('quote_seconds', 0):.1f}", f"{values.get('quote_sentences', 0):.2f}"]
    if every:
        out += [f"{every['precision']:.3f}", f"{every['recall']:.3f}", f"{every['hits']:.1f}", f"{every.get('quote_seconds', 0):.1f}"]
    else:
        out += ["", "", "", ""]
    return " | ".join(out)


def rows(name: str, reports: list[dict]) -> list[str]:
    out = []
    for report in reports:
        every = (report.get("all_answers") or {}).get("by_kind", {})
        kinds = report["by_kind"]
        for kind in sorted(kinds):
            out.append(f"| {name} | {report['mode']} | {kind} | {cells(kinds[kind], every.get(kind))} |")
        out.append(f"| {name} | {report['mode']} | all ({report['queries']}) | {cells(report, every.get('all'))} |")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="`heard eval --format json` output, one file per split")
    args = parser.parse_args()
    lines = [
        "| dev set / split | mode | kind | recall@5 | recall@10 | MRR | quote s (top 5) | sentences | --all precision "
        "| --all recall | --all hits | --all quote s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path in map(Path, args.results):
        name = f"{path.parent.name}/{path.stem.removeprefix('eval-')}"
        lines += rows(name, json.loads(path.read_text()))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
