"""What customers talk about: their quotes across all interviews, grouped into themes.

1. The quotes: every chunk a customer or guest said (units.py), or with a question only those that
   answer it (the passages `heard search --all` lists), narrowed by search's filters; small talk and
   one-word answers are left out.
2. Grouped by their indexed vectors (grouping.py): no model runs again, so themes cost one pass over
   the index's vectors, and the same index gives the same themes whatever the order of ingest.
3. Labeled by the key phrases their quotes share (labels.py); quotes most representative first;
   themes by how many recordings mention them.
4. Kept in the data dir (cache.py) until the index changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.finding.filters import SearchFilters
from pipeline.finding.hits import Hit

if TYPE_CHECKING:
    from pipeline.finding.quotes import Quote
    from pipeline.finding.searcher import Searcher
    from pipeline.indexing.chunking import Chunk


@dataclass
class Theme:
    label: str  # key phrases of its quotes, "renewal, per seat, budget"
    recordings: int  # how many recordings have a quote in it
    companies: int  # how many companies (by the recordings' metadata)
    quotes: list[Hit] = field(default_factory=list)  # most representative first

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "recordings": self.recordings,
            "companies": self.companies,
            "quotes": [q.to_dict() for q in self.quotes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Theme:
        return cls(data["label"], data["recordings"], data["companies"], [Hit(**q) for q in data["quotes"]])


def find_themes(
    searcher: Searcher,
    *,
    query: str | None = None,
    filters: SearchFilters | None = None,
    min_recordings: int = 1,
) -> list[Theme]:
    """The themes of the customers' quotes (of those answering `query`, when given) that pass
    `filters`, by how many recordings mention them; those in fewer than `min_recordings` are left out.
    Searcher.themes calls this."""
    from pipeline.finding.themes import cache
    from pipeline.indexing.recipe import configured_recipe

    settings = searcher.settings
    # Before the cache: an answer kept from before a settings change is refused like a fresh one.
    searcher.store.check_recipe(configured_recipe(settings.embedding))
    where = filters.where() if filters else None
    name = cache.key(settings, searcher.store, query=query, where=where)
    found = cache.read(settings, name)
    if found is None:
        found = [theme.to_dict() for theme in _compute(searcher, query=query, filters=filters)]
        cache.write(settings, name, found)
    return [Theme.from_dict(theme) for theme in found if theme["recordings"] >= min_recordings]


def _compute(searcher: Searcher, *, query: str | None, filters: SearchFilters | None) -> list[Theme]:
    import numpy as np

    from pipeline.finding.quotes import chunk_quote
    from pipeline.finding.themes import grouping, labels, units

    settings, embedder = searcher.settings, searcher.embedder
    options = settings.themes
    store = searcher.checked_store()
    chunks, vectors = store.chunks_with_vectors(filters.where() if filters else None)
    keep = [i for i, chunk in enumerate(chunks) if units.is_answer(chunk)]
    if query:
        # The same passages `heard search --all` lists, so a theme's quotes and the search's count agree.
        allowed = {hit.chunk_id for hit in searcher.search_all(query, filters=filters)}
        keep = [i for i in keep if chunks[i].id in allowed]
    # Ids are content hashes and chunk numbers: this order does not depend on the order of ingest.
    keep.sort(key=lambda i: (chunks[i].recording_id, chunks[i].index))
    chunks, vectors = [chunks[i] for i in keep], vectors[keep] if keep else vectors[:0]
    # The two similarities are in all-MiniLM-L6-v2's cosines: moved into this index's spread.
    scale = searcher.scale
    talk = units.small_talk(
        chunks, vectors, embedder, similarity=scale.cosine(options.small_talk_similarity), min_words=options.min_words
    )
    substantive = np.flatnonzero(~talk).tolist()
    chunks, vectors = [chunks[i] for i in substantive], vectors[substantive]
    groups = grouping.group(vectors, options, attach=scale.cosine(options.attach_similarity))
    names = labels.labels(
        [c.text for c in chunks],
        groups,
        [c.recording_id for c in chunks],
        terms=options.label_terms,
        languages={c.metadata.get("language") for c in chunks},
    )
    themes = []
    for rows, label in zip(groups, names):
        closeness = vectors[rows] @ grouping.centre(vectors[rows])
        quotes = [
            _hit(chunks[row], chunk_quote(settings.transcripts_dir, chunks[row]), float(c)) for row, c in zip(rows, closeness)
        ]
        themes.append(
            Theme(
                label=label,
                recordings=len({c.recording_id for c in (chunks[row] for row in rows)}),
                companies=len(
                    {str(c.metadata["company"]).casefold() for c in (chunks[r] for r in rows) if c.metadata.get("company")}
                ),
                quotes=quotes,
            )
        )
    return sorted(themes, key=lambda t: (-t.recordings, -len(t.quotes), t.label))


def _hit(chunk: Chunk, quote: Quote, closeness: float) -> Hit:
    """A quote as search returns it; its score is its closeness to the theme's centre."""
    return Hit(
        text=quote.text,
        recording=chunk.recording,
        recording_id=chunk.recording_id,
        title=chunk.title,
        start=quote.start,
        end=quote.end,
        speaker=chunk.speaker,
        score=round(closeness, 4),
        chunk_id=chunk.id,
        role=chunk.role,
        metadata=chunk.metadata,
        context_before=quote.context_before,
        context_after=quote.context_after,
    )
