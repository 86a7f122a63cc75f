"""Themes kept in `<data dir>/themes-cache/`, keyed by everything they were computed from.

The key digests the index's chunks (ids, texts and metadata, not the vectors), the themes
settings, the index's embedding recipe, the question and the filters: any ingest, reindex or
metadata edit that changes a chunk or the vectors changes the key, so a stale result is never
read. Computing themes again costs the embedder's start and one pass over the vectors; reading
them back, one pass over the chunks' texts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.files import write_text_atomically

if TYPE_CHECKING:
    from pipeline.indexing.store import Store

VERSION = 5  # bump when what is cached changes shape or meaning
KEEP = 32  # results kept; the oldest are removed


def folder(settings: Settings) -> Path:
    return settings.data_dir / "themes-cache"


def key(settings: Settings, store: Store, *, query: str | None, where: dict[str, Any] | None) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {
                "version": VERSION,
                "themes": dataclasses.asdict(settings.themes),
                "embedding": store.recipe().to_dict(),  # what made the vectors: a reindex with new settings changes it
                "search": dataclasses.asdict(settings.search) if query else None,
                "query": query,
                "where": where,
            },
            sort_keys=True,
            default=str,
        ).encode()
    )
    for line in store.fingerprint_lines():
        digest.update(line.encode())
    return digest.hexdigest()[:32]


def read(settings: Settings, name: str) -> list[dict[str, Any]] | None:
    try:
        themes = json.loads((folder(settings) / f"{name}.json").read_text(encoding="utf-8"))["themes"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: computed again
    return themes if isinstance(themes, list) else None


def write(settings: Settings, name: str, themes: list[dict[str, Any]]) -> None:
    """Best effort: a data dir this process may not write (a web server's) only costs the recompute."""
    try:
        write_text_atomically(folder(settings) / f"{name}.json", json.dumps({"themes": themes}, ensure_ascii=False))
        kept = sorted(folder(settings).glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
