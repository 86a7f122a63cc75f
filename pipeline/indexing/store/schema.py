"""How the index stores things: a chunk's metadata keys, chunk <-> metadata, the collection's own
metadata (generation, embedding recipe), and `where` clauses built from plain conditions.

Every filter on stored chunks is built here (`where_clause`), so no other module names a key.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.indexing.chunking import Chunk
from pipeline.indexing.recipe import EmbeddingRecipe

# A Chroma `where` clause, and a chunk's or the collection's metadata as Chroma stores it.
Where = dict[str, Any]
Metadata = dict[str, Any]

# Recording-level metadata keys stored flat on every chunk, so Chroma can filter on them.
RECORDING_KEYS = ("company", "segment", "kind", "date", "tags", "show", "link", "season", "episode", "chapter", "language")
# Chroma matches strings exactly: lower-cased copies (<key>_key) make these filters case-insensitive.
FOLDED_KEYS = ("speaker", "company", "segment", "tags", "show")

# Set on chunks that a replace_recording has replaced but not yet deleted; search skips them.
SUPERSEDED = "superseded"

# The collection's metadata key for the generation the keyword index must carry to match it.
GENERATION = "generation"
# The collection's embedding recipe, as JSON. Before it, heard recorded only the two legacy keys,
# still written so that an older heard refuses another model's index as before.
RECIPE = "embedding_recipe"
LEGACY_MODEL, LEGACY_DIMENSION = "embedding_model", "dimension"


def date_key(day: datetime.date | str) -> int:
    """A date as the number yyyymmdd: Chroma compares numbers only, so --since/--until filter on this."""
    return int(str(day)[:10].replace("-", ""))


def chunk_metadata(chunk: Chunk) -> Metadata:
    """A chunk's metadata as stored: flat, no None values nor empty lists (Chroma stores neither)."""
    meta = {
        "recording_id": chunk.recording_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "recording": chunk.recording,
        "speaker": chunk.speaker,
        "role": chunk.role,
        **{key: chunk.metadata.get(key) for key in RECORDING_KEYS},
    }
    for key in FOLDED_KEYS:
        value = meta.get(key)
        if value:
            meta[f"{key}_key"] = [v.casefold() for v in value] if isinstance(value, list) else str(value).casefold()
    if meta["date"]:
        meta["date_key"] = date_key(str(meta["date"]))
    # Unknown fields are simply absent.
    return {k: v for k, v in meta.items() if v not in (None, [], "")}


def chunk_from_row(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    """The chunk a stored row holds (its id is derived from recording id and index)."""
    return Chunk(
        recording_id=meta["recording_id"],
        index=int(meta["index"]),
        text=text,
        start=float(meta["start"]),
        end=float(meta["end"]),
        speaker=meta.get("speaker"),
        title=meta.get("title", ""),
        recording=meta.get("recording", ""),
        role=meta.get("role"),
        metadata={key: meta[key] for key in RECORDING_KEYS if key in meta},
    )


def recording_of(chunk_id: str) -> str:
    """The recording id of a chunk id (`<recording id>:<chunk no>`)."""
    return chunk_id.rsplit(":", 1)[0]


def is_superseded(meta: Mapping[str, Any]) -> bool:
    return bool(meta.get(SUPERSEDED))


def superseded(meta: Mapping[str, Any]) -> Metadata:
    return {**meta, SUPERSEDED: True}


def moved(meta: Mapping[str, Any], path: str) -> Metadata:
    """The metadata of a chunk whose recording now lives at `path`."""
    return {**meta, "recording": path}


def live(where: Where | None) -> Where:
    """`where` narrowed to chunks that are not superseded (Chroma's $ne also matches chunks
    without the key, which is all of them but for the moment of a replacement)."""
    clause: Where = {SUPERSEDED: {"$ne": True}}
    return {"$and": [where, clause]} if where else clause


def at_path(path: str) -> Where:
    """Every chunk of the recording ingested from `path`."""
    return {"recording": path}


def of_recording(recording_id: str) -> Where:
    """Every chunk of one recording, superseded ones included."""
    return {"recording_id": recording_id}


def where_clause(
    *,
    role: str | None = None,
    speaker: str | None = None,
    company: str | None = None,
    segment: str | None = None,
    show: str | None = None,
    tags: Sequence[str] = (),
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    recording_id: str | None = None,
    language: str | None = None,
) -> Where | None:
    """The `where` clause for chunks that meet every given condition (AND), or None for all.

    Roles are stored lower-case; names, companies, segments, shows and tags match whatever their
    case (the lower-cased copies); every tag must be present; dates are inclusive."""
    clauses: list[Where] = []
    if role:
        clauses.append({"role": role.casefold()})
    folded = {"speaker": speaker, "company": company, "segment": segment, "show": show}
    clauses += [{f"{key}_key": value.casefold()} for key, value in folded.items() if value]
    clauses += [{"tags_key": {"$contains": tag.casefold()}} for tag in tags]
    if since:
        clauses.append({"date_key": {"$gte": date_key(since)}})
    if until:
        clauses.append({"date_key": {"$lte": date_key(until)}})
    if recording_id:
        clauses.append(of_recording(recording_id))
    if language:
        clauses.append({"language": language})  # codes are stored lower-case (pipeline/languages.py)
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def recipe_from_metadata(metadata: Mapping[str, Any]) -> EmbeddingRecipe:
    """The recipe a collection records; from an index built before the recipe, only model and
    dimension are known (the rest matches anything until `heard reindex` records it whole)."""
    stored = metadata.get(RECIPE)
    if isinstance(stored, str):
        return EmbeddingRecipe.from_dict(json.loads(stored))
    return EmbeddingRecipe(model=metadata.get(LEGACY_MODEL), dimension=metadata.get(LEGACY_DIMENSION))


def recipe_metadata(recipe: EmbeddingRecipe) -> Metadata:
    """The collection metadata that records `recipe` (Chroma stores no None: unknown keys are absent)."""
    legacy = {LEGACY_MODEL: recipe.model, LEGACY_DIMENSION: recipe.dimension}
    return {RECIPE: json.dumps(recipe.to_dict(), sort_keys=True), **{k: v for k, v in legacy.items() if v is not None}}
