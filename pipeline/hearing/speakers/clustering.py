"""Voices of all windows into speakers: agglomerative clustering of the CAM++ vectors; a window's
local speakers keep their clusters unless two whose voices point apart landed in one, then they are
matched to distinct speakers.
"""

from __future__ import annotations

import numpy as np

from pipeline.config import MAX_SPEAKERS
from pipeline.hearing.speakers.pieces import Piece

# Average-linkage cosine distance at which two groups of windows are two people. Chosen on the dev
# clips (DER 0.186 at 0.6; 0.214 at 0.5, 0.238 at 0.7).
DISTANCE_THRESHOLD = 0.6
# Two speakers whose mean voices are closer than this (cosine distance) are reported as "not
# confident": one person may have been split in two. 0.5 on the 30 s clips; after consolidation
# (which merges voices closer than MERGE_DISTANCE) 0.3: on the DEV long conversations correct
# 2-person results sat at 0.32-0.47 (different people of one far-field meeting) and were left
# without roles at 0.5, while a split or confused one sat at 0.19 and 0.27.
CLOSE_VOICES = 0.3
# consolidate(): a cluster with less than MIN_CLUSTER_SHARE of the speech beyond the first
# SHARE_AFTER_SECONDS is not a person (a 30 s clip keeps every cluster: there one piece may be the
# one person who said little); mean voices closer than MERGE_DISTANCE are one person. Chosen on the
# DEV long conversations and clips (docs/benchmarks.md, "Long recordings").
SHARE_AFTER_SECONDS = 60.0
MIN_CLUSTER_SHARE = 0.05
MERGE_DISTANCE = 0.5
REFINE_ROUNDS = 5
# Local speakers with less speech than this in their window do not shape the clusters (a word or a
# cough gives a poor voice vector); they still join the nearest speaker.
CLUSTER_SECONDS = 1.0
# Two local speakers of one window whose own voices are at least this far apart (cosine distance)
# are two people even when clustering put them in one speaker (_apart_but_joined).
SAME_WINDOW_APART = 1.0


def cluster(vectors: np.ndarray, *, num_speakers: int | None) -> np.ndarray:
    """A speaker index (0..) per unit vector; exactly num_speakers groups when given (and possible)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) == 1 or num_speakers == 1:
        return np.zeros(len(vectors), dtype=int)
    tree = linkage(vectors, method="average", metric="cosine")
    if num_speakers is not None:
        labels = fcluster(tree, t=min(num_speakers, len(vectors)), criterion="maxclust")
    else:
        # No cap on the count here: odd pieces (a cough, crosstalk) are clusters of their own, and
        # cutting the tree at MAX_SPEAKERS merged real people while keeping those. consolidate()
        # removes the small clusters and caps the count.
        labels = fcluster(tree, t=DISTANCE_THRESHOLD, criterion="distance")
    return np.unique(labels, return_inverse=True)[1]


def consolidate(vectors: np.ndarray, labels: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Clusters that hold over long recordings: a cluster with too little speech is not a person
    (its pieces go to the nearest real one), speakers whose mean voices are close are one person,
    and every piece then goes to its nearest mean voice. Average linkage alone splits off more
    small clusters the more pieces a recording has: the count grew with length."""
    for _ in range(REFINE_ROUNDS):
        weight = np.bincount(labels, weights=seconds)
        means = _weighted_means(vectors, labels, seconds)
        real = weight >= MIN_CLUSTER_SHARE * max(float(seconds.sum()) - SHARE_AFTER_SECONDS, 0.0)
        real[np.argsort(-weight)[MAX_SPEAKERS:]] = False
        real[int(weight.argmax())] = True
        means, weight = means[real], weight[real]
        while len(means) > 1:
            similarity = means @ means.T
            np.fill_diagonal(similarity, -1.0)
            a, b = np.unravel_index(int(similarity.argmax()), similarity.shape)
            if 1.0 - similarity[a, b] >= MERGE_DISTANCE:
                break
            joined = means[a] * weight[a] + means[b] * weight[b]
            means[a], weight[a] = joined / max(float(np.linalg.norm(joined)), 1e-8), weight[a] + weight[b]
            means, weight = np.delete(means, b, axis=0), np.delete(weight, b)
        before = labels
        labels = np.unique((vectors @ means.T).argmax(axis=1), return_inverse=True)[1]
        if len(labels) == len(before) and (labels == before).all():
            break
    return labels


