"""The LLM's answers kept in `<data dir>/answers-cache/`, keyed by what they were made from.

The key digests the question, the filters, every quote line sent (so a changed index, new metadata
or other redaction settings make a new key), the endpoint, the model and the prompts' version: the
same question over the same quotes to the same model is answered from here, with no request and no
tokens. Written atomically, like every file heard writes; a data dir this process cannot write
only costs the request next time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.files import write_text_atomically

VERSION = 1  # bump when what is cached changes shape
KEEP = 256  # answers kept; the oldest are removed


def folder(settings: Settings) -> Path:
    return settings.data_dir / "answers-cache"


def key(kind: str, *, question: str, where: dict[str, Any] | None, lines: list[str], model: str, endpoint: str) -> str:
    from pipeline.answering.prompts import VERSION as PROMPTS

    payload = {
        "version": VERSION,
        "prompts": PROMPTS,
        "kind": kind,  # "ask" or "judge"
        "question": question,
        "where": where,
        "quotes": lines,
        "model": model,
        "endpoint": endpoint,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def read(settings: Settings, name: str) -> dict[str, Any] | None:
    try:
        found = json.loads((folder(settings) / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or unreadable: asked again
    return found if isinstance(found, dict) else None


def write(settings: Settings, name: str, value: dict[str, Any]) -> None:
    try:
        write_text_atomically(folder(settings) / f"{name}.json", json.dumps(value, ensure_ascii=False))
        kept = sorted(folder(settings).glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
