"""Search levers that need code, not settings, for scripts/model_levers.py (`--search 'csls=0.5'`):
each wraps a function of pipeline/finding/search.py for the run and is undone by the next variant.
None of them is in heard: each was measured on the hard set's tune half and rejected
(docs/models.md, "e5 on the hard set: the levers tried").

  csls=W [csls_k=K, csls_ref=chunks|mean|short]  hubness reduction (CSLS, Conneau et al. 2018):
      a chunk's dense score less W x its mean cosine to its K nearest chunks (10), to the corpus's
      mean vector, or to SHORT subjects (`short`)
  csls_words=N     the same only for subjects of N words or fewer
  length_prior=1   a chunk or re-scored sentence of up to 2 / up to 4 words loses what such passages
      score above a SHORT subject's median cosine, measured on the index with its model
  prf=B [prf_top=M, prf_from=fused|dense]  Rocchio feedback: the query vector plus B x the mean
      vector of the top M (3) hits, then ranked again
  dense_asks=question|short-question|both|short-both|template  what the dense side encodes instead
      of the subject (the keyword side keeps it): the whole question (`short-`: only for subjects of
      3 words or fewer), the subject's and the question's vectors summed, "what customers said about"
  spread_norm=C    dense scores (cosine - the pool's lowest) / (C x the index's query_top), not min-max
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from pipeline.finding import search
from pipeline.finding.fusion import score_fusion
from pipeline.finding.query import topic
from pipeline.finding.quotes import QuoteFinder

KEYS = ("csls", "csls_k", "csls_ref", "csls_words", "length_prior", "prf", "prf_top", "prf_from", "dense_asks", "spread_norm")
# Short generic subjects written for these levers (not from any dev set).
SHORT = (
    "price",
    "cancelling",
    "getting started",
    "reports",
    "support",
    "speed",
    "phones",
    "security",
    "the bill",
    "managers",
    "integrations",
    "old records",
    "month end",
    "trust",
)
ORIGINAL = {"rank": search.rank, "_dense": search._dense, "_fuse": search._fuse, "best": QuoteFinder.best_sentence_cosine}
_CACHE: dict[tuple[Any, ...], Any] = {}
_NOW: dict[str, Any] = {}  # the query being ranked and its index's scale


def apply(spec: dict[str, str]) -> None:
    """Install the levers `spec` names (undoing any from before)."""
    search.rank, search._dense, search._fuse = ORIGINAL["rank"], ORIGINAL["_dense"], ORIGINAL["_fuse"]
    QuoteFinder.best_sentence_cosine = ORIGINAL["best"]
    levers = {k: v for k, v in spec.items() if k in KEYS}
    if not levers:
        return
    search.rank = lambda query, **kw: _rank(query, levers, **kw)
    search._dense = lambda *a: _dense(levers, *a)
    search._fuse = lambda *a: _fuse(levers, *a)
    if "length_prior" in levers:
        QuoteFinder.best_sentence_cosine = _best_sentence


def _rank(query: str, levers: dict[str, str], **kw: Any) -> search.Ranking:
    _NOW.update(query=query, scale=kw["scale"])
    asks = levers.get("dense_asks")
    if asks:
        kw["embedder"] = _Asking(kw["embedder"], query, asks)
    found = ORIGINAL["rank"](query, **kw)
    if "prf" not in levers:
        return found
    source = found.scored if levers.get("prf_from", "fused") == "fused" else _NOW["dense"]
    top = sorted(source, key=lambda i: (-source[i], i))[: int(levers.get("prf_top", 3))]
    vectors = kw["store"]._collection.get(ids=top, include=["embeddings"])["embeddings"]
    moved = found.quotes.query_vector + float(levers["prf"]) * np.mean(np.asarray(vectors, dtype=np.float32), axis=0)
    kw["embedder"] = _Fixed(kw["embedder"], moved / np.linalg.norm(moved))
    return ORIGINAL["rank"](query, **kw)


class _Asking:
    """The embedder, encoding another text than the subject for the dense side."""

    def __init__(self, embedder: Any, query: str, asks: str):
        self._embedder, self._query, self._asks = embedder, query, asks

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        subject = texts[0]
        short = len(subject.split()) <= 3
        if self._asks == "template":
            return self._embedder.encode_queries([f"what customers said about {subject}"])
        if self._asks in ("question", "short-question") and (short or self._asks == "question"):
            return self._embedder.encode_queries([self._query])
        if self._asks in ("both", "short-both") and (short or self._asks == "both"):
            pair = self._embedder.encode_queries([subject, self._query]).sum(axis=0)
            return np.asarray([pair / np.linalg.norm(pair)])
        return self._embedder.encode_queries(texts)


class _Fixed(_Asking):
    def __init__(self, embedder: Any, vector: np.ndarray):
        super().__init__(embedder, "", "")
        self._vector = vector

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray([self._vector])


def _dense(
    levers: dict[str, str], store: Any, vector: np.ndarray, pool: int, where: Any, quotes: QuoteFinder, *rest: Any
) -> dict[str, float]:
    if "length_prior" in levers:
        _length_prior(store, quotes.embedder)
        store = _ShortLinesFarther(store)
    dense = ORIGINAL["_dense"](store, vector, pool, where, quotes, *rest)
    words = len(topic(_NOW["query"]).split())
    if "csls" in levers and words <= int(levers.get("csls_words", 1000)):
        hubs = _hubs(store, quotes.embedder, int(levers.get("csls_k", 10)), levers.get("csls_ref", "chunks"))
        dense = {i: s - float(levers["csls"]) * hubs.get(i, 0.0) for i, s in dense.items()}
    _NOW["dense"] = dense
    return dense


class _ShortLinesFarther:
    """The store, its chunks' distances to a query grown by their length prior."""

    def __init__(self, store: Any):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query(self, *args: Any, **kw: Any) -> list[Any]:
        return [replace(f, distance=f.distance + _prior(f.chunk.text)) for f in self._store.query(*args, **kw)]


