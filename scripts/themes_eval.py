"""Measure `heard themes` against a dev set whose customer turns are labeled with topics (issue 16).

    python scripts/themes_eval.py --data-dir build/devset-hard-data --topics build/devset-hard/topics.json \
        --queries build/devset-hard/queries.yaml          # the hard set: tune and held-out topics
    python scripts/themes_eval.py --data-dir build/devset-data --truth build/devset/truth   # the first set

Each theme quote is a chunk; it takes the topics of the true turn it overlaps most. Figures, over the
substantive (topic-labeled) chunks of a part:
- ARI: adjusted Rand index between themes and topics, over chunks with exactly one topic; a chunk in
  no theme counts as a theme of its own.
- held: topics for which one theme holds >= 80% of the topic's chunks (chunks in no theme count
  against it).
- named: topics whose main theme (the one holding most of its chunks) has the topic's name or one of
  its synonyms in its label (whole words, any case).
- left out: substantive chunks in no theme.
- small talk in themes: chunks of turns labeled `topics: []` that landed in a theme (whole set).

The hard set's halves follow its queries: a topic belongs to the half (tune or held-out) of the
broad queries whose answers carry it (tune: pricing, onboarding, exports, support, integrations,
search, audit-trail). The first dev set was never tuned on: all of it is held out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HARD_TOPICS = Path(__file__).resolve().parent / "devset_hard" / "topics.yaml"
# The first dev set's topic names as the hard set's topics.yaml spells them (for synonyms).
FIRST_SET_NAMES = {"export": "exports", "reporting": "reporting-trust"}


def load_hard(topics_json: Path, queries_yaml: Path | None):
    import yaml

    data = json.loads(topics_json.read_text())
    turns = data["turns"]
    split = {}
    if queries_yaml is not None:
        by_id = {t["id"]: t for t in turns}
        for query in yaml.safe_load(queries_yaml.read_text())["queries"]:
            if query["kind"] != "broad":
                continue
            counts = Counter(topic for turn in query["turns"] for topic in by_id[turn]["topics"])
            if counts:
                split.setdefault(counts.most_common(1)[0][0], query["split"])
    synonyms = {name: [name, name.replace("-", " "), *spec.get("synonyms", [])] for name, spec in data["topics"].items()}
    _ = yaml
    return turns, synonyms, split


def load_first(truth_dir: Path):
    import yaml

    spec = yaml.safe_load(HARD_TOPICS.read_text())["topics"]
    turns = []
    for path in sorted(truth_dir.glob("*.turns.json")):
        data = json.loads(path.read_text())
        for turn in data["turns"]:
            if turn["speaker"] != "customer":
                continue
            topic = turn["id"].split("/")[1] if turn.get("id") else None
            turns.append({**turn, "recording": Path(data["recording"]).name, "topics": [topic] if topic else []})
    names = {t for turn in turns for t in turn["topics"]}
    synonyms = {}
    for name in names:
        hard = spec.get(FIRST_SET_NAMES.get(name, name), {})
        synonyms[name] = [name, *hard.get("synonyms", [])]
    return turns, synonyms, dict.fromkeys(names, "heldout")


def topic_of_chunks(themes, all_chunks, turns):
    """chunk id -> its true turn (by the largest time overlap within the same recording)."""
    by_recording = defaultdict(list)
    for turn in turns:
        by_recording[turn["recording"]].append(turn)
    found = {}
    for chunk in all_chunks:
        best, overlap = None, 0.0
        for turn in by_recording.get(Path(chunk.recording).name, []):
            shared = min(chunk.end, turn["end"]) - max(chunk.start, turn["start"])
            if shared > overlap:
                best, overlap = turn, shared
        found[chunk.id] = best
    return found


def names_topic(label: str, words: list[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)", label.lower()) for w in words)


def measure(themes, answer_chunks, turn_of, synonyms, split):
    from sklearn.metrics import adjusted_rand_score

    theme_of = {q.chunk_id: number for number, theme in enumerate(themes) for q in theme.quotes}
    labels = [theme.label for theme in themes]
    parts = sorted(set(split.values()))
    report = {}
    for part in parts:
        topics = {t for t, s in split.items() if s == part}
        units = [(c, turn_of[c.id]) for c in answer_chunks if turn_of[c.id] and set(turn_of[c.id]["topics"]) & topics]
        single = [(c, t["topics"][0]) for c, t in units if len(t["topics"]) == 1]
        truth = [topic for _, topic in single]
        predicted = [theme_of.get(c.id, f"alone-{c.id}") for c, _ in single]
        ari = adjusted_rand_score(truth, predicted) if single else float("nan")
        held = named = 0
        per_topic = {}
        for topic in sorted(topics):
            mine = [theme_of.get(c.id) for c, t in single if t == topic]
            if not mine:
                continue
            counts = Counter(x for x in mine if x is not None)
            main, count = counts.most_common(1)[0] if counts else (None, 0)
            share = count / len(mine)
            label = labels[main] if main is not None else ""
            ok_name = main is not None and names_topic(label, synonyms.get(topic, [topic]))
            held += share >= 0.8
            named += ok_name
            per_topic[topic] = {"chunks": len(mine), "main_share": round(share, 3), "label": label, "named": ok_name}
        left = sum(1 for c, _ in units if c.id not in theme_of)
        report[part] = {
            "ari": round(ari, 3),
            "topics": len(per_topic),
            "held_80": held,
            "named": named,
            "substantive_chunks": len(units),
            "left_out": round(left / len(units), 3) if units else 0.0,
            "per_topic": per_topic,
        }
    small = [c for c in answer_chunks if turn_of[c.id] is not None and not turn_of[c.id]["topics"]]
    report["all"] = {
        "themes": len(themes),
        "quotes_in_themes": len(theme_of),
        "answer_chunks": len(answer_chunks),
        "unmatched_chunks": sum(1 for c in answer_chunks if turn_of[c.id] is None),
        "small_talk_chunks": len(small),
        "small_talk_in_themes": round(sum(1 for c in small if c.id in theme_of) / len(small), 3) if small else 0.0,
    }
    return report


def run(data_dir: Path, turns, synonyms, split, overrides: dict[str, str], embedder=None):
    import yaml

    from pipeline.config import load_settings
    from pipeline.finding.searcher import Searcher
    from pipeline.finding.themes import find_themes, units

    settings = load_settings(None, data_dir, environ={})
    for key, value in overrides.items():
        setattr(settings.themes, key, type(getattr(settings.themes, key))(yaml.safe_load(value)))
    searcher = Searcher(settings, embedder=embedder)
    themes = find_themes(searcher)
    answer_chunks = [c for c in searcher.store.all_chunks() if units.is_answer(c)]
    turn_of = topic_of_chunks(themes, answer_chunks, turns)
    return themes, measure(themes, answer_chunks, turn_of, synonyms, split)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--topics", type=Path, help="the hard set's topics.json")
    parser.add_argument("--queries", type=Path, help="the hard set's queries.yaml (its tune/held-out halves)")
    parser.add_argument("--truth", type=Path, help="the first dev set's truth/ folder")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a themes setting to try")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--name", default=None, help="the dev set's name in the table")
    args = parser.parse_args()
    if args.topics:
        turns, synonyms, split = load_hard(args.topics, args.queries)
    elif args.truth:
        turns, synonyms, split = load_first(args.truth)
    else:
        parser.error("give --topics (hard set) or --truth (first set)")
    overrides = dict(item.split("=", 1) for item in args.set)
    themes, report = run(args.data_dir, turns, synonyms, split, overrides)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    name = args.name or args.data_dir.name
    print("| dev set | part | topics | ARI | one theme holds >= 80% | topic named in label | substantive left out |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for part in (p for p in ("tune", "heldout") if p in report):
        r = report[part]
        print(
            f"| {name} | {part} | {r['topics']} | {r['ari']:.2f} | {r['held_80']}/{r['topics']} | "
            f"{r['named']}/{r['topics']} | {r['left_out']:.1%} ({r['substantive_chunks']} chunks) |"
        )
    a = report["all"]
    print(
        f"\n{name}: {a['themes']} themes, {a['quotes_in_themes']} of {a['answer_chunks']} customer chunks in themes; "
        f"small talk in themes: {a['small_talk_in_themes']:.1%} of {a['small_talk_chunks']}; "
        f"{a['unmatched_chunks']} chunks match no true turn"
    )
    for part in (p for p in ("tune", "heldout") if p in report):
        for topic, r in report[part]["per_topic"].items():
            flag = "" if r["named"] else "  (label misses it)"
            print(f"  {part:7s} {topic:16s} {r['chunks']:3d} chunks, main theme holds {r['main_share']:.0%}: {r['label']}{flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
