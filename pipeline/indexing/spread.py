"""How the embedding model's cosines spread over this corpus, and the score cuts that follow it.

A cosine means something different with each model: two unrelated chunks of the same interviews score
about 0.1 with all-MiniLM-L6-v2 and about 0.75 with multilingual-e5-small, whose cosines also spread
4-5x less. Every score cut heard tuned on all-MiniLM-L6-v2 (the margin within which a neighbouring
sentence joins a quote, the weight of the words a sentence shares with the query, themes' attach and
small-talk similarities) is therefore kept in all-MiniLM-L6-v2's units and moved into the index's own
spread: a margin scales by the ratio of the spreads, a level keeps its distance from the mean of random
pairs in those units. The spread is measured at index time (ingest, reindex) over a sample of the
chunks' vectors and stored with the recipe (its `measured` figures, never a reason to rebuild).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pipeline.indexing.store import Store

# Vectors read to measure: 2,000 give about 2 million pairs, plenty, in well under a second.
SAMPLE = 2000
# Below this many chunks the figures say little about the model: the cuts stay as tuned.
MIN_CHUNKS = 8


@dataclass(frozen=True)
class Spread:
    """Cosines between chunks of one index."""

    pair_mean: float  # mean cosine of two different chunks
    pair_std: float  # their standard deviation: how far apart the model puts texts
    nearest: float  # median over chunks of the cosine to the closest other chunk
    chunks: int  # chunks measured

    def to_measured(self) -> dict[str, float]:
        return {
            "pair_mean": round(self.pair_mean, 5),
            "pair_std": round(self.pair_std, 5),
            "nearest": round(self.nearest, 5),
            "chunks": float(self.chunks),
        }

    @classmethod
    def from_measured(cls, measured: Mapping[str, float]) -> Spread | None:
        """The spread a recipe's measured figures hold, or None (an index from before, too small)."""
        try:
            found = cls(
                float(measured["pair_mean"]), float(measured["pair_std"]), float(measured["nearest"]), int(measured["chunks"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        return found if found.pair_std > 0 else None


# all-MiniLM-L6-v2 over the hard dev set (scripts/devset_hard, 34 recordings), where the cuts were tuned.
REFERENCE = Spread(pair_mean=0.1, pair_std=0.1, nearest=0.6, chunks=0)


def measure(vectors: np.ndarray) -> Spread | None:
    """The spread of `vectors` (unit length, one row per chunk; a sample of them is enough), or None
    with fewer than MIN_CHUNKS rows."""
    if len(vectors) < MIN_CHUNKS:
        return None
    cosines = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T
    pairs = cosines[np.triu_indices(len(vectors), k=1)]
    np.fill_diagonal(cosines, -np.inf)
    return Spread(
        pair_mean=float(pairs.mean()),
        pair_std=float(pairs.std()),
        nearest=float(np.median(cosines.max(axis=1))),
        chunks=len(vectors),
    )


def remeasure(store: Store) -> Spread | None:
    """Measure the store's spread and record it with its recipe (ingest and reindex, after writing);
    a store too small to measure records none."""
    found = measure(store.vector_sample(SAMPLE))
    store.set_measured(found.to_measured() if found is not None else {})
    return found


@dataclass(frozen=True)
class Scale:
    """Score cuts tuned on REFERENCE, moved into an index's spread; as tuned without a measurement."""

    spread: Spread = REFERENCE

    @property
    def ratio(self) -> float:
        """How much wider this index's cosines spread than the reference's."""
        return self.spread.pair_std / REFERENCE.pair_std

    def margin(self, tuned: float) -> float:
        """A difference between two cosines (a margin, a bonus) in this index's units."""
        return tuned * self.ratio

    def cosine(self, tuned: float) -> float:
        """A cosine level (a similarity cut) at the same place in this index's spread."""
        return self.spread.pair_mean + (tuned - REFERENCE.pair_mean) * self.ratio


def scale_of(measured: Mapping[str, float]) -> Scale:
    """The scale for an index whose recipe measured `measured` (as tuned when it measured nothing)."""
    spread = Spread.from_measured(measured)
    return Scale(spread) if spread is not None else Scale()
