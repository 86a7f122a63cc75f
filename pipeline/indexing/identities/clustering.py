"""Clustering voices across recordings: each recording's speakers (the unit mean CAM++ vector the
diarizer keeps per speaker) joined into the people heard in the whole corpus. Pure functions over
Observations; observe.py reads and writes them in the book.

One rule decides whether a speaker is a voice already known, at ingest and when `heard speakers`
re-clusters: the speaker's average cosine to the voice's confirmed members (those a user named,
merged or split) is at least SAME_VOICE, and no two speakers of one recording are one voice.
Speakers that match no known voice are clustered among themselves by average linkage at the same
threshold, again never two of one recording together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]

# Average cosine at which two recordings' speakers are taken for one person. Measured with
# scripts/bench_voices.py (docs/benchmarks.md, "Voices across recordings"): on the AMI excerpts'
# DEV part the closest two different people reached 0.43 (their speech heard alone) and 0.40 (as
# diarized); the same person in two excerpts 0.04-0.66, median 0.28 as diarized (30 s far-field
# clips, a few seconds each). On generated interviews the same voice is 0.64-0.97, different ones
# at most 0.19. 0.5 keeps a margin above every different pair seen: a wrong name on someone's
# quotes is worse than one person listed as two voices, which `heard speakers merge` fixes.
SAME_VOICE = 0.5
# Speakers with less speech than this get no voice: a vector of a second or two is too noisy to
# name anybody by (they keep their recording's label, S1, S2...).
MIN_SECONDS = 3.0
# Above this many speakers, agglomerative clustering's distance matrix (n^2) gets large: the rest
# are joined one at a time to the nearest cluster instead.
MAX_AGGLOMERATIVE = 4000

Key = tuple[str, str]  # (recording id, speaker label)


@dataclass(frozen=True)
class Observation:
    recording: str
    label: str
    seconds: float
    embedding: tuple[float, ...]

    @property
    def key(self) -> Key:
        return (self.recording, self.label)


def usable(observation: Observation) -> bool:
    """Whether a speaker has enough speech for a voice (see MIN_SECONDS)."""
    return observation.seconds >= MIN_SECONDS and len(observation.embedding) > 0


def centroids(members: dict[str, list[Observation]]) -> dict[str, Vector]:
    """Each voice's mean member vector, not re-normalized: x @ mean is x's average cosine to the members."""
    return {voice: np.mean([o.embedding for o in found], axis=0) for voice, found in members.items() if found}


def match_known(
    speakers: list[Observation], known: dict[str, Vector], *, taken: frozenset[str] | set[str] = frozenset()
) -> dict[str, str]:
    """Speakers of ONE recording -> the known voice each one is (label -> voice id), one voice per
    speaker, each at SAME_VOICE or closer; `taken` voices already speak in this recording."""
    from scipy.optimize import linear_sum_assignment

    voices = [v for v in known if v not in taken]
    if not speakers or not voices:
        return {}
    similarity = np.array([[float(np.dot(s.embedding, known[v])) for v in voices] for s in speakers])
    rows, cols = linear_sum_assignment(-similarity)
    return {speakers[r].label: voices[c] for r, c in zip(rows, cols) if similarity[r, c] >= SAME_VOICE}


def cluster_observations(
    observations: list[Observation], *, pinned: dict[Key, str], known: dict[str, Vector] | None = None
) -> dict[Key, str | int]:
    """Every usable speaker -> its voice: a voice id (str) for speakers a user pinned to a voice and
    for those that match a `known` voice (centroids of what users confirmed; by default those of
    the pinned speakers), an int cluster number for the others."""
    speakers = [o for o in observations if usable(o)]
    by_key = {o.key: o for o in speakers}
    out: dict[Key, str | int] = {k: v for k, v in pinned.items() if k in by_key}
    if known is None:
        members: dict[str, list[Observation]] = {}
        for key, voice in out.items():
            members.setdefault(str(voice), []).append(by_key[key])
        known = centroids(members)
    by_recording: dict[str, list[Observation]] = {}
    for o in speakers:
        if o.key not in out:
            by_recording.setdefault(o.recording, []).append(o)
    taken: dict[str, set[str]] = {}
    for (recording, _), voice in out.items():
        taken.setdefault(recording, set()).add(str(voice))
    rest: list[Observation] = []
    for recording, found in by_recording.items():
        matched = match_known(found, known, taken=taken.get(recording, set()))
        for o in found:
            if o.label in matched:
                out[o.key] = matched[o.label]
            else:
                rest.append(o)
    for o, number in zip(rest, _agglomerate(rest)):
        out[o.key] = number
    return out


def _agglomerate(speakers: list[Observation]) -> list[int]:
    """Average-linkage clusters (cosine) cut at SAME_VOICE; two speakers of one recording never join."""
    if len(speakers) < 2:
        return list(range(len(speakers)))
    if len(speakers) > MAX_AGGLOMERATIVE:
        return _one_at_a_time(speakers)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    vectors = np.array([o.embedding for o in speakers])
    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    recordings = np.array([o.recording for o in speakers])
    # A pair from one recording is two people (the diarizer said so). Their distance is made so
    # large that any average including it stays above the cut, whatever the clusters' sizes.
    distance[recordings[:, None] == recordings[None, :]] = 10.0 * len(speakers) ** 2
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - SAME_VOICE, criterion="distance")
    numbers: list[int] = np.unique(labels, return_inverse=True)[1].tolist()
    return numbers


def _one_at_a_time(speakers: list[Observation]) -> list[int]:
    """For very large corpora: longest speakers first, each joins the closest cluster it matches."""
    order = sorted(range(len(speakers)), key=lambda i: -speakers[i].seconds)
    sums: list[Vector] = []
    counts: list[int] = []
    recordings: list[set[str]] = []
    out = [0] * len(speakers)
    for i in order:
        vector = np.asarray(speakers[i].embedding)
        best, best_similarity = -1, SAME_VOICE
        for c, total in enumerate(sums):
            if speakers[i].recording in recordings[c]:
                continue
            similarity = float(vector @ total) / counts[c]
            if similarity >= best_similarity:
                best, best_similarity = c, similarity
        if best < 0:
            sums.append(vector.copy())
            counts.append(1)
            recordings.append({speakers[i].recording})
            out[i] = len(sums) - 1
        else:
            sums[best] += vector
            counts[best] += 1
            recordings[best].add(speakers[i].recording)
            out[i] = best
    return out


def keep_ids(clusters: dict[int, list[Key]], previous: dict[Key, str], decided: set[str]) -> dict[int, str]:
    """A re-clustering's cluster numbers -> the voice ids they keep: each cluster keeps the id most
    of its speakers had, if no user decision holds that id (clusters left out get new ids)."""
    overlaps = sorted(
        (
            (sum(previous.get(k) == old for k in keys), number, old)
            for number, keys in clusters.items()
            for old in {previous[k] for k in keys if k in previous} - decided
        ),
        reverse=True,
    )
    ids: dict[int, str] = {}
    used: set[str] = set()
    for _, number, old in overlaps:
        if number not in ids and old not in used:
            ids[number], used = old, used | {old}
    return ids
