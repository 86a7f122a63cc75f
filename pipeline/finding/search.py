"""Query in, ranked timestamped quotes out.

1. The query's subject is taken out of its phrasing (finding/query.py).
2. Chunks come from two rankings, dense (Chroma) and keyword (BM25, indexing/keyword_index.py),
   fused into one (finding/fusion.py). The interviewer's questions are down-weighted: by role when
   speakers are known, else by their question marks.
3. Each chunk's best 1-3 sentences become the quote, timed by its words (finding/quotes.py); quotes
   from the same passage are merged or dropped, and `per_recording` caps hits from one recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import SearchSettings, Settings
from pipeline.finding.fusion import reciprocal_rank_fusion, score_fusion, speech_weight
from pipeline.finding.hits import Hit
from pipeline.indexing.chunking import Chunk

if TYPE_CHECKING:
    from pipeline.finding.quotes import Quote, QuoteFinder
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.spread import Scale
    from pipeline.indexing.store import Store


@dataclass
class Ranking:
    ranked: list[str]  # chunk ids, best first
    scored: dict[str, float]  # chunk id -> fused score, weighted by who speaks
    chunks: dict[str, Chunk]
    quotes: QuoteFinder  # finds each chunk's quote for this query


def rank(
    query: str,
    *,
    settings: Settings,
    store: Store,
    embedder: Embedder,
    scale: Scale,
    pool: int,
    where: dict[str, Any] | None,
    mode: str | None,
) -> Ranking:
    """Chunks ranked for `query`: dense and keyword rankings of `pool` chunks each, fused, weighted.
    `mode` (hybrid, dense or keyword) defaults to search.mode; `scale` moves the quotes' score cuts
    into the model's spread (pipeline/indexing/spread.py). Pipeline.finding.searcher calls this."""
    from pipeline.finding.query import topic
    from pipeline.finding.quotes import QuoteFinder

    options = settings.search
    mode = mode or options.mode
    subject = topic(query)
    vector = embedder.encode_queries([subject])[0]
    quotes = QuoteFinder(settings, embedder, vector, subject, scale=scale)

    chunks: dict[str, Chunk] = {}
    dense = _dense(store, vector, pool, where, quotes, chunks, options) if mode in ("hybrid", "dense") else {}
    keyword = _keyword(store, subject, pool, where, chunks, options) if mode in ("hybrid", "keyword") else {}
    fused = _fuse(dense, keyword, mode, options)
    scored = {
        chunk_id: score
        * speech_weight(
            chunks[chunk_id].role,
            chunks[chunk_id].text,
            options,
            opening=chunks[chunk_id].role is None and quotes.is_opening(chunks[chunk_id]),
        )
        for chunk_id, score in fused.items()
        if chunk_id in chunks
    }
    ranked = sorted(scored, key=lambda i: (-scored[i], i))
    return Ranking(ranked, scored, chunks, quotes)


def _dense(
    store: Store,
    vector: np.ndarray,
    pool: int,
    where: dict[str, Any] | None,
    quotes: QuoteFinder,
    chunks: dict[str, Chunk],
    options: SearchSettings,
) -> dict[str, float]:
    """Cosine of each nearest chunk; the best few are also scored by their best sentence."""
    dense: dict[str, float] = {}
    for found in store.query(vector, pool, where=where):
        dense[found.chunk.id] = 1.0 - found.distance
        chunks[found.chunk.id] = found.chunk
    for chunk_id in sorted(dense, key=dense.__getitem__, reverse=True)[: options.sentence_rescore]:
        best = quotes.best_sentence_cosine(chunks[chunk_id])
        if best is not None:
            dense[chunk_id] = max(dense[chunk_id], best)
    return dense


