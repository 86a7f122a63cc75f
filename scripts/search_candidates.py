"""Measure the retrieval candidates of issue 12 on the hard dev set's tune half (or any labeled set).

    python scripts/search_candidates.py [--queries build/devset-hard/queries-tune.yaml] [--data build/devset-hard-data]

Two kinds of rows, each by query kind (recall@5 / recall@10 / MRR):
- Index candidates, through the real search (`heard eval`'s evaluate, hybrid, default settings): the
  ingested transcripts are chunked and labeled by the product's own functions, embedded once per model,
  and written into scratch indexes under build/candidates/ (Whisper never runs), one per way of
  embedding an answer: with its question as one text (today), alone, or alone plus w x the question's
  vector (embedding.question: vector).
- Query-side candidates, measured on a dense ranking of chunks (cosine of the query's subject with each
  chunk's vector, interviewer chunks x0.1; a chunk counts as a hit with its own start and end): diversity
  (at most N chunks per recording), pseudo-relevance feedback (the query moved toward its top chunks),
  splitting a query listing alternatives into sub-queries, recording context in the chunk text, and
  all-mpnet-base-v2 re-scoring all-MiniLM-L6-v2's top N. Cheap to run; compare rows within this kind only.
Tune on the tune half only.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import transcripts  # noqa: E402
from pipeline.config import EmbeddingSettings, load_settings  # noqa: E402
from pipeline.finding.eval import evaluate, judge, load_queries  # noqa: E402
from pipeline.finding.hits import Hit  # noqa: E402
from pipeline.finding.query import topic  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402
from pipeline.indexing.chunking import chunk_transcript  # noqa: E402
from pipeline.indexing.embed import Embedder  # noqa: E402
from pipeline.indexing.recipe import EmbeddingRecipe  # noqa: E402
from pipeline.indexing.role_names import ASKER_ROLES  # noqa: E402
from pipeline.indexing.roles import embedding_texts, label_chunks, question_before  # noqa: E402
from pipeline.indexing.store import Store  # noqa: E402
from pipeline.sources.metadata import MetadataReader  # noqa: E402

MODELS = ("all-MiniLM-L6-v2", "all-mpnet-base-v2")
KS = (5, 10)


def load(data: Path, settings):
    reader = MetadataReader()
    recordings = []
    for transcript in transcripts.load_all(data / "transcripts"):
        meta = reader.for_recording(Path(transcript.source))
        recordings.append((meta, label_chunks(chunk_transcript(transcript, settings.chunking), transcript, meta)))
    return recordings


def row(name: str, results) -> str:
    kinds: dict[str, list[dict]] = {}
    for r in results:
        kinds.setdefault(r.query.kind, []).append(r.metrics(KS))
    cells = []
    for kind in sorted(kinds):
        ms = kinds[kind]
        cells.append(" / ".join(f"{np.mean([m[k] for m in ms]):.3f}" for k in ("recall@5", "recall@10", "mrr")))
    return f"| {name} | " + " | ".join(cells) + " |"


def scratch_index(target: Path, data: Path, model: str, recordings, vectors: np.ndarray, config: Path):
    shutil.rmtree(target, ignore_errors=True)
    (target / "transcripts").mkdir(parents=True)
    for path in (data / "transcripts").glob("*.json"):
        (target / "transcripts" / path.name).symlink_to(path.resolve())
    settings = load_settings(config, data_dir=target, environ={})
    store = Store(target / "index", "heard")
    # The vectors are this experiment's, made otherwise than the config says: recorded as the
    # config's recipe so that its searches accept them.
    store.set_recipe(EmbeddingRecipe.configured(settings.embedding, vectors.shape[1]))
    first = 0
    for _, chunks in recordings:
        store.replace_recording(chunks[0].recording_id, chunks, vectors[first : first + len(chunks)])
        first += len(chunks)
    store.close()
    return settings


def mixed(alone: np.ndarray, recordings, weight: float) -> np.ndarray:
    out, first = alone.copy(), 0
    for _, chunks in recordings:
        for i in range(len(chunks)):
            if question_before(chunks, i) is not None:
                out[first + i] = alone[first + i] + weight * alone[first + i - 1]
        first += len(chunks)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def hit_of(chunk, score: float) -> Hit:
    return Hit(chunk.text, chunk.recording, chunk.recording_id, chunk.title, chunk.start, chunk.end, chunk.speaker, score, chunk.id,
               chunk.role)


SPLIT = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def alternatives(subject: str) -> list[str]:
    """'exports, reports or dashboards' -> three sub-queries; clauses ('X and then Y did Z') are left whole."""
    parts = [p.strip() for p in SPLIT.split(subject) if p.strip()]
    return parts if len(parts) > 1 and all(len(p.split()) <= 3 for p in parts) else []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "build" / "devset-hard-data"))
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset-hard" / "queries-tune.yaml"))
    parser.add_argument("--scratch", default=str(ROOT / "build" / "candidates"))
    parser.add_argument("--skip-index", action="store_true", help="only the query-side rows")
    args = parser.parse_args()
    data, scratch = Path(args.data), Path(args.scratch)
    queries = load_queries(args.queries)
    kinds = sorted({q.kind for q in queries})
    recordings = load(data, load_settings(data_dir=data, environ={}))
    chunks = [c for _, cs in recordings for c in cs]
    answer = np.array([c.role not in ASKER_ROLES for c in chunks])
    recording_of = np.array([c.recording_id for c in chunks])
    header = "| candidate | " + " | ".join(f"{k} R@5 / R@10 / MRR" for k in kinds) + " |\n|---|" + "---|" * len(kinds)

    encoded = {}
    for model in MODELS:
        embedder = Embedder(EmbeddingSettings(model=model))
        encoded[model] = {
            "alone": embedder.encode_documents([c.text for c in chunks]),
            "text": embedder.encode_documents([t for _, cs in recordings for t in embedding_texts(cs)]),
            "context": embedder.encode_documents(
                [f"{m.get('company', '')} ({', '.join(m.get('tags') or [])}): {t}" for m, cs in recordings for t in embedding_texts(cs)]
            ),
            "query": embedder.encode_queries([topic(q.query) for q in queries]),
            "embedder": embedder,
        }

    if not args.skip_index:
        print(f"Index candidates: real hybrid search, {len(queries)} queries of {args.queries}\n\n{header}")
        for model in MODELS:
            config = scratch / f"{model}.yaml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(f"embedding:\n  model: {model}\n")
            variants = {
                "question + answer as one text (embedding.question: text)": encoded[model]["text"],
                "answer alone": encoded[model]["alone"],
                **{f"answer + {w} x question vector (embedding.question: vector)": mixed(encoded[model]["alone"], recordings, w)
                   for w in (0.2, 0.35, 0.5)},
                "company and industry + question + answer as one text": encoded[model]["context"],
            }
            for number, (name, vectors) in enumerate(variants.items()):
                # A new folder each time: Chroma keeps a client per path alive in the process.
                settings = scratch_index(scratch / f"{model}-{number}", data, model, recordings, vectors, config)
                report = evaluate(queries, Searcher(settings, embedder=encoded[model]["embedder"]), mode="hybrid", ks=KS)
                print(row(f"{model}: {name}", report.results), flush=True)

    print(f"\nQuery-side candidates: dense chunk ranking, {len(queries)} queries\n\n{header}")

    def ranked(scores: np.ndarray, cap: int = 0) -> list[int]:
        order = list(np.argsort(-scores))
        if not cap:
            return order[:50]
        taken: dict[str, int] = {}
        kept, rest = [], []
        for i in order:
            if taken.get(recording_of[i], 0) < cap:
                kept.append(i)
                taken[recording_of[i]] = taken.get(recording_of[i], 0) + 1
            else:
                rest.append(i)
            if len(kept) >= 50:
                break
        return (kept + rest)[:50]

    def measure(name: str, scores: np.ndarray, cap: int = 0) -> None:
        scores = scores.copy()
        scores[:, ~answer] *= 0.1
        print(row(name, [judge(q, [hit_of(chunks[i], float(scores[n, i])) for i in ranked(scores[n], cap)]) for n, q in enumerate(queries)]),
              flush=True)

    for model in MODELS:
        e = encoded[model]
        vectors = e["text"] if model == MODELS[0] else mixed(e["alone"], recordings, 0.35)
        base = e["query"] @ vectors.T
        measure(f"{model}: base", base)
        for cap in (1, 2):
            measure(f"{model}: diversity, at most {cap} per recording", base, cap)
        for beta, top in ((0.5, 3), (1.0, 3), (0.5, 5), (1.0, 10)):
            masked = base.copy()
            masked[:, ~answer] *= 0.1
            moved = []
            for n in range(len(queries)):
                v = e["query"][n] + beta * vectors[np.argsort(-masked[n])[:top]].mean(0)
                moved.append(v / np.linalg.norm(v))
            measure(f"{model}: pseudo-relevance feedback, {beta} x mean of top {top}", np.stack(moved) @ vectors.T)
        split = base.copy()
        for n, q in enumerate(queries):
            parts = alternatives(topic(q.query))
            if parts:
                split[n] = np.maximum(base[n], (e["embedder"].encode_queries(parts) @ vectors.T).max(0))
        count = sum(bool(alternatives(topic(q.query))) for q in queries)
        measure(f"{model}: alternatives split into sub-queries (max), {count} queries split", split)
        measure(f"{model}: company and industry in the chunk text", e["query"] @ e["context"].T)
    mini, mp = encoded[MODELS[0]], encoded[MODELS[1]]
    first = mini["query"] @ mini["text"].T
    first[:, ~answer] *= 0.1
    second = mp["query"] @ mixed(mp["alone"], recordings, 0.35).T
    for top in (30, 50, 100):
        rescored = np.full_like(first, -1.0)
        for n in range(len(queries)):
            best = np.argsort(-first[n])[:top]
            rescored[n, best] = second[n, best] + 1.0
        measure(f"all-mpnet-base-v2 re-scoring all-MiniLM-L6-v2's top {top}", rescored)


if __name__ == "__main__":
    main()
