"""Embedding models side by side on both dev sets, from the result files `make eval` wrote for each.

    python scripts/models_report.py build/ build/mpnet- build/multilingual-e5-

Each argument is the prefix of one model's eval folders (`make eval` writes build/devset/ and
build/devset-hard/; `make eval EVAL_CONFIG=scripts/configs/mpnet.yaml` writes build/mpnet-devset/
...). The first is the baseline. Prints, in hybrid mode (the default):
1. the hard set's held-out half by query kind: recall@5 / MRR;
2. what issue 21 asks to stay within 10% of the baseline, on the first set and on each half of the
   hard set: quote length (seconds and sentences of the top 5 hits; seconds of every --all hit) and
   `search --all` precision and recall, each with its ratio to the baseline;
3. each index's spread (pipeline/indexing/spread.py), which the score cuts followed;
4. the multilingual set's held-out half (make eval-multilingual), where its results exist: recall@5
   asked in English and in the interviews' language, and their ratio (issue 21's target: >= 0.8).
Tune on the tune half; the held-out half is the one to report.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("needle", "broad", "reasoning", "all")
SETS = (
    ("first", "devset", "eval-all.json"),
    ("hard tune", "devset-hard", "eval-tune.json"),
    ("hard held-out", "devset-hard", "eval-heldout.json"),
)


def hybrid(path: Path) -> dict:
    return next(report for report in json.loads(path.read_text()) if report["mode"] == "hybrid")


def recipe(prefix: str, data: str) -> dict:
    """The recipe the model's index was built with (model name, measured spread)."""
    from pipeline.indexing.store import Store

    store = Store(Path(f"{prefix}{data}") / "index", "heard", create=False)
    try:
        return store.recipe().to_dict()
    finally:
        store.close()


def by_kind(report: dict, kind: str) -> dict:
    """The kind's ranking metrics ("all": the report's own averages) and its --all figures."""
    ranked = report if kind == "all" else report["by_kind"].get(kind, {})
    every = report.get("all_answers", {}).get("by_kind", {}).get(kind, {})
    return {**ranked, **{f"every_{key}": value for key, value in every.items()}}


def recall_table(names: list[str], prefixes: list[str]) -> list[str]:
    lines = [
        "| model | " + " | ".join(f"{kind} R@5 / MRR" for kind in KINDS) + " |",
        "|---|" + "---|" * len(KINDS),
    ]
    for name, prefix in zip(names, prefixes):
        report = hybrid(Path(f"{prefix}devset-hard") / "eval-heldout.json")
        cells = [by_kind(report, kind) for kind in KINDS]
        lines.append(f"| {name} | " + " | ".join(f"{c['recall@5']:.3f} / {c['mrr']:.3f}" for c in cells) + " |")
    return lines


# (label, key, format): the figures issue 21 holds within 10% of the baseline.
FOLLOWED = (
    ("quote s", "quote_seconds", "{:.1f}"),
    ("sentences", "quote_sentences", "{:.2f}"),
    ("--all quote s", "every_quote_seconds", "{:.1f}"),
    ("--all P", "every_precision", "{:.3f}"),
    ("--all R", "every_recall", "{:.3f}"),
)


def followed_table(names: list[str], prefixes: list[str]) -> list[str]:
    lines = [
        "| dev set | model | " + " | ".join(label for label, _, _ in FOLLOWED) + " |",
        "|---|---|" + "---:|" * len(FOLLOWED),
    ]
    for set_name, folder, file in SETS:
        base = by_kind(hybrid(Path(f"{prefixes[0]}{folder}") / file), "all")
        for name, prefix in zip(names, prefixes):
            found = by_kind(hybrid(Path(f"{prefix}{folder}") / file), "all")
            cells = []
            for _, key, shape in FOLLOWED:
                value = shape.format(found[key])
                if prefix != prefixes[0] and base.get(key):
                    value += f" ({found[key] / base[key]:.2f}x)"
                cells.append(value)
            lines.append(f"| {set_name} | {name} | " + " | ".join(cells) + " |")
    return lines


def spread_table(names: list[str], prefixes: list[str]) -> list[str]:
    lines = [
        "| model | dev set | chunks | question's best above median | pair median | pair IQR | nearest |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, prefix in zip(names, prefixes):
        for set_name, data in (("first", "devset-data"), ("hard", "devset-hard-data")):
            measured = recipe(prefix, data)["measured"]
            if measured.get("query_top"):
                lines.append(
                    f"| {name} | {set_name} | {int(measured['chunks'])} | {measured['query_top']:.3f} | {measured['pair_median']:.3f} | "
                    f"{measured['pair_iqr']:.3f} | {measured['nearest']:.3f} |"
                )
    return lines


def multilingual_table(names: list[str], prefixes: list[str]) -> list[str]:
    lines = [
        "| model | version | needles: English / native | ratio | broad: English / native | all: English / native | ratio |",
        "|---|---|---|---:|---|---|---:|",
    ]
    for name, prefix in zip(names, prefixes):
        for version in ("audio", "text"):
            files = [Path(f"{prefix}devset-multilingual") / f"eval-{version}-{asked}-heldout.json" for asked in ("en", "native")]
            if not all(path.is_file() for path in files):
                continue
            en, native = (hybrid(path) for path in files)
            cells = []
            for kind in ("needle", "broad", "all"):
                e, n = (by_kind(report, kind).get("recall@5") for report in (en, native))
                if e is None or n is None:
                    cells.append("-")
                    continue
                cells.append(f"{e:.3f} / {n:.3f}")
                if kind != "broad":
                    cells.append(f"{e / n:.2f}" if n else "-")
            lines.append(f"| {name} | {version} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="+", help="each model's eval folder prefix; the first is the baseline")
    args = parser.parse_args()
    names = [recipe(prefix, "devset-hard-data")["model"] for prefix in args.prefixes]
    print("Hard dev set, held-out half, hybrid: recall@5 / MRR by query kind\n")
    print("\n".join(recall_table(names, args.prefixes)))
    print("\nQuote length and `search --all` (hybrid, all queries; ratio to the first model)\n")
    print("\n".join(followed_table(names, args.prefixes)))
    print("\nEach index's cosine spread (measured at reindex; the score cuts follow it)\n")
    print("\n".join(spread_table(names, args.prefixes)))
    table = multilingual_table(names, args.prefixes)
    if len(table) > 2:
        print("\nMultilingual set, held-out half, hybrid: recall@5 asked in English / in the interviews' language\n")
        print("\n".join(table))


if __name__ == "__main__":
    main()
