"""The chunks that answer a question: what `heard themes QUERY` groups.

The same passages `heard search --all` lists (issue 12's `search_all`: every quote whose fused score
reaches search.all_cutoff), so a theme's quotes and the search's count agree.
"""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.finding.filters import SearchFilters


def answering_chunk_ids(query: str, settings: Settings, *, filters: SearchFilters | None, embedder, store) -> set[str]:
    from pipeline.finding.search import search_all

    return {hit.chunk_id for hit in search_all(query, settings, filters=filters, embedder=embedder, store=store)}
