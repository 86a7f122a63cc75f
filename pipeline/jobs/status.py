"""`heard status`: what the catalog and the index say about a data directory, for people and monitoring."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import HeardError, IndexMissingError
from pipeline.jobs import lock
from pipeline.jobs.catalog import Catalog, RunRecord
from pipeline.messages import counted, redact, safe


def collect_status(settings: Settings, *, recent: int = 10) -> dict[str, Any]:
    from pipeline.indexing.store import index_bytes

    data_dir = settings.data_dir
    catalog = Catalog.open_existing(data_dir)
    status: dict[str, Any] = {
        "data_dir": str(data_dir),
        "recordings": {},  # each content once, however many copies of it (files)
        "files": 0,
        "chunks": 0,
        "audio_hours": 0.0,
        "last_run": None,
        "running": None,
        "recent_failures": [],
        "models": {"transcription": [], "embedding": []},
        "configured": {
            "transcription": {"backend": settings.transcribe.backend, "model": settings.transcribe.model},
            "embedding": settings.embedding.model,
        },
        "index": {
            "path": redact(settings.store.url) if settings.store.url else str(settings.index_dir),
            "bytes": index_bytes(settings),
            "error": None,
            "recipe": None,  # what made its vectors and how their cosines spread (pipeline/indexing/recipe.py)
            "all_cut": None,  # where `search --all` cuts on it (pipeline/finding/all_cut.py)
        },
        "catalog": str(catalog.path) if catalog else None,
        "partial_downloads": _partial_downloads(settings),
    }
    if lock.is_held(data_dir):
        status["running"] = {"pid": lock.holder_pid(data_dir)}
    if catalog is not None:
        try:
            status["recordings"] = catalog.counts()
            status["files"] = catalog.files()
            totals = catalog.totals()
            status["audio_hours"] = round(totals["audio_seconds"] / 3600, 3)
            status["models"] = catalog.models()
            status["recent_failures"] = catalog.failures(recent)
            status["last_run"] = _describe_run(catalog.last_run(), status["running"] is not None)
        finally:
            catalog.close()
    status["chunks"] = _chunk_count(settings, status["index"])
    return status


def _partial_downloads(settings: Settings) -> dict[str, int]:
    from pipeline.sources.feeds.state import partial_downloads

    found = partial_downloads(settings.data_dir)
    return {"files": len(found), "bytes": sum(size for _path, size in found)}


def _describe_run(run: RunRecord | None, running: bool) -> dict[str, Any] | None:
    if run is None:
        return None
    if run["ended_at"] is None:
        # No end recorded: still going, or killed before it could record one.
        run["result"] = "running" if running else "interrupted"
    return {k: run[k] for k in ("command", "pid", "started_at", "ended_at", "result", "summary")}


def _chunk_count(settings: Settings, index: dict[str, Any]) -> int:
    """Chunks in the index settings name (a Chroma server's with store.url); its problems, the
    keyword index's included, go into index["error"]."""
    from pipeline.indexing.store import index_exists, open_store

    if not index_exists(settings):
        return 0

    try:
        store = open_store(settings, create=False)
        try:
            count = store.count()
            recipe = store.recipe()
            index["recipe"] = recipe.to_dict()
            index["all_cut"] = _all_cut(settings, recipe.measured)
            try:
                index["error"] = store.keyword_problem()
            except HeardError as exc:  # a keyword file SQLite cannot read
                index["error"] = str(exc)
            return count
        finally:
            store.close()
    except IndexMissingError:
        return 0
    except HeardError as exc:
        index["error"] = str(exc)
        return 0


def _all_cut(settings: Settings, measured: Mapping[str, float]) -> dict[str, float | None]:
    """Where `search --all` cuts on this index: the setting and the score it moved to."""
    from pipeline.finding.all_cut import search_all_cut

    cut = search_all_cut(settings.search, measured)
    return {"setting": cut.setting, "in_use": cut.in_use, "share": cut.share}


def format_status(status: dict[str, Any]) -> str:
    """Plain lines for a terminal or a mail."""
    counts = status["recordings"]
    lines = [f"data dir: {status['data_dir']}"]
    if not counts:
        lines.append("recordings: none yet; run `heard ingest FOLDER`")
    else:
        copies = status["files"] - sum(counts.values())
        extra = f" ({status['files']} files: {counted(copies, 'more copy', 'more copies')} of the same audio)"
        extra = extra if copies > 0 else ""
        lines.append("recordings: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + extra)
    lines.append(
        f"chunks: {status['chunks']}; audio: {status['audio_hours']:.2f} h; "
        f"index: {status['index']['bytes'] / 1e6:.1f} MB in {status['index']['path']}"
    )
    if status["index"]["error"]:
        lines.append(f"index ERROR: {status['index']['error']}")
    if status["running"]:
        lines.append(f"running now: PID {status['running']['pid']}")
    partial = status["partial_downloads"]
    if partial["files"]:
        lines.append(
            f"partial downloads: {counted(partial['files'], 'file')}, {partial['bytes'] / 1e6:.1f} MB in "
            f"{Path(status['data_dir']) / 'feeds'} "
            "(the next ingest resumes them; delete the hidden .part files to free the space)"
        )
    run = status["last_run"]
    if run:
        ended = run["ended_at"] or "-"
        lines.append(f"last run: {run['command']} started {run['started_at']}, ended {ended}: {run['result']}")
    models = status["models"]
    transcription = ", ".join(dict.fromkeys(_transcriber(m) for m in models["transcription"])) or "-"
    lines.append(f"models in use: transcription {transcription}; embedding {', '.join(models['embedding']) or '-'}")
    if status["index"].get("recipe"):
        lines.append(_recipe_line(status["index"]["recipe"]))
    if status["index"].get("all_cut"):
        lines.append(_all_cut_line(status["index"]["all_cut"]))
    configured = status["configured"]
    lines.append(
        f"configured: transcription {configured['transcription']['backend']} "
        f"{configured['transcription']['model']}; embedding {configured['embedding']}"
    )
    if status["recent_failures"]:
        lines.append("recent failures:")
        lines += [f"  {f['path']}: {f['reason']} (at {f['at']}, {f['attempts']} attempts)" for f in status["recent_failures"]]
    # Paths and reasons are other people's text: one printable line each, no credentials.
    return "\n".join(safe(line) for line in lines)


def _recipe_line(recipe: dict[str, Any]) -> str:
    """'index built with: all-MiniLM-L6-v2 (weights 7e54...), prompts '' / '', question text; cosines: a
    question's best matches 0.277 above its median, two chunks median 0.11 (interquartile range 0.137),
    nearest 0.82 (207 chunks)'."""
    prompts = f"prompts {recipe.get('query_prompt')!r} / {recipe.get('document_prompt')!r}"
    weights = recipe.get("weights") or "?"
    line = f"index built with: {recipe.get('model')} (weights {weights}), {prompts}, question {recipe.get('question')}"
    measured = recipe.get("measured") or {}
    if measured.get("pair_iqr"):
        line += (
            f"; cosines: a question's best matches {measured.get('query_top', 0):.3f} above its median, two chunks "
            f"median {measured['pair_median']:.2f} (interquartile range {measured['pair_iqr']:.3f}), nearest "
            f"{measured['nearest']:.2f} ({int(measured['chunks'])} chunks)"
        )
    return line


def _all_cut_line(cut: Mapping[str, Any]) -> str:
    """'search --all cuts at 0.408 (search.all_cutoff 0.35 in all-MiniLM-L6-v2's units, at the same
    place in this model's scores)', or 'search --all cuts at 0.35 (search.all_cutoff)' where it does not move."""
    if cut["in_use"] == cut["setting"] and cut.get("share") is None:
        return f"search --all cuts at {cut['setting']} (search.all_cutoff)"
    return (
        f"search --all cuts at {cut['in_use']:.3f} (search.all_cutoff {cut['setting']} in all-MiniLM-L6-v2's units, "
        "at the same place in this model's scores)"
    )


def _transcriber(model: Mapping[str, object]) -> str:
    """'faster-whisper tiny.en', or 'imported transcripts' for transcripts read from files (no model)."""
    if model.get("backend") == "import":
        return "imported transcripts"
    return " ".join(str(part) for part in (model.get("backend"), model.get("model")) if part)
