"""Where `search --all` cuts in this index's scores: search.all_cutoff is set in all-MiniLM-L6-v2's
units and moved to the same place in any other model's scores, so `--all` keeps as much with each.

Why it has to move: hybrid search min-max normalises the dense cosines of a question's candidates,
which removes a model's shift and scale but not the shape of its scores. multilingual-e5-small's are
bunched near a question's best match, so at 0.35 it kept 1.77x the quotes all-MiniLM-L6-v2 keeps
(19.7 a question against 11.2, precision 0.146 against 0.208: hard dev set, tune half).

How: at index time (ingest, reindex, after the spread of pipeline/indexing/spread.py) each of the
spread's PROBES, generic questions in no dev set, is ranked as `search --all` ranks a question (its
all_candidates candidates, fused and weighted), and for each share in SHARES the score that keeps
that share of its candidates is averaged over the probes (`levels`, stored with the recipe's
measured figures; averaged per probe, not pooled, so that a few probes with many close matches
do not set them). At query time the setting is the share it keeps on REFERENCE_LEVELS (all-MiniLM-
L6-v2 over the hard dev set, where it was tuned), and it is multiplied by how much higher this
index's level at that share stands than the reference's, each against its own level of a question's
best candidates (the top share). That anchor takes out what the corpus does: on the first dev set
(207 chunks, so 200 candidates are nearly all of them) every model's levels stand 1.15x those on
the hard set, and matching shares alone moved all-MiniLM-L6-v2's own cut there from 0.35 to 0.40
(precision 0.28 to 0.39); anchored it is 0.347. Against the anchor the shape is the model's: e5's
level where 0.35 cuts is 1.18x all-MiniLM-L6-v2's on the hard set, 1.19x on the first.
Measured (docs/models.md, "Score cuts that follow the model"): e5's cut 0.408 on the hard set, and
on its held-out half precision 0.289, recall 0.487, 10.9 quotes a question against all-MiniLM-L6-v2's
0.284, 0.522, 10.8 (at 0.35 unmoved: 0.216, 0.529, 17.6).

Only hybrid search with score fusion (the default) moves its cut: dense mode cuts raw cosines,
keyword mode BM25 and rrf fused ranks, whose cuts stay as set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from pipeline.config import SearchSettings

# Shares of a question's candidates at which the keeping score is measured: finely where cuts keep
# a few percent (0.35 keeps 3.9% with all-MiniLM-L6-v2), coarsely below.
SHARES = (
    *(round(0.005 * n, 3) for n in range(1, 20)),
    *(round(0.02 * n, 2) for n in range(5, 10)),
    *(round(0.1 * n, 1) for n in range(2, 11)),
)
_KEY = "keep_{:g}"  # measured figure: the score that keeps this share of a question's candidates

# all-MiniLM-L6-v2 over the hard dev set (scripts/devset_hard, 777 chunks), where search.all_cutoff
# was tuned; printed by scripts/calibrate_all_cutoff.py --reference.
REFERENCE_LEVELS: tuple[float, ...] = (
    0.56625,
    0.50685,
    0.46918,
    0.43794,
    0.40756,
    0.38487,
    0.36465,
    0.34282,
    0.32949,
    0.31903,
    0.30777,
    0.29879,
    0.28924,
    0.27989,
    0.27168,
    0.26267,
    0.25477,
    0.24632,
    0.23909,
    0.23047,
    0.20256,
    0.18212,
    0.16478,
    0.15111,
    0.13631,
    0.08732,
    0.05827,
    0.03710,
    0.02297,
    0.01368,
    0.00788,
    0.00362,
    0.00000,
)


# Below this many chunks a question's candidates are the whole corpus, a handful each, and their
# shares say nothing about the model (the examples' 28 chunks put all-MiniLM-L6-v2's cut at 0.47):
# the cut stays as set.
MIN_CHUNKS = 100
# Below this the reference's levels are too near 0 to compare: such a cut stays as set.
LOWEST = 0.05


@dataclass(frozen=True)
class AllCut:
    """search.all_cutoff (all-MiniLM-L6-v2's units) and the score it cuts at on this index."""

    setting: float
    in_use: float
    share: float | None = None  # the share of a question's candidates it keeps; None: not moved


def measure_levels(scores_of: Callable[[str], Iterable[float]], probes: Iterable[str]) -> dict[str, float]:
    """The levels to store with the recipe: for each share in SHARES, the score that keeps that
    share of a probe's candidates (`scores_of(probe)`: their fused scores), averaged over the probes;
    empty when no probe has candidates."""
    found = [np.asarray(list(scores_of(probe)), dtype=np.float64) for probe in probes]
    found = [scores for scores in found if len(scores)]
    if not found:
        return {}
    quantiles = 1.0 - np.asarray(SHARES)
    levels = np.mean([np.quantile(scores, quantiles) for scores in found], axis=0)
    return {_KEY.format(share): round(float(level), 5) for share, level in zip(SHARES, levels)}


def levels_of(measured: Mapping[str, float]) -> tuple[float, ...] | None:
    """The levels a recipe's measured figures hold, or None (an index from before, too small)."""
    try:
        return tuple(float(measured[_KEY.format(share)]) for share in SHARES)
    except (KeyError, TypeError, ValueError):
        return None


def all_cut(setting: float, measured: Mapping[str, float], *, moves: bool = True) -> AllCut:
    """Where a cut of `setting` (all-MiniLM-L6-v2's units) falls on the index whose recipe measured
    `measured`: `setting` times how much higher, against the level of a question's best candidates,
    this index's level stands at the share of candidates `setting` keeps on the reference. As set when
    nothing was measured or the scores are not hybrid's fused ones (`moves`)."""
    own = levels_of(measured)
    reference = np.asarray(REFERENCE_LEVELS)
    if not moves or own is None or len(reference) != len(SHARES) or own[0] <= 0:
        return AllCut(setting, setting)
    if not LOWEST < setting < reference[0]:
        return AllCut(setting, setting)  # beyond what the probes' candidates say
    # Levels fall as the share grows; np.interp wants rising points.
    share = float(np.interp(-setting, -reference, SHARES))
    here = float(np.interp(share, SHARES, own)) / own[0]
    there = setting / reference[0]
    return AllCut(setting, round(setting * here / there, 4), round(share, 4))


def search_all_cut(
    options: SearchSettings, measured: Mapping[str, float], *, setting: float | None = None, mode: str | None = None
) -> AllCut:
    """Where `search --all` cuts on an index whose recipe measured `measured`: `setting`
    (search.all_cutoff when None) moved when the search is hybrid with score fusion (`mode`, else
    search.mode), as set otherwise. Every caller's one rule: search, eval, `heard status`."""
    moves = (mode or options.mode) == "hybrid" and options.fusion == "score"
    return all_cut(options.all_cutoff if setting is None else setting, measured, moves=moves)
