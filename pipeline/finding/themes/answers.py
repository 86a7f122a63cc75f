"""The chunks that answer a question: what `heard themes QUERY` groups.

Until search exposes "every passage that answers" (issue 12's `--all`), this is a deep search cut
at a share of its best score; when that lands, this one function switches to it.
"""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.finding.filters import SearchFilters

# Quotes asked of search, and the share of the best hit's score a hit needs to count as an answer.
POOL = 200
SCORE_SHARE = 0.5


def answering_chunk_ids(query: str, settings: Settings, *, filters: SearchFilters | None, embedder, store) -> set[str]:
    from pipeline.finding.search import search

    hits = search(query, settings, k=POOL, filters=filters, embedder=embedder, store=store)
    if not hits:
        return set()
    best = max(hit.score for hit in hits)
    return {hit.chunk_id for hit in hits if hit.score >= SCORE_SHARE * best}
