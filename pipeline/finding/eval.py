"""`heard eval`: how well search finds labeled answers, measured on the current index.

A labeled query lists the spans (recording, start, end in seconds) that answer it. A hit is
relevant when at least half of its own duration lies inside one of those spans, so the measure
does not depend on how recordings were chunked or quotes trimmed. Each span counts once: a second
hit on an already found span earns nothing.

Metrics, averaged over queries:
  success@k  share of queries with a relevant hit in the top k
  recall@k   spans found in the top k / min(spans, k)  (capped, so a perfect top k scores 1)
  MRR        1 / rank of the first relevant hit within the top max(ks), else 0
  nDCG@k     binary gains, one per newly found span, against the ideal min(spans, k) hits first

For `search_all` (every passage that answers, cut by score rather than count), uncapped:
  precision  relevant hits / hits returned (0 when nothing is returned)
  recall     spans found / all labeled spans

And how long the quotes are (seconds, sentences): of the top QUOTE_K hits, and of every --all hit.
A model whose cosines spread otherwise must not make quotes longer or shorter (issue 21).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from pipeline.finding.hits import Hit

if TYPE_CHECKING:
    from pipeline.finding.searcher import Searcher

KS = (1, 3, 5, 10)


def cutoffs_with(k: int) -> tuple[int, ...]:
    """The cut-offs measured when misses are listed at `k` (heard eval -k): KS and k itself."""
    return tuple(sorted({*KS, k}))


MIN_OVERLAP = 0.5  # of the hit's duration
QUOTE_K = 5  # quote length is measured over this many top hits


def quote_length(hits: list[Hit]) -> dict[str, float]:
    """Mean duration (seconds) and sentences of `hits`' quotes; zeros without hits."""
    from pipeline.finding.fusion import sentences_of

    if not hits:
        return {"seconds": 0.0, "sentences": 0.0}
    return {
        "seconds": sum(h.end - h.start for h in hits) / len(hits),
        "sentences": sum(len(sentences_of(h.text)) or 1 for h in hits) / len(hits),
    }


@dataclass
class Span:
    recording: str  # a file name or a path suffix, matched against the hit's recording path
    start: float
    end: float
    text: str = ""


@dataclass
class LabeledQuery:
    query: str
    relevant: list[Span]
    kind: str = ""


@dataclass
class QueryResult:
    query: LabeledQuery
    found: list[int | None]  # per hit: index of the span it newly found, else None
    relevant_ranks: list[int]  # ranks (from 1) of hits that overlap any span
    hits: list[Hit]

    def metrics(self, ks: tuple[int, ...] = KS) -> dict[str, float]:
        n = len(self.query.relevant)
        first = min(self.relevant_ranks, default=None)
        length = quote_length(self.hits[:QUOTE_K])
        out = {"mrr": 1.0 / first if first else 0.0, "quote_seconds": length["seconds"], "quote_sentences": length["sentences"]}
        for k in ks:
            top = self.found[:k]
            newly = sum(f is not None for f in top)
            out[f"success@{k}"] = float(any(r <= k for r in self.relevant_ranks))
            out[f"recall@{k}"] = newly / min(n, k)
            dcg = sum(1.0 / math.log2(rank + 2) for rank, f in enumerate(top) if f is not None)
            ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(n, k)))
            out[f"ndcg@{k}"] = dcg / ideal
        return out


@dataclass
class EvalReport:
    mode: str
    results: list[QueryResult]
    ks: tuple[int, ...] = KS
    seconds: float = 0.0
    averages: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.results and not self.averages:
            per_query = [r.metrics(self.ks) for r in self.results]
            self.averages = {key: sum(m[key] for m in per_query) / len(per_query) for key in per_query[0]}

    def by_kind(self) -> dict[str, dict[str, float]]:
        kinds: dict[str, list[dict[str, float]]] = {}
        for r in self.results:
            kinds.setdefault(r.query.kind or "all", []).append(r.metrics(self.ks))
        return {kind: {key: sum(m[key] for m in ms) / len(ms) for key in ms[0]} for kind, ms in kinds.items()}

    def misses(self, k: int) -> list[tuple[QueryResult, list[Span]]]:
        """Queries with a labeled span not found in the top k, and those spans."""
        out = []
        for r in self.results:
            found = {f for f in r.found[:k] if f is not None}
            missed = [s for i, s in enumerate(r.query.relevant) if i not in found]
            if len(found) < min(len(r.query.relevant), k):
                out.append((r, missed))
        return out


