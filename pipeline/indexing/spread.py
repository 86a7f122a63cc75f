"""How the embedding model's cosines spread over this corpus, and the score cuts that follow it.

A cosine means something different with each model: two chunks of the first dev set drawn at random
score 0.11 with all-MiniLM-L6-v2 (median) and 0.82 with multilingual-e5-small, whose cosines also
spread 2.9x less (interquartile range 0.048 against 0.137). Every score cut heard tuned on
all-MiniLM-L6-v2 (the margin within which a neighbouring sentence joins a quote, the weight of the
words a sentence shares with the query, themes' attach and small-talk similarities) is therefore kept
in all-MiniLM-L6-v2's units and moved into the index's own spread: a margin scales by the ratio of
the spreads, a level keeps its distance from the median of random pairs in those units. The spread is
measured at index time (ingest, reindex) over a sample of the chunks' vectors and stored with the
recipe (its `measured` figures, never a reason to rebuild).

Median and interquartile range, not mean and standard deviation: a corpus of interviews that share
their greetings and closings (the first dev set) has a tail of near-identical pairs that moved
all-MiniLM-L6-v2's standard deviation from 0.117 (hard dev set) to 0.198 (first dev set); its
interquartile range moved from 0.128 to 0.137. The spread should say what the model does, not how
repetitive the corpus is.
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

    pair_median: float  # median cosine of two different chunks
    pair_iqr: float  # the interquartile range of those cosines: how far apart the model puts texts
    nearest: float  # median over chunks of the cosine to the closest other chunk
    chunks: int  # chunks measured

    def to_measured(self) -> dict[str, float]:
        return {
            "pair_median": round(self.pair_median, 5),
            "pair_iqr": round(self.pair_iqr, 5),
            "nearest": round(self.nearest, 5),
            "chunks": float(self.chunks),
        }

    @classmethod
    def from_measured(cls, measured: Mapping[str, float]) -> Spread | None:
        """The spread a recipe's measured figures hold, or None (an index from before, too small)."""
        try:
            found = cls(
                float(measured["pair_median"]), float(measured["pair_iqr"]), float(measured["nearest"]), int(measured["chunks"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        return found if found.pair_iqr > 0 else None


# all-MiniLM-L6-v2 over the hard dev set (scripts/devset_hard, 34 recordings, 777 chunks), where the
# cuts were tuned: with it (and with all-MiniLM-L6-v2 on similar corpora) the cuts stay as they were.
REFERENCE = Spread(pair_median=0.1066, pair_iqr=0.1279, nearest=0.6303, chunks=777)


def measure(vectors: np.ndarray) -> Spread | None:
    """The spread of `vectors` (unit length, one row per chunk; a sample of them is enough), or None
    with fewer than MIN_CHUNKS rows."""
    if len(vectors) < MIN_CHUNKS:
        return None
    cosines = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T
    pairs = cosines[np.triu_indices(len(vectors), k=1)]
    low, median, high = np.percentile(pairs, [25, 50, 75])
    np.fill_diagonal(cosines, -np.inf)
    return Spread(
        pair_median=float(median),
        pair_iqr=float(high - low),
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
        return self.spread.pair_iqr / REFERENCE.pair_iqr

    def margin(self, tuned: float) -> float:
        """A difference between two cosines (a margin, a bonus) in this index's units."""
        return tuned * self.ratio

    def cosine(self, tuned: float) -> float:
        """A cosine level (a similarity cut) at the same place in this index's spread."""
        return self.spread.pair_median + (tuned - REFERENCE.pair_median) * self.ratio


def scale_of(measured: Mapping[str, float]) -> Scale:
    """The scale for an index whose recipe measured `measured` (as tuned when it measured nothing)."""
    spread = Spread.from_measured(measured)
    return Scale(spread) if spread is not None else Scale()
