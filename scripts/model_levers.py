"""Per-model search levers measured on one half of the hard dev set, without transcribing again.

    python scripts/model_levers.py --config scripts/configs/multilingual-e5.yaml \
        --queries build/devset-hard/queries-tune.yaml --embedding 'prompts=query: ,query: ' \
        --search 'dense_weight=0.6' --search 'candidates=100'

Each --embedding variant (settings of the embedding section, `;`-separated key=value; `prompts=Q,D`
sets query_prompt and document_prompt) gets its own index under --scratch, reindexed from the
transcripts of --data (Whisper never runs); each --search variant (search settings, plus
`join=X`: the quote-join margin and shared-words weight times X; `phrasing=keep`: search for the
whole question, not its subject; the levers of scripts/search_levers.py, which need code: `csls=0.5`,
`length_prior=1`, `prf=0.5`, `dense_asks=question`, `spread_norm=2`) is then evaluated on it in hybrid
mode. One Markdown row per pair: recall@5 / MRR by query kind and over all. --dump writes each
query's top 5 (text, recording, relevant or not) as JSON for a per-query comparison.
Measure on the tune half only (issue 21); the held-out half is for the chosen setting, once.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import search_levers  # noqa: E402

from pipeline.config import load_settings  # noqa: E402
from pipeline.finding import query, quotes  # noqa: E402
from pipeline.finding.eval import evaluate, load_queries  # noqa: E402
from pipeline.finding.searcher import Searcher  # noqa: E402
from pipeline.indexing.embed import Embedder  # noqa: E402
from pipeline.jobs.reindex import reindex  # noqa: E402

KINDS = ("needle", "broad", "reasoning")
TUNED = (quotes.JOIN_MARGIN, quotes.SHARED_WORDS_WEIGHT)
SUBJECT = query.topic


def parse(spec: str) -> dict[str, str]:
    pairs = [part.split("=", 1) for part in spec.split(";") if part.strip()]
    return {key.strip(): value for key, value in pairs}


def embedding_settings(base, spec: dict[str, str]):
    settings = copy.deepcopy(base)
    for key, value in spec.items():
        if key == "prompts":
            settings.embedding.query_prompt, settings.embedding.document_prompt = value.split(",", 1)
        elif key == "question_weight":
            settings.embedding.question_weight = float(value)
        else:
            setattr(settings.embedding, key, value)
    return settings


def search_settings(base, spec: dict[str, str]):
    settings = copy.deepcopy(base)
    join = 1.0
    query.topic = SUBJECT
    search_levers.apply(spec)
    for key, value in spec.items():
        if key in search_levers.KEYS:
            continue
        if key == "join":
            join = float(value)
            continue
        if key == "phrasing":
            query.topic = SUBJECT if value == "subject" else str.strip
            continue
        current = getattr(settings.search, key)
        setattr(settings.search, key, type(current)(value))
    return settings, join


def index_for(settings, source: Path, scratch: Path, name: str):
    """A data dir with `source`'s transcripts and catalog, indexed with `settings`' recipe."""
    target = scratch / name
    if not (target / "index").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copytree(source / "transcripts", target / "transcripts")
        for extra in ("catalog.sqlite3", "voices.sqlite3"):
            if (source / extra).exists():
                shutil.copy(source / extra, target / extra)
        settings.data_dir = target
        reindex(settings)
    settings.data_dir = target
    return settings


def row(name: str, report) -> str:
    kinds = report.by_kind()
    cells = [f"{kinds[k]['recall@5']:.3f} / {kinds[k]['mrr']:.3f}" for k in KINDS if k in kinds]
    overall = report.averages
    return f"| {name} | " + " | ".join(cells) + f" | {overall['recall@5']:.3f} / {overall['mrr']:.3f} |"


def dump(report, path: Path) -> None:
    out = {}
    for result in report.results:
        out[result.query.query] = {
            "kind": result.query.kind,
            "hits": [
                {
                    "recording": Path(h.recording).stem,
                    "text": h.text,
                    "score": h.score,
                    "relevant": rank in result.relevant_ranks,
                    "new": found is not None,
                    "role": h.role,
                }
                for rank, (h, found) in enumerate(zip(result.hits[:5], result.found[:5]), 1)
            ],
        }
    path.write_text(json.dumps(out, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--data", default=str(ROOT / "build" / "devset-hard-data"))
    parser.add_argument("--queries", default=str(ROOT / "build" / "devset-hard" / "queries-tune.yaml"))
    parser.add_argument("--scratch", default=str(ROOT / "build" / "model-levers"))
    parser.add_argument("--embedding", action="append", default=None, help="embedding settings, key=value;...")
    parser.add_argument("--search", action="append", default=None, help="search settings, key=value;...")
    parser.add_argument("--dump", default=None, help="folder for per-query top-5 JSON")
    args = parser.parse_args()
    queries = load_queries(args.queries)
    base = load_settings(args.config, environ={})
    label = Path(args.config).stem if args.config else "default"
    print("| variant | " + " | ".join(f"{k} R@5 / MRR" for k in KINDS) + " | all R@5 / MRR |")
    print("|---|" + "---:|" * (len(KINDS) + 1), flush=True)
    for embedding_spec in args.embedding or [""]:
        name = label + ("-" + "-".join(f"{k}={v}" for k, v in parse(embedding_spec).items()) if embedding_spec else "")
        safe = "".join(c if c.isalnum() or c in "-=." else "_" for c in name)
        settings = index_for(embedding_settings(base, parse(embedding_spec)), Path(args.data), Path(args.scratch), safe)
        embedder = Embedder(settings.embedding)
        for search_spec in args.search or [""]:
            run, join = search_settings(settings, parse(search_spec))
            quotes.JOIN_MARGIN, quotes.SHARED_WORDS_WEIGHT = (t * join for t in TUNED)
            with Searcher(run, embedder=embedder) as searcher:
                report = evaluate(queries, searcher, mode="hybrid")
            print(row(f"{name} {search_spec}".strip(), report), flush=True)
            if args.dump:
                Path(args.dump).mkdir(parents=True, exist_ok=True)
                dump(report, Path(args.dump) / f"{safe}{'-' + search_spec if search_spec else ''}.json".replace("/", "_"))


if __name__ == "__main__":
    main()