def _fuse(
    levers: dict[str, str], dense: dict[str, float], keyword: dict[str, float], mode: str, options: Any
) -> dict[str, float]:
    if "spread_norm" not in levers or not dense or mode != "hybrid":
        return ORIGINAL["_fuse"](dense, keyword, mode, options)
    low, width = min(dense.values()), float(levers["spread_norm"]) * _NOW["scale"].spread.query_top
    dense = {i: (s - low) / width for i, s in dense.items()}
    return score_fusion([dense, keyword], weights=[options.dense_weight, 1.0 - options.dense_weight], normalize=[False, False])


def _hubs(store: Any, embedder: Any, k: int, reference: str) -> dict[str, float]:
    key = ("hubs", id(store), k, reference)
    if key not in _CACHE:
        chunks, vectors = store.chunks_with_vectors()
        if reference == "mean":
            found = vectors @ vectors.mean(axis=0)
        elif reference == "short":
            asked = vectors @ embedder.encode_queries(list(SHORT)).T
            found = asked.mean(axis=1) - np.median(asked.mean(axis=1))
        else:
            cosines = vectors @ vectors.T
            np.fill_diagonal(cosines, -np.inf)
            found = np.sort(cosines, axis=1)[:, -k:].mean(axis=1)
        _CACHE[key] = {c.id: float(v) for c, v in zip(chunks, found)}
    return dict(_CACHE[key])


def _length_prior(store: Any, embedder: Any) -> tuple[float, float]:
    key = ("prior", id(store))
    if key not in _CACHE:
        chunks, vectors = store.chunks_with_vectors()
        asked = embedder.encode_queries(list(SHORT)) @ vectors.T
        above = asked - np.median(asked, axis=1, keepdims=True)
        words = np.array([len(c.text.split()) for c in chunks])
        _CACHE[key] = tuple(max(0.0, float(above[:, (words > low) & (words <= high)].mean())) for low, high in ((0, 2), (2, 4)))
    _NOW["prior"] = _CACHE[key]
    return _CACHE[key]


def _prior(text: str) -> float:
    words = len(text.split())
    two, four = _NOW["prior"]
    return two if words <= 2 else four if words <= 4 else 0.0


def _best_sentence(self: QuoteFinder, chunk: Any) -> float | None:
    sentences, inside = self._inside(chunk)
    if len(inside) < 2:
        return None
    texts = [sentences[i].text for i in inside]
    cosines = self._vectors(texts) @ self.query_vector
    return float(max(c - _prior(t) for c, t in zip(cosines.tolist(), texts)))