def unit_rows(means: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a row of zeros stays zeros)."""
    unit: np.ndarray = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-8)
    return unit


def _weighted_means(vectors: np.ndarray, labels: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    return unit_rows(np.stack([(vectors[labels == k] * seconds[labels == k, None]).sum(axis=0) for k in range(labels.max() + 1)]))


def centroids(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(speakers, dim) unit mean vector of each group."""
    return unit_rows(np.stack([vectors[labels == k].mean(axis=0) for k in range(labels.max() + 1)]))


def match_window(similarity: np.ndarray) -> np.ndarray:
    """Speaker index per local speaker of one window (rows), distinct while there are enough speakers.

    Used where the segmentation model's voices in a window point apart but landed in one speaker
    (_apart_but_joined): matching them one-to-one (Hungarian) keeps two people from collapsing
    into one speaker.
    """
    from scipy.optimize import linear_sum_assignment

    if len(similarity) > similarity.shape[1]:
        nearest: np.ndarray = similarity.argmax(axis=1)
        return nearest
    rows, cols = linear_sum_assignment(-similarity)
    out = np.empty(len(similarity), dtype=int)
    out[rows] = cols
    return out


def closest_pair(means: np.ndarray) -> float | None:
    """Cosine distance between the two closest speakers (None for one speaker)."""
    if len(means) < 2:
        return None
    similarity = means @ means.T
    np.fill_diagonal(similarity, -1.0)
    return float(1.0 - similarity.max())


def speakers_of_pieces(pieces: list[Piece], embeddings: np.ndarray, num_speakers: int | None) -> dict[tuple[int, int], int]:
    """(window, local speaker) -> speaker index, from clustering the pieces with enough speech."""
    shaping = np.array([p.seconds >= CLUSTER_SECONDS for p in pieces])
    if shaping.sum() < max(2, num_speakers or 0):  # a forced count needs that many pieces to split
        shaping[:] = True
    labels = cluster(embeddings[shaping], num_speakers=num_speakers)
    if num_speakers is None:
        seconds = np.array([p.seconds for p in pieces])[shaping]
        labels = consolidate(embeddings[shaping], labels, seconds)
    means = centroids(embeddings[shaping], labels)
    # Each piece keeps its cluster; pieces that did not shape the clusters join the nearest speaker.
    similarity = embeddings @ means.T
    label_of = similarity.argmax(axis=1)
    label_of[shaping] = labels
    speaker_of: dict[tuple[int, int], int] = {}
    by_window: dict[int, list[int]] = {}
    for i, item in enumerate(pieces):
        by_window.setdefault(item.window, []).append(i)
    for w, members in by_window.items():
        chosen = label_of[members]
        if _apart_but_joined(embeddings[members], chosen):
            chosen = match_window(similarity[members])
        for i, speaker in zip(members, chosen):
            speaker_of[(w, pieces[i].local)] = int(speaker)
    return speaker_of


def speaker_means(pieces: list[Piece], embeddings: np.ndarray, speaker_of: dict[tuple[int, int], int]) -> np.ndarray:
    """(speakers, dim) unit mean voice of each speaker index, from its pieces with enough speech to
    have shaped the clusters (all its pieces when none has); a speaker without pieces gets zeros."""
    labels = np.array([speaker_of.get((p.window, p.local), -1) for p in pieces])
    shaping = np.array([p.seconds >= CLUSTER_SECONDS for p in pieces])
    means = np.zeros((int(labels.max()) + 1, embeddings.shape[1]))
    for k in range(len(means)):
        mine = labels == k
        chosen = embeddings[mine & shaping] if (mine & shaping).any() else embeddings[mine]
        if len(chosen):
            means[k] = chosen.mean(axis=0)
    return unit_rows(means)


def _apart_but_joined(vectors: np.ndarray, chosen: np.ndarray) -> bool:
    """True when two local speakers of one window landed in one speaker though their own voices
    point apart (cosine distance >= SAME_WINDOW_APART): then they are matched to distinct speakers.

    The segmentation model often gives one person two local slots in a window (a pause, a change
    of tone); forcing those apart filed a stretch of one person under the other every time. On the
    DEV long 2-person interviews, always forcing apart gave 10.4 / 12.0 / 3.5 / 8.9 % wrong-speaker
    words at 5 / 15 / 30 / 60 min; forcing only voices this far apart 3.5 / 0.1 / 1.3 / 4.3 %, with
    the DEV 30 s clips' DER unchanged (0.184; 0.192 at a distance of 0.6).
    """
    similarity = vectors @ vectors.T
    same = chosen[:, None] == chosen[None, :]
    np.fill_diagonal(same, False)
    return bool((same & (1.0 - similarity >= SAME_WINDOW_APART)).any())