@dataclass
class AllResult:
    """How `search_all`'s hits for one query measure up: every span, every hit counted."""

    query: LabeledQuery
    hits: list[Hit]
    relevant: int  # hits that overlap a labeled span
    found: int  # labeled spans found

    @property
    def precision(self) -> float:
        return self.relevant / len(self.hits) if self.hits else 0.0

    @property
    def recall(self) -> float:
        return self.found / len(self.query.relevant)


@dataclass
class AllReport:
    mode: str
    cutoff: float  # search.all_cutoff, in all-MiniLM-L6-v2's units
    results: list[AllResult]
    cut: float | None = None  # where it cut on this index's scores (pipeline/finding/all_cut.py)

    def by_kind(self) -> dict[str, dict[str, float]]:
        """precision, recall and hits per query, averaged over the queries of each kind (and "all")."""
        kinds: dict[str, list[AllResult]] = {"all": self.results}
        for r in self.results:
            kinds.setdefault(r.query.kind or "all", []).append(r)
        return {
            kind: {
                "precision": sum(r.precision for r in rs) / len(rs),
                "recall": sum(r.recall for r in rs) / len(rs),
                "hits": sum(len(r.hits) for r in rs) / len(rs),
                **{f"quote_{key}": value for key, value in quote_length([h for r in rs for h in r.hits]).items()},
            }
            for kind, rs in kinds.items()
            if rs
        }


def judge_all(query: LabeledQuery, hits: list[Hit]) -> AllResult:
    result = judge(query, hits)
    return AllResult(query, hits, len(result.relevant_ranks), sum(f is not None for f in result.found))


def evaluate_all(
    queries: list[LabeledQuery], searcher: Searcher, *, mode: str | None = None, cutoff: float | None = None
) -> AllReport:
    """Run `search_all` for every query against the searcher's index."""
    settings = searcher.settings
    cutoff = settings.search.all_cutoff if cutoff is None else cutoff
    results = [judge_all(q, searcher.search_all(q.query, mode=mode, cutoff=cutoff)) for q in queries]
    return AllReport(mode or settings.search.mode, cutoff, results, searcher.all_cut(cutoff, mode=mode).in_use)


def all_answers_line(report: AllReport) -> str:
    """'hybrid --all (cutoff 0.35): needle (22) precision 0.20 recall 0.82 hits 9.9; ...'."""
    kinds = report.by_kind()
    counts = {kind: sum((r.query.kind or "all") == kind for r in report.results) for kind in kinds}
    counts["all"] = len(report.results)
    moved = f", cuts at {report.cut:.3f} on this index" if report.cut is not None and report.cut != report.cutoff else ""
    return f"{report.mode} --all (cutoff {report.cutoff}{moved}): " + "; ".join(
        f"{kind} ({counts[kind]}) precision {m['precision']:.3f} recall {m['recall']:.3f} hits {m['hits']:.1f} "
        f"quote {m['quote_seconds']:.1f} s"
        for kind, m in kinds.items()
    )


def load_queries(path: str | Path) -> list[LabeledQuery]:
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}); fix the file") from exc
    items = raw.get("queries") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: expected a list under 'queries:' of {{query, relevant: [{{recording, start, end}}]}}")
    queries = []
    for number, item in enumerate(items, 1):
        try:
            spans = [
                Span(str(s["recording"]), float(s["start"]), float(s["end"]), str(s.get("text", ""))) for s in item["relevant"]
            ]
            if not spans or not str(item["query"]).strip():
                raise ValueError("empty")
            queries.append(LabeledQuery(str(item["query"]), spans, str(item.get("kind", ""))))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"{path}: query {number} needs 'query' and a non-empty 'relevant' list of "
                f"{{recording, start, end}} ({type(exc).__name__}: {exc})"
            ) from exc
    return queries


