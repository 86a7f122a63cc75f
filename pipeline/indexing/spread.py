"""How the embedding model's cosines spread over this corpus, and the score cuts that follow it.

A cosine means something different with each model: two chunks of the hard dev set drawn at random
score 0.11 with all-MiniLM-L6-v2 (median) and 0.81 with multilingual-e5-small, whose cosines also
spread less. Every score cut heard tuned on all-MiniLM-L6-v2 is therefore kept in all-MiniLM-L6-v2's
units and moved into the index's own spread, measured at index time (ingest, reindex) over a sample
of the chunks and stored with the recipe (its `measured` figures, never a reason to rebuild):

- cuts between a query's cosines (the margin within which a neighbouring sentence joins a quote, the
  weight of the query's words in a sentence's score) scale with how far the best matches of a
  question stand above the rest: for each of PROBES, generic interview questions encoded as queries,
  the 99th percentile of its cosines to the chunks minus their median, averaged (`query_top`);
- cuts between chunks (themes' attach and small-talk similarities) keep their distance from the
  median cosine of two chunks drawn at random, in units of those cosines' interquartile range.

Measured on the two dev sets (docs/models.md, "Score cuts that follow the model"), these are what
the model does and hardly what the corpus is: all-MiniLM-L6-v2's query_top differs by 0.1% between
the dev sets and its interquartile range by 7%, where its standard deviation moved 1.7x (the first
set's interviews share their greetings: a tail of near-identical pairs). multilingual-e5-small's
query_top is 0.19x all-MiniLM-L6-v2's on both, its interquartile range 0.35x: e5 compresses the top
of a query's matches more than its cosines overall (with 0.35 its quotes stayed 24% longer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import Store

# Vectors read to measure: 2,000 give about 2 million pairs, plenty, in well under a second.
SAMPLE = 2000
# Below this many chunks the figures say little about the model: the cuts stay as tuned.
MIN_CHUNKS = 8
# Questions a product manager asks of customer interviews, written for this measure alone (not taken
# from any dev set): what matters is how a model spreads a question's matches, not their answers.
PROBES = (
    "what do customers say about the price",
    "why did they almost cancel",
    "what was hard when they started",
    "which reports do they need",
    "what do they think of our support",
    "what slows them down every week",
    "what would make them pay more",
    "how do they share data with their accountant",
    "what breaks on their phones",
    "who else in the company uses it",
    "what do they do by hand today",
    "what do they like most",
    "how long did it take to get going",
    "what did they use before",
    "what worries them about security",
    "what do they wish it did",
    "how do they find old records",
    "what happens at the end of the month",
    "which tools do they connect it to",
    "why do they not trust the numbers",
    "what is confusing about the bill",
    "what made them choose us",
    "what do their managers ask for",
    "when does it feel too slow",
)


@dataclass(frozen=True)
class Spread:
    """Cosines of one index's model over its chunks."""

    query_top: float  # PROBES' 99th-percentile cosine to the chunks minus their median, averaged
    pair_median: float  # median cosine of two different chunks
    pair_iqr: float  # the interquartile range of those cosines
    nearest: float  # median over chunks of the cosine to the closest other chunk (reported only)
    chunks: int  # chunks measured

    def to_measured(self) -> dict[str, float]:
        return {
            "query_top": round(self.query_top, 5),
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
                query_top=float(measured["query_top"]),
                pair_median=float(measured["pair_median"]),
                pair_iqr=float(measured["pair_iqr"]),
                nearest=float(measured["nearest"]),
                chunks=int(measured["chunks"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return found if found.pair_iqr > 0 and found.query_top > 0 else None


# all-MiniLM-L6-v2 over the hard dev set (scripts/devset_hard, 34 recordings, 777 chunks), where the
# cuts were tuned: with it (and with all-MiniLM-L6-v2 on similar corpora) the cuts stay as they were.
REFERENCE = Spread(query_top=0.27701, pair_median=0.10661, pair_iqr=0.12794, nearest=0.63035, chunks=777)


def measure(vectors: np.ndarray, probes: np.ndarray) -> Spread | None:
    """The spread of chunk `vectors` (unit length, one row per chunk; a sample of them is enough)
    against the `probes`' query vectors, or None with fewer than MIN_CHUNKS chunks."""
    if len(vectors) < MIN_CHUNKS:
        return None
    chunks = np.asarray(vectors, dtype=np.float64)
    asked = np.asarray(probes, dtype=np.float64) @ chunks.T
    top, middle = np.percentile(asked, [99, 50], axis=1)
    cosines = chunks @ chunks.T
    low, median, high = np.percentile(cosines[np.triu_indices(len(chunks), k=1)], [25, 50, 75])
    np.fill_diagonal(cosines, -np.inf)
    return Spread(
        query_top=float(np.mean(top - middle)),
        pair_median=float(median),
        pair_iqr=float(high - low),
        nearest=float(np.median(cosines.max(axis=1))),
        chunks=len(chunks),
    )


def remeasure(store: Store, embedder: Embedder) -> Spread | None:
    """Measure the store's spread with the model that wrote it and record it with its recipe (ingest
    and reindex, after writing); a store too small to measure records none."""
    sample = store.vector_sample(SAMPLE)
    found = measure(sample, embedder.encode_queries(list(PROBES))) if len(sample) >= MIN_CHUNKS else None
    store.set_measured(found.to_measured() if found is not None else {})
    return found


@dataclass(frozen=True)
class Scale:
    """Score cuts tuned on REFERENCE, moved into an index's spread; as tuned without a measurement."""

    spread: Spread = REFERENCE

    def margin(self, tuned: float) -> float:
        """A difference between a query's cosines (a margin, a bonus) in this index's units."""
        return tuned * self.spread.query_top / REFERENCE.query_top

    def cosine(self, tuned: float) -> float:
        """A cosine level between chunks (a similarity cut) at the same place in this index's spread."""
        return self.spread.pair_median + (tuned - REFERENCE.pair_median) * self.spread.pair_iqr / REFERENCE.pair_iqr


def scale_of(measured: Mapping[str, float]) -> Scale:
    """The scale for an index whose recipe measured `measured` (as tuned when it measured nothing)."""
    spread = Spread.from_measured(measured)
    return Scale(spread) if spread is not None else Scale()
