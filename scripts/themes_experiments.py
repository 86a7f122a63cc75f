"""Compare ways of grouping customers' quotes into themes on both dev sets (docs/benchmarks.md, "Themes").

    python scripts/themes_experiments.py                 # scikit-learn approaches
    PYTHONPATH=/tmp/bt python scripts/themes_experiments.py --bertopic   # with BERTopic installed there

Every approach gets the same quotes (customers' chunks less small talk, as `heard themes` picks them)
and the same labeler (labels.py), so only the grouping differs. Figures as scripts/themes_eval.py
computes them: the hard set's tune half, its held-out half, and the first set (all held out).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import themes_eval  # noqa: E402


@dataclass
class Quote:
    chunk_id: str


@dataclass
class Group:
    label: str
    quotes: list[Quote] = field(default_factory=list)


def quotes_of(data_dir: Path, embedder):
    from pipeline.config import load_settings
    from pipeline.finding.themes import units
    from pipeline.indexing.store import open_store

    settings = load_settings(None, data_dir, environ={})
    store = open_store(settings, create=False)
    chunks, vectors = store.chunks_with_vectors()
    keep = sorted((i for i, c in enumerate(chunks) if units.is_answer(c)), key=lambda i: (chunks[i].recording_id, chunks[i].index))
    chunks, vectors = [chunks[i] for i in keep], vectors[keep]
    options = settings.themes
    talk = units.small_talk(chunks, vectors, embedder, similarity=options.small_talk_similarity, min_words=options.min_words)
    rows = np.flatnonzero(~talk)
    answers = chunks
    return settings, [chunks[i] for i in rows], vectors[rows], answers


def as_groups(assignment, chunks, vectors, settings) -> list[Group]:
    from pipeline.finding.themes import grouping, labels

    members: dict[int, list[int]] = {}
    for row, label in enumerate(assignment):
        if label >= 0:
            members.setdefault(int(label), []).append(row)
    # Most representative first, as heard orders them (label ties go to what is said first).
    groups = [grouping._by_closeness(vectors, rows) for rows in members.values()]
    names = labels.labels([c.text for c in chunks], groups, [c.recording_id for c in chunks], terms=settings.themes.label_terms)
    return [Group(name, [Quote(chunks[r].id) for r in rows]) for rows, name in zip(groups, names)]


def heard_default(vectors, settings, **_):
    from pipeline.finding.themes import grouping

    out = -np.ones(len(vectors), dtype=int)
    for number, rows in enumerate(grouping.group(vectors, settings.themes, attach=settings.themes.attach_similarity)):
        out[rows] = number
    return out


def agglomerative(threshold: float):
    def run(vectors, settings, **_):
        from sklearn.cluster import AgglomerativeClustering

        return AgglomerativeClustering(
            n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average"
        ).fit_predict(vectors)

    return run


def kmeans_silhouette(floor: int):
    def run(vectors, settings, **_):
        from pipeline.finding.themes import grouping

        return grouping._kmeans(vectors, floor, settings.themes.max_themes)

    return run


def hdbscan_sklearn(vectors, settings, **_):
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(min_cluster_size=3, metric="cosine").fit_predict(vectors.astype(np.float64))


def bertopic_default(vectors, settings, texts, **_):
    from bertopic import BERTopic
    from umap import UMAP

    # BERTopic's defaults, with a fixed UMAP seed (else every run differs) and our vectors.
    model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42))
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    return np.array(topics)


def bertopic_small(vectors, settings, texts, **_):
    from bertopic import BERTopic
    from umap import UMAP

    model = BERTopic(
        min_topic_size=3,
        umap_model=UMAP(n_neighbors=10, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
    )
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    return np.array(topics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bertopic", action="store_true", help="also BERTopic (must be importable)")
    args = parser.parse_args()
    from pipeline.config import load_settings
    from pipeline.indexing.embed import Embedder

    hard_dir, first_dir = ROOT / "build/devset-hard-data", ROOT / "build/devset-data"
    embedder = Embedder(load_settings(None, hard_dir, environ={}).embedding)
    hard = themes_eval.load_hard(ROOT / "build/devset-hard/topics.json", ROOT / "build/devset-hard/queries.yaml")
    first = themes_eval.load_first(ROOT / "build/devset/truth")
    approaches = {
        "heard: k-means, k by silhouette from sqrt(n/2) to 30, groups under 2 quotes folded in": heard_default,
        "k-means, k by silhouette from 2 to 30": kmeans_silhouette(2),
        "k-means, k by silhouette from 4 to 30": kmeans_silhouette(4),
        "k-means, k by silhouette from 8 to 30": kmeans_silhouette(8),
        "agglomerative, average linkage, cosine distance 0.7": agglomerative(0.7),
        "agglomerative, average linkage, cosine distance 0.75": agglomerative(0.75),
        "agglomerative, average linkage, cosine distance 0.8": agglomerative(0.8),
        "HDBSCAN (scikit-learn, min 3)": hdbscan_sklearn,
    }
    if args.bertopic:
        approaches["BERTopic defaults (UMAP + HDBSCAN)"] = bertopic_default
        approaches["BERTopic, min_topic_size 3"] = bertopic_small
    print("| approach | hard tune ARI / held / named / left | hard held-out ARI / held / named / left | first set ARI / held / named / left |")
    print("|---|---|---|---|")
    for name, approach in approaches.items():
        cells = []
        for data_dir, (turns, synonyms, split), parts in ((hard_dir, hard, ("tune", "heldout")), (first_dir, first, ("heldout",))):
            settings, chunks, vectors, answers = quotes_of(data_dir, embedder)
            groups = as_groups(approach(vectors, settings, texts=[c.text for c in chunks]), chunks, vectors, settings)
            turn_of = themes_eval.topic_of_chunks(groups, answers, turns)
            report = themes_eval.measure(groups, answers, turn_of, synonyms, split)
            for part in parts:
                r = report[part]
                cells.append(f"{r['ari']:.2f} / {r['held_80']}/{r['topics']} / {r['named']}/{r['topics']} / {r['left_out']:.0%}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