def same_recording(hit_recording: str, label: str) -> bool:
    hit_path, label_path = Path(hit_recording).parts, Path(label).parts
    return hit_path[-len(label_path) :] == label_path


def overlaps(hit: Hit, span: Span) -> bool:
    if not same_recording(hit.recording, span.recording):
        return False
    shared = min(hit.end, span.end) - max(hit.start, span.start)
    return bool(shared > 0 and shared >= MIN_OVERLAP * max(hit.end - hit.start, 0.01))


def judge(query: LabeledQuery, hits: list[Hit]) -> QueryResult:
    found: list[int | None] = []
    ranks: list[int] = []
    taken: set[int] = set()
    for rank, hit in enumerate(hits, 1):
        matches = [i for i, span in enumerate(query.relevant) if overlaps(hit, span)]
        if matches:
            ranks.append(rank)
        new = [i for i in matches if i not in taken]
        found.append(new[0] if new else None)
        taken.update(new[:1])
    return QueryResult(query, found, ranks, hits)


def evaluate(
    queries: list[LabeledQuery],
    searcher: Searcher,
    *,
    mode: str | None = None,
    ks: tuple[int, ...] = KS,
    per_recording: int | None = None,
) -> EvalReport:
    """Run every query against the searcher's index (local, or store.url's); ingests nothing."""
    started = time.monotonic()
    results = [judge(q, searcher.search(q.query, k=max(ks), mode=mode, per_recording=per_recording)) for q in queries]
    return EvalReport(mode or searcher.settings.search.mode, results, tuple(ks), round(time.monotonic() - started, 2))


def summary_table(reports: list[EvalReport], k: int = 5) -> str:
    """A Markdown table, one row per report."""
    cols = list(dict.fromkeys(["success@1", f"success@{k}", f"recall@{k}", "mrr", f"ndcg@{k}"]))  # -k 1: once
    lines = [
        "| mode | queries | "
        + " | ".join(c.replace("mrr", "MRR").replace("ndcg", "nDCG") for c in cols)
        + f" | quote s (top {QUOTE_K}) | sentences |",
        "|---|---:|" + "---:|" * (len(cols) + 2),
    ]
    for report in reports:
        length = f" | {report.averages['quote_seconds']:.1f} | {report.averages['quote_sentences']:.2f}"
        lines.append(
            f"| {report.mode} | {len(report.results)} | " + " | ".join(f"{report.averages[c]:.3f}" for c in cols) + length + " |"
        )
    return "\n".join(lines)


def report_text(reports: list[EvalReport], k: int = 5) -> str:
    """The table, the split by query kind, then each miss of the last (or only) report."""
    from pipeline.transcripts import format_timestamp

    lines = [summary_table(reports, k), ""]
    for report in reports:
        kinds = report.by_kind()
        if len(kinds) > 1:
            lines.append(
                f"{report.mode}: "
                + "; ".join(
                    f"{kind} ({sum(r.query.kind == kind for r in report.results)}) recall@{k} {m[f'recall@{k}']:.3f} "
                    f"MRR {m['mrr']:.3f}"
                    for kind, m in kinds.items()
                )
            )
    report = reports[-1]
    misses = report.misses(k)
    lines += ["", f"{report.mode}: {len(misses)} of {len(report.results)} queries missed a labeled span in the top {k}"]
    for result, missed in misses:
        lines.append(f"- {result.query.query!r}")
        for span in missed:
            lines.append(
                f"    missed {span.recording} {format_timestamp(span.start)}-{format_timestamp(span.end)}"
                + (f" “{span.text}”" if span.text else "")
            )
        if result.hits:
            top = result.hits[0]
            lines.append(f"    top hit {top.recording.rsplit('/', 1)[-1]} {format_timestamp(top.start)} “{top.text}”")
    return "\n".join(lines)
