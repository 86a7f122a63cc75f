"""Measure chunking and ranking choices on the dev set without transcribing again.

    python scripts/search_experiments.py [--data build/devset-data] [--queries build/devset/queries.yaml]

Rechunks the transcripts of an ingested data dir (transcripts/ only; Whisper never runs) into a
scratch index per chunking setting, then evaluates each ranking setting on it. Prints one
Markdown row per combination: the numbers behind the defaults in config.yaml.
"""
import argparse
import copy
import itertools
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import chunking, transcripts  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.finding.eval import evaluate, load_queries  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402
from pipeline.indexing.embed import Embedder  # noqa: E402
from pipeline.indexing.recipe import recipe_of  # noqa: E402
from pipeline.indexing.store import Store  # noqa: E402

CHUNKINGS = [dict(max_words=w, overlap=o) for w, o in [(20, 0), (40, 0), (60, 0), (100, 0), (40, 1), (60, 1)]]
RANKINGS = {
    "dense": dict(mode="dense"),
    "keyword": dict(mode="keyword"),
    "rrf k=60": dict(mode="hybrid", fusion="rrf", rrf_k=60.0, dense_weight=0.5),
    "rrf k=10": dict(mode="hybrid", fusion="rrf", rrf_k=10.0, dense_weight=0.5),
    "rrf k=60 dense 0.7": dict(mode="hybrid", fusion="rrf", rrf_k=60.0, dense_weight=0.7),
    "rrf k=10 dense 0.7": dict(mode="hybrid", fusion="rrf", rrf_k=10.0, dense_weight=0.7),
    "score dense 0.5": dict(mode="hybrid", fusion="score", dense_weight=0.5),
    "score dense 0.7": dict(mode="hybrid", fusion="score", dense_weight=0.7),
    "score dense 0.8": dict(mode="hybrid", fusion="score", dense_weight=0.8),
    "score dense 0.85": dict(mode="hybrid", fusion="score", dense_weight=0.85),
}
QUESTION_WEIGHTS = [1.0, 0.5, 0.2]


def build_index(source: Path, target: Path, settings, embedder) -> None:
    if target.exists():
        shutil.rmtree(target)
    (target / "transcripts").mkdir(parents=True)
    for path in source.glob("transcripts/*.json"):
        (target / "transcripts" / path.name).symlink_to(path.resolve())
    store = Store(target / "index", settings.store.collection)
    store.check_recipe(recipe_of(embedder), record=True)
    for transcript in transcripts.load_all(source / "transcripts"):
        chunks = chunking.chunk_transcript(transcript, settings.chunking)
        store.replace_recording(transcript.recording_id, chunks, embedder.encode_documents([c.text for c in chunks]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "build" / "devset-data"))
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset" / "queries.yaml"))
    parser.add_argument("--scratch", default=str(ROOT / "build" / "experiments"))
    parser.add_argument("--chunkings", default=None, help="indexes into the chunking list, e.g. 0,2")
    parser.add_argument("--rankings", default=None, help="comma-separated ranking names")
    parser.add_argument("--question-weights", default=None)
    parser.add_argument("--keep-phrasing", action="store_true",
                        help="search for the whole question, not its subject (measures pipeline.finding.query)")
    args = parser.parse_args()
    if args.keep_phrasing:
        import pipeline.finding.query

        pipeline.finding.query.topic = lambda query: query
    queries = load_queries(args.queries)
    base = load_settings(data_dir=args.data, environ={})
    embedder = Embedder(base.embedding)
    chunkings = [CHUNKINGS[int(i)] for i in args.chunkings.split(",")] if args.chunkings else CHUNKINGS
    rankings = {n: RANKINGS[n] for n in args.rankings.split(",")} if args.rankings else RANKINGS
    weights = [float(w) for w in args.question_weights.split(",")] if args.question_weights else QUESTION_WEIGHTS
    print("| chunking | ranking | question weight | recall@5 | MRR | nDCG@5 | success@1 | specific R@5 / MRR "
          "| named R@5 / MRR | broad R@5 / MRR |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for chunk_options in chunkings:
        settings = copy.deepcopy(base)
        for key, value in chunk_options.items():
            setattr(settings.chunking, key, value)
        name = "w{max_words}-o{overlap}".format(**chunk_options)
        settings.data_dir = Path(args.scratch) / name
        build_index(Path(args.data), settings.data_dir, settings, embedder)
        store = Store(settings.index_dir, settings.store.collection, create=False)
        for (rank_name, options), qw in itertools.product(rankings.items(), weights):
            run = copy.deepcopy(settings)
            for key, value in options.items():
                setattr(run.search, key, value)
            run.search.question_weight = qw
            started = time.monotonic()
            report = evaluate(queries, Searcher(run, embedder=embedder), mode=options["mode"])
            kinds = report.by_kind()
            a = report.averages
            print(f"| {name} | {rank_name} | {qw} | {a['recall@5']:.3f} | {a['mrr']:.3f} | {a['ndcg@5']:.3f} | "
                  f"{a['success@1']:.3f} | " + " | ".join(
                      f"{kinds[kind]['recall@5']:.3f} / {kinds[kind]['mrr']:.3f}" for kind in ("specific", "named", "broad"))
                  + " |"
                  f"  <!-- {time.monotonic() - started:.0f} s -->", flush=True)
        del store


if __name__ == "__main__":
    main()
