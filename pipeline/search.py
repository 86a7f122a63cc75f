"""Query in, ranked timestamped quotes out: hybrid retrieval, fusion, quote trimming, deduplication.

1. The query's subject is taken out of its phrasing (pipeline.query).
2. Chunks come from two rankings, dense (Chroma) and keyword (BM25, pipeline.keyword_index),
   fused into one. The interviewer's questions are down-weighted: by role when speakers are
   known, else by their question marks.
3. Each chunk's best 1-3 sentences become the quote, timed by its words; quotes from the same
   passage are merged or dropped, and `per_recording` caps hits from one recording.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.config import Settings

MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("rrf", "score")
QUESTION_ROLES = ("interviewer", "host")


@dataclass
class Hit:
    text: str  # the quote: the sentences that answer, not the whole chunk
    recording: str  # path of the source file
    recording_id: str
    title: str
    start: float  # of the quote's first word
    end: float  # of the quote's last word
    speaker: str | None
    score: float
    chunk_id: str
    role: str | None = None
    # The recording's metadata: company, segment, kind, date, tags.
    metadata: dict[str, Any] = field(default_factory=dict)
    context_before: str = ""  # the sentence(s) just before the quote, whoever said them
    context_after: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecordingHits:
    """The hits of one recording, for --group."""

    recording: str
    recording_id: str
    title: str
    hits: list[Hit]

    def to_dict(self) -> dict[str, Any]:
        return {"recording": self.recording, "recording_id": self.recording_id, "title": self.title,
                "hits": [h.to_dict() for h in self.hits]}


@dataclass
class SearchFilters:
    """Conditions every hit must meet; all given ones combine (AND)."""

    role: str | None = None
    speaker: str | None = None
    company: str | None = None
    segment: str | None = None
    tags: tuple[str, ...] = ()  # every tag must be present
    since: datetime.date | None = None
    until: datetime.date | None = None
    recording: str | None = None  # a recording id

    def where(self) -> dict[str, Any] | None:
        """The Chroma `where` clause, or None when nothing is filtered."""
        clauses: list[dict[str, Any]] = []
        if self.role:
            clauses.append({"role": self.role.casefold()})
        # Names, companies, segments and tags match whatever their case (lower-cased copies in the store).
        for key in ("speaker", "company", "segment"):
            if getattr(self, key):
                clauses.append({f"{key}_key": getattr(self, key).casefold()})
        clauses += [{"tags_key": {"$contains": tag.casefold()}} for tag in self.tags]
        if self.since:
            clauses.append({"date_key": {"$gte": _date_key(self.since)}})
        if self.until:
            clauses.append({"date_key": {"$lte": _date_key(self.until)}})
        if self.recording:
            clauses.append({"recording_id": self.recording})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def recording_id_of(recording: str) -> str:
    """A recording id from an id or the path of a recording (or transcript) file."""
    from pathlib import Path

    from pipeline import sources

    path = Path(recording).expanduser()
    if path.is_file():
        return sources.identify(path.resolve()).id
    return recording


def _date_key(day: datetime.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


# ---------------------------------------------------------------------------------------------
# Fusion: pure functions over rankings, so they can be measured and tested alone.


def reciprocal_rank_fusion(rankings: list[list[str]], k: float = 60.0, weights: list[float] | None = None) -> dict[str, float]:
    """sum(weight / (k + rank)) over the rankings each id appears in (rank from 1)."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def score_fusion(scored: list[dict[str, float]], weights: list[float] | None = None,
                 normalize: list[bool] | None = None) -> dict[str, float]:
    """Weighted sum of scores, each list min-max normalized unless `normalize` says it already is
    on a 0-1 scale; an id missing from a list gets 0 there."""
    weights = weights or [1.0] * len(scored)
    normalize = normalize or [True] * len(scored)
    fused: dict[str, float] = {}
    for scores, weight, norm_it in zip(scored, weights, normalize):
        if not scores:
            continue
        low, high = min(scores.values()), max(scores.values())
        for item, score in scores.items():
            norm = ((score - low) / (high - low) if high > low else 1.0) if norm_it else score
            fused[item] = fused.get(item, 0.0) + weight * norm
    for scores in scored:
        for item in scores:
            fused.setdefault(item, 0.0)
    return fused


_SENTENCE_SPLIT = re.compile(r"(?<=[.?!…])\s+")


def question_share(text: str) -> float:
    """Share of the words of `text` that are in sentences ending with a question mark."""
    parts = [p for p in _SENTENCE_SPLIT.split(text.strip()) if p]
    total = sum(len(p.split()) for p in parts)
    return sum(len(p.split()) for p in parts if p.rstrip().endswith("?")) / total if total else 0.0


def speech_weight(role: str | None, text: str, settings, opening: bool = False) -> float:
    """How much a chunk's score counts: the interviewer's questions should not outrank answers.

    With roles (speaker diarization) an interviewer or host chunk gets `interviewer_weight`;
    without them, question sentences stand in for the interviewer, and so does the `opening`
    (what is said before the recording's first question: "Let's talk about pricing.").
    """
    if role in QUESTION_ROLES:
        return settings.interviewer_weight
    if role is not None:
        return 1.0
    if opening:
        return settings.question_weight
    return 1.0 - (1.0 - settings.question_weight) * question_share(text)


# ---------------------------------------------------------------------------------------------


