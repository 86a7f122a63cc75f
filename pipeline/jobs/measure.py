"""What an index measures about its model once written (ingest, reindex): the spread of its cosines
(pipeline/indexing/spread.py), which the quotes' and themes' cuts follow, then the scores that keep
each share of a question's candidates (pipeline/finding/all_cut.py), which `search --all`'s cut
follows. Stored with the recipe; never a reason to rebuild."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import Store


def measure_index(settings: Settings, store: Store, embedder: Embedder) -> None:
    """Measure the written `store` with the model that wrote it and record the figures with its
    recipe; a store too small to measure records none, and its cuts stay as set."""
    from pipeline.finding.searcher import Searcher
    from pipeline.indexing.spread import remeasure

    if remeasure(store, embedder) is None:
        return
    # The spread first: the candidates' scores depend on it (the sentence re-score's weights).
    with Searcher(settings, store=store, embedder=embedder) as searcher:
        levels = searcher.measure_all_cut()
    if levels:
        store.set_measured({**store.recipe().measured, **levels})
