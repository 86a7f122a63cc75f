"""Quotes into groups: k-means over their vectors, the number of groups chosen by silhouette.

Chosen on the hard dev set's tune half against agglomerative clustering, HDBSCAN and BERTopic
(docs/benchmarks.md, "Themes"): k-means with the silhouette's k tied the best agglomerative
distance there (ARI 0.19) without a distance to tune to each model and corpus, puts every quote in
a group (HDBSCAN and BERTopic left 25-59% of the quotes as outliers), and with a fixed seed over
rows in a fixed order gives the same groups every time.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.config import ThemesSettings


def group(vectors: np.ndarray, settings: ThemesSettings, *, attach: float) -> list[list[int]]:
    """Rows of `vectors` (unit length) grouped; each group holds at least `min_quotes` rows, best
    first by closeness to the group's centre. Rows of groups too small join the closest group when
    their cosine to its centre reaches `attach` (attach_similarity in the index's spread); the
    others are in no group."""
    if len(vectors) < max(3, settings.min_quotes):
        return [list(range(len(vectors)))] if len(vectors) >= settings.min_quotes else []
    # The usual rule of thumb for a number of clusters, sqrt(rows / 2), as the floor (see _kmeans).
    floor = max(settings.min_themes, round(math.sqrt(len(vectors) / 2)))
    labels = _kmeans(vectors, floor, settings.max_themes)
    members: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        members.setdefault(int(label), []).append(row)
    groups = [rows for rows in members.values() if len(rows) >= settings.min_quotes]
    loose = sorted(row for rows in members.values() if len(rows) < settings.min_quotes for row in rows)
    if groups and loose:
        centres = _normalized(np.stack([vectors[rows].mean(axis=0) for rows in groups]))
        closeness = vectors[loose] @ centres.T
        for row, scores in zip(loose, closeness):
            best = int(np.argmax(scores))
            if scores[best] >= attach:
                groups[best].append(row)
    return [_by_closeness(vectors, rows) for rows in groups]


def _kmeans(vectors: np.ndarray, floor: int, max_themes: int) -> np.ndarray:
    """k-means labels for the k with the best silhouette from `floor` to `max_themes` (below the
    number of rows); a fixed seed, so the same rows give the same groups.

    The floor matters: where quotes barely group (the hard dev set) the silhouette is highest at the
    fewest groups; from 2 up it picked 3 themes for its 14 topics (tune ARI 0.10), from 4 up 4
    themes (0.18), from sqrt(rows / 2) = 13 up 13 (0.19). On the first dev set, which groups well,
    it picks 11 groups for 10 topics whatever the floor from 2 to 10."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    best, best_score = np.zeros(len(vectors), dtype=int), -2.0
    with threadpool_limits(limits=1):  # never let BLAS/OpenMP pick a thread count
        for k in range(min(floor, len(vectors) - 1), min(max_themes, len(vectors) - 1) + 1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors)
            if len(set(labels.tolist())) < 2:
                continue
            score = float(silhouette_score(vectors, labels, metric="cosine"))
            if score > best_score + 1e-9:
                best, best_score = labels, score
    return best


def centre(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(_normalized(vectors.mean(axis=0, keepdims=True))[0])


def _by_closeness(vectors: np.ndarray, rows: list[int]) -> list[int]:
    """The most representative first: by cosine to the group's centre, ties by row."""
    closeness = vectors[rows] @ centre(vectors[rows])
    return [row for _, row in sorted(zip((-closeness).tolist(), rows))]


def _normalized(matrix: np.ndarray) -> np.ndarray:
    return np.asarray(matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12))
