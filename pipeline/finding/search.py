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
from typing import Any

import numpy as np

from pipeline.config import MAX_K, SearchSettings, Settings
from pipeline.errors import ConfigError, UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.finding.fusion import reciprocal_rank_fusion, score_fusion, speech_weight
from pipeline.finding.hits import Answers, Hit
from pipeline.indexing.chunking import Chunk

MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("rrf", "score")


def search(
    query: str,
    settings: Settings,
    *,
    k: int | None = None,
    filters: SearchFilters | None = None,
    embedder=None,
    store=None,
    mode: str | None = None,
    per_recording: int | None = None,
) -> list[Hit]:
    """The `k` best quotes for `query` that pass `filters`, best first.

    `mode` is hybrid (default, search.mode), dense or keyword. `per_recording` caps the hits
    from one recording (search.per_recording; 0 or None: no cap). `embedder` and `store` may be
    passed in by long-lived callers (the web app) to skip reloading.
    """
    options = settings.search
    k = k or options.k
    if not 1 <= k <= MAX_K:
        raise UsageError(f"k: asked for {k} quotes; give 1 to {MAX_K}")
    per_recording = options.per_recording if per_recording is None else per_recording
    pool = max(options.candidates, 4 * k)
    ranking = _rank(query, settings, pool=pool, filters=filters, embedder=embedder, store=store, mode=mode)
    return _quote_hits(ranking, k=k, per_recording=per_recording, max_sentences=options.quote_sentences)


def search_all(
    query: str,
    settings: Settings,
    *,
    filters: SearchFilters | None = None,
    embedder=None,
    store=None,
    mode: str | None = None,
    cutoff: float | None = None,
) -> list[Hit]:
    """Every passage that answers `query`, not a fixed k: each quote whose fused score reaches
    `cutoff` (search.all_cutoff, calibrated on the hard dev set's tune half), best first, one hit
    per passage. The same hits `search` gives, in the same order, only cut by score, not by count.

    Themes, `heard search --all` and the web page's "every interview" view call this.
    """
    options = settings.search
    cutoff = options.all_cutoff if cutoff is None else cutoff
    ranking = _rank(query, settings, pool=options.all_candidates, filters=filters, embedder=embedder, store=store, mode=mode)
    ranking.ranked = [chunk_id for chunk_id in ranking.ranked if ranking.scored[chunk_id] >= cutoff]
    return _quote_hits(ranking, k=len(ranking.ranked), per_recording=0, max_sentences=options.quote_sentences)


def every_answer(
    query: str,
    settings: Settings,
    *,
    filters: SearchFilters | None = None,
    embedder=None,
    store=None,
) -> Answers:
    """`search_all`'s hits with the count the CLI and the web page show: "pricing: 7 of 20 recordings, 9 quotes"."""
    from pipeline.finding.query import topic
    from pipeline.indexing.store import open_store

    store = store or open_store(settings, create=False)
    hits = search_all(query, settings, filters=filters, embedder=embedder, store=store)
    return Answers(topic(query), hits, store.recording_count(filters.where() if filters else None))


@dataclass
class _Ranking:
    ranked: list[str]  # chunk ids, best first
    scored: dict[str, float]  # chunk id -> fused score, weighted by who speaks
    chunks: dict[str, Chunk]
    quotes: Any  # the QuoteFinder for this query


def _rank(query: str, settings: Settings, *, pool: int, filters, embedder, store, mode: str | None) -> _Ranking:
    """Chunks ranked for `query`: dense and keyword rankings of `pool` chunks each, fused, weighted."""
    from pipeline.finding.query import topic
    from pipeline.finding.quotes import QuoteFinder
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.recipe import recipe_of
    from pipeline.indexing.store import open_store

    if not query.strip():
        raise UsageError('QUERY is empty: say what to look for, e.g. heard search "pricing"')
    options = settings.search
    mode = mode or options.mode
    if mode not in MODES:
        raise ConfigError(f"search mode '{mode}': expected one of {', '.join(MODES)}")
    if options.fusion not in FUSIONS:
        raise ConfigError(f"search.fusion '{options.fusion}': expected one of {', '.join(FUSIONS)}")
    store = store or open_store(settings, create=False)
    embedder = embedder or Embedder(settings.embedding)
    store.check_recipe(recipe_of(embedder))

    subject = topic(query)
    vector = embedder.encode([subject])[0]
    where = filters.where() if filters else None
    quotes = QuoteFinder(settings, embedder, vector, subject)

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
    return _Ranking(ranked, scored, chunks, quotes)


def _dense(
    store, vector: np.ndarray, pool: int, where, quotes, chunks: dict[str, Chunk], options: SearchSettings
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


def _keyword(store, subject: str, pool: int, where, chunks: dict[str, Chunk], options: SearchSettings) -> dict[str, float]:
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


def _quote_hits(
    ranking: _Ranking,
    *,
    k: int,
    per_recording: int,
    max_sentences: int,
) -> list[Hit]:
    """The best `k` quotes of the ranked chunks; a quote of sentences already quoted is dropped, and
    one continuing a quoted passage of the same speaker joins it while it stays quote-sized."""
    ranked, scored, chunks, quotes = ranking.ranked, ranking.scored, ranking.chunks, ranking.quotes
    hits: list[Hit] = []
    spans: list[tuple[str, int, int, str | None]] = []  # (recording id, first, last sentence, speaker)
    for chunk_id in ranked:
        if len(hits) == k:
            break
        chunk = chunks[chunk_id]
        if per_recording and sum(h.recording_id == chunk.recording_id for h in hits) >= per_recording:
            continue
        quote = quotes.find(chunk)
        merged = False
        for number, (rec, first, last, speaker) in enumerate(spans):
            if rec != chunk.recording_id or quote.first is None:
                continue
            if quote.first <= last and first <= quote.last:
                merged = True  # the same sentences again: keep the better-ranked hit
                break
            adjacent = quote.first == last + 1 or quote.last + 1 == first
            # Without speakers, a question next to an answer is the interviewer's: not one passage.
            asked = speaker is None and (hits[number].text.endswith("?") or quote.text.endswith("?"))
            if adjacent and speaker == quote.speaker and not asked:
                # The same passage continued: one hit, if it stays quote-sized.
                union = quotes.span(chunk.recording_id, min(first, quote.first), max(last, quote.last))
                if union.last - union.first + 1 <= max_sentences:
                    _apply_quote(hits[number], union)
                    spans[number] = (rec, union.first, union.last, speaker)
                merged = True
                break
        if merged:
            continue
        hits.append(_hit(chunk, quote, round(scored[chunk_id], 4)))
        spans.append((chunk.recording_id, quote.first, quote.last, quote.speaker))
    return hits


def _hit(chunk: Chunk, quote: Any, score: float) -> Hit:
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


def _apply_quote(hit: Hit, quote: Any) -> None:
    hit.text, hit.start, hit.end = quote.text, quote.start, quote.end
    hit.context_before, hit.context_after = quote.context_before, quote.context_after
