"""Voice vectors of speech windows -> one speaker label per window (S1 is whoever speaks first)."""

from __future__ import annotations

import numpy as np

MAX_SPEAKERS = 6
# Cosine distance between cluster averages above which two clusters are two voices. Windows of
# one voice sit about 0.1-0.25 apart, two synthetic voices about 0.6, two people on a phone line
# about 0.33 (the pyannote sample call).
DISTANCE_THRESHOLD = 0.30
# A cluster holding less speech than this is a few transitional windows, not a person.
MIN_SPEAKER_SECONDS = 2.0


def cluster(vectors: np.ndarray, centers: list[int], num_speakers: int | None, *, window_step_seconds: float) -> np.ndarray:
    """A label per window; `window_step_seconds` is the least speech one window stands for."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) == 1 or num_speakers == 1:
        return np.zeros(len(vectors), dtype=int)
    if num_speakers is not None:
        # Ward on unit vectors: average linkage, asked for a count, splits off single odd windows.
        labels = AgglomerativeClustering(n_clusters=min(num_speakers, len(vectors)), linkage="ward").fit_predict(vectors)
    else:
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
        ).fit_predict(vectors)
        labels = _drop_small_clusters(vectors, labels, window_step_seconds)
        if len(set(labels)) > MAX_SPEAKERS:
            labels = AgglomerativeClustering(n_clusters=MAX_SPEAKERS, linkage="ward").fit_predict(vectors)
    # Two rounds of k-means style refinement: each window joins the nearest speaker average, which
    # pulls back windows that average linkage left with the wrong group.
    for _ in range(2):
        means = _means(vectors, labels)
        labels = np.array(sorted(means))[np.argmax(vectors @ np.stack([means[k] for k in sorted(means)]).T, axis=1)]
    # S1 is whoever speaks first.
    order = {old: new for new, old in enumerate(dict.fromkeys(labels[np.argsort(centers, kind="stable")]))}
    return np.array([order[label] for label in labels])


def _means(vectors: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    means = {}
    for label in set(labels.tolist()):
        mean = vectors[labels == label].mean(axis=0)
        means[label] = mean / np.linalg.norm(mean)
    return means


def _drop_small_clusters(vectors: np.ndarray, labels: np.ndarray, seconds_per_window: float) -> np.ndarray:
    counts = {label: int((labels == label).sum()) for label in set(labels.tolist())}
    keep = [label for label, count in counts.items() if count * seconds_per_window >= MIN_SPEAKER_SECONDS]
    if not keep:
        return np.zeros(len(labels), dtype=int)
    means = _means(vectors, labels)
    kept = np.stack([means[k] for k in keep])
    return np.array([label if label in keep else keep[int(np.argmax(kept @ vectors[i]))] for i, label in enumerate(labels)])