def search(
    query: str,
    settings: Settings,
    k: int | None = None,
    filters: SearchFilters | None = None,
    embedder=None,
    store=None,
    *,
    mode: str | None = None,
    per_recording: int | None = None,
) -> list[Hit]:
    """The `k` best quotes for `query` that pass `filters`, best first.

    `mode` is hybrid (default, search.mode), dense or keyword. `per_recording` caps the hits
    from one recording (search.per_recording; 0 or None: no cap). `embedder` and `store` may be
    passed in by long-lived callers (the web app) to skip reloading.
    """
    from pipeline import query as query_parsing
    from pipeline.embed import Embedder
    from pipeline.errors import ConfigError
    from pipeline.store import open_store

    options = settings.search
    k = k or options.k
    mode = mode or options.mode
    if mode not in MODES:
        raise ConfigError(f"search mode '{mode}': expected one of {', '.join(MODES)}")
    if options.fusion not in FUSIONS:
        raise ConfigError(f"search.fusion '{options.fusion}': expected one of {', '.join(FUSIONS)}")
    per_recording = options.per_recording if per_recording is None else per_recording
    store = store or open_store(settings, create=False)
    embedder = embedder or Embedder(settings.embedding)
    check_index_model(store, settings, embedder)

    subject = query_parsing.topic(query)
    vector = embedder.encode([subject])[0]
    where = filters.where() if filters else None
    pool = max(options.candidates, 4 * k)

    from pipeline.quotes import QuoteFinder

    quotes = QuoteFinder(settings, embedder, vector, subject)
    dense: dict[str, float] = {}
    chunks = {}
    if mode in ("hybrid", "dense"):
        for found in store.query(vector, pool, where=where):
            dense[found.chunk.id] = 1.0 - found.distance
            chunks[found.chunk.id] = found.chunk
        # The best few chunks are scored by their best sentence too (search.sentence_rescore).
        for chunk_id in sorted(dense, key=dense.get, reverse=True)[:options.sentence_rescore]:
            best = quotes.best_sentence_cosine(chunks[chunk_id])
            if best is not None:
                dense[chunk_id] = max(dense[chunk_id], best)
    keyword: dict[str, float] = {}
    if mode in ("hybrid", "keyword"):
        store.sync_keywords()
        allowed = store.ids_where(where) if where else None
        keyword = {h.chunk_id: h.score for h in store.keywords.query(subject, pool, allowed)}
        if keyword and options.fusion == "score":
            # Against the query's own weight, not min-max: a lone weak match must not count as 1.
            ideal = store.keywords.query_weight(subject)
            keyword = {i: min(1.0, score / ideal) for i, score in keyword.items()} if ideal > 0 else keyword
        chunks.update(store.get_chunks([i for i in keyword if i not in chunks]))

    if mode == "dense":
        fused = dense
    elif mode == "keyword":
        fused = keyword
    elif options.fusion == "rrf":
        fused = reciprocal_rank_fusion(
            [sorted(dense, key=dense.get, reverse=True), sorted(keyword, key=keyword.get, reverse=True)],
            k=options.rrf_k, weights=[options.dense_weight, 1.0 - options.dense_weight])
    else:
        fused = score_fusion([dense, keyword], weights=[options.dense_weight, 1.0 - options.dense_weight],
                             normalize=[True, False])
    scored = {
        chunk_id: score * speech_weight(chunks[chunk_id].role, chunks[chunk_id].text, options,
                                        opening=chunks[chunk_id].role is None and quotes.is_opening(chunks[chunk_id]))
        for chunk_id, score in fused.items() if chunk_id in chunks
    }
    ranked = sorted(scored, key=lambda i: (-scored[i], i))
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
                if union.last - union.first + 1 <= options.quote_sentences:
                    _apply_quote(hits[number], union)
                    spans[number] = (rec, union.first, union.last, speaker)
                merged = True
                break
        if merged:
            continue
        hits.append(_hit(chunk, quote, round(scored[chunk_id], 4)))
        spans.append((chunk.recording_id, quote.first, quote.last, quote.speaker))
    return hits


def check_index_model(store, settings: Settings, embedder) -> None:
    """Refuse to search an index built by another embedding model: its vectors mean nothing here."""
    from pipeline.errors import ConfigError

    if store.embedding_model not in (None, settings.embedding.model):
        raise ConfigError(
            f"{store.where}: the index was built with '{store.embedding_model}' but embedding.model "
            f"is '{settings.embedding.model}'; run `heard reindex` or change the setting back"
        )
    built = store.dimension
    if built is not None and store.count() and built != embedder.dimension:
        raise ConfigError(
            f"{settings.index_dir}: the index holds {built}-dimensional vectors but '{settings.embedding.model}' "
            f"makes {embedder.dimension}; run `heard reindex`"
        )


def group_by_recording(hits: list[Hit]) -> list[RecordingHits]:
    """Hits grouped per recording; groups in the order of their best hit, hits in rank order."""
    groups: dict[str, RecordingHits] = {}
    for hit in hits:
        group = groups.setdefault(hit.recording_id, RecordingHits(hit.recording, hit.recording_id, hit.title, []))
        group.hits.append(hit)
    return list(groups.values())


def _hit(chunk, quote, score: float) -> Hit:
    hit = Hit(
        text="", recording=chunk.recording, recording_id=chunk.recording_id, title=chunk.title,
        start=0.0, end=0.0, speaker=chunk.speaker, score=score, chunk_id=chunk.id, role=chunk.role,
        metadata=chunk.metadata,
    )
    _apply_quote(hit, quote)
    return hit


def _apply_quote(hit: Hit, quote) -> None:
    hit.text, hit.start, hit.end = quote.text, quote.start, quote.end
    hit.context_before, hit.context_after = quote.context_before, quote.context_after
