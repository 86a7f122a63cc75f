"""Print the multilingual dev set's eval results: English questions against the same questions asked in
the interviews' language, on the speech (Whisper base) and on the text version.

    python scripts/multilingual_report.py build/devset-multilingual [build/multilingual-e5-devset-multilingual ...]

Each folder holds `eval-<version>-<asked>-<split>.json` (`heard eval --mode all --format json`),
version audio or text, asked en or native, split tune or heldout. Prints, per folder, version, split
and mode: recall@5, recall@10 and MRR asked in English and natively, and the cross-lingual ratio
(English recall@5 / native recall@5; issue 21's target is >= 0.8). Report the held-out half.
"""
import argparse
import json
from pathlib import Path

MODES = ("dense", "hybrid")


def metrics(path: Path) -> dict[str, dict]:
    return {report["mode"]: report for report in json.loads(path.read_text())}


def rows(folder: Path) -> list[str]:
    out = []
    for version in ("audio", "text"):
        for split in ("tune", "heldout"):
            files = {asked: folder / f"eval-{version}-{asked}-{split}.json" for asked in ("en", "native")}
            if not all(p.is_file() for p in files.values()):
                continue
            found = {asked: metrics(p) for asked, p in files.items()}
            for mode in MODES:
                en, native = found["en"][mode], found["native"][mode]
                for kind in ("needle", "broad", "all"):
                    e = en if kind == "all" else en["by_kind"].get(kind)
                    n = native if kind == "all" else native["by_kind"].get(kind)
                    if not e or not n:
                        continue
                    ratio = e["recall@5"] / n["recall@5"] if n["recall@5"] else float("nan")
                    label = f"{kind} ({en['queries']}/{native['queries']})" if kind == "all" else kind
                    out.append(f"| {folder.name} | {version} | {split} | {mode} | {label} | {e['recall@5']:.3f} | {e['recall@10']:.3f} | "
                               f"{e['mrr']:.3f} | {n['recall@5']:.3f} | {n['recall@10']:.3f} | {n['mrr']:.3f} | {ratio:.2f} |")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="folders with the eval-*.json files of one configuration each")
    args = parser.parse_args()
    lines = [
        "| results | version | split | mode | kind (queries en/native) | en R@5 | en R@10 | en MRR | native R@5 | native R@10 | native MRR | en/native R@5 |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for folder in map(Path, args.folders):
        lines += rows(folder)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