def _keyword(
    store: Store, subject: str, pool: int, where: dict[str, Any] | None, chunks: dict[str, Chunk], options: SearchSettings
) -> dict[str, float]:
    """BM25 of each matching chunk; for score fusion divided by the query's own weight."""
    keywords = store.searchable_keywords()
    allowed = store.ids_where(where) if where else None
    keyword = {h.chunk_id: h.score for h in keywords.query(subject, pool, allowed)}
    if keyword and options.fusion == "score":
        # Against the query's own weight, not min-max: a lone weak match must not count as 1.
        ideal = keywords.query_weight(subject)
        keyword = {i: min(1.0, score / ideal) for i, score in keyword.items()} if ideal > 0 else keyword
    chunks.update(store.get_chunks([i for i in keyword if i not in chunks]))
    return keyword


def _fuse(dense: dict[str, float], keyword: dict[str, float], mode: str, options: SearchSettings) -> dict[str, float]:
    if mode == "dense":
        return dense
    if mode == "keyword":
        return keyword
    weights = [options.dense_weight, 1.0 - options.dense_weight]
    if options.fusion == "rrf":
        return reciprocal_rank_fusion(
            [sorted(dense, key=dense.__getitem__, reverse=True), sorted(keyword, key=keyword.__getitem__, reverse=True)],
            k=options.rrf_k,
            weights=weights,
        )
    return score_fusion([dense, keyword], weights=weights, normalize=[True, False])


@dataclass
class _Passage:
    """The sentences a hit quotes: numbers in its recording (None without the transcript)."""

    recording_id: str
    first: int | None
    last: int | None
    speaker: str | None


def quote_hits(ranking: Ranking, *, k: int, per_recording: int, max_sentences: int) -> list[Hit]:
    """The best `k` quotes of the ranked chunks; a quote of sentences already quoted is dropped, and
    one continuing a quoted passage of the same speaker joins it while it stays quote-sized."""
    hits: list[Hit] = []
    passages: list[_Passage] = []
    for chunk_id in ranking.ranked:
        if len(hits) == k:
            break
        chunk = ranking.chunks[chunk_id]
        if per_recording and sum(h.recording_id == chunk.recording_id for h in hits) >= per_recording:
            continue
        quote = ranking.quotes.find(chunk)
        if any(_joined(chunk.recording_id, quote, p, hits[n], ranking.quotes, max_sentences) for n, p in enumerate(passages)):
            continue
        hits.append(_hit(chunk, quote, round(ranking.scored[chunk_id], 4)))
        passages.append(_Passage(chunk.recording_id, quote.first, quote.last, quote.speaker))
    return hits


def _joined(recording_id: str, quote: Quote, passage: _Passage, hit: Hit, quotes: QuoteFinder, max_sentences: int) -> bool:
    """Whether `quote` belongs to the passage an earlier `hit` quotes: the same sentences again (the
    better-ranked hit stays), or the same speaker's next or previous sentences (joined into that hit
    while it stays quote-sized)."""
    first, last = passage.first, passage.last
    if passage.recording_id != recording_id or quote.first is None or quote.last is None:
        return False
    if first is None or last is None:
        return False
    if quote.first <= last and first <= quote.last:
        return True
    adjacent = quote.first == last + 1 or quote.last + 1 == first
    # Without speakers, a question next to an answer is the interviewer's: not one passage.
    asked = passage.speaker is None and (hit.text.endswith("?") or quote.text.endswith("?"))
    if not adjacent or passage.speaker != quote.speaker or asked:
        return False
    union = quotes.span(passage.recording_id, min(first, quote.first), max(last, quote.last))
    if union.first is not None and union.last is not None and union.last - union.first + 1 <= max_sentences:
        _apply_quote(hit, union)
        passage.first, passage.last = union.first, union.last
    return True


def _hit(chunk: Chunk, quote: Quote, score: float) -> Hit:
    hit = Hit(
        text="",
        recording=chunk.recording,
        recording_id=chunk.recording_id,
        title=chunk.title,
        start=0.0,
        end=0.0,
        speaker=chunk.speaker,
        score=score,
        chunk_id=chunk.id,
        role=chunk.role,
        metadata=chunk.metadata,
    )
    _apply_quote(hit, quote)
    return hit


def _apply_quote(hit: Hit, quote: Quote) -> None:
    hit.set_span(quote.text, quote.start, quote.end)
    hit.context_before, hit.context_after = quote.context_before, quote.context_after
