"""What an embedding model's folder says about its vectors, read without loading the model: where the
folder is, the prompts its sentence-transformers config declares, and a hash of its weights.

The recipe stored with an index (pipeline/indexing/recipe.py) records all three, so a model whose
weights or prompts changed under the same name is a different recipe, and `heard reindex` is asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import EmbeddingSettings
from pipeline.indexing.embedding_models import resolve_embedding_model
from pipeline.model_cache import remembered_hash

# The prompt names sentence-transformers' encode_query / encode_document look for, in its order.
QUERY_NAMES = ("query",)
DOCUMENT_NAMES = ("document", "passage", "corpus")
# Weight files; folders beside the model's own that hold other formats of the same weights are skipped.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
OTHER_FORMATS = {"onnx", "openvino"}


@dataclass(frozen=True)
class Prompts:
    """Text put before a query and before a document (a chunk, a sentence) before encoding."""

    query: str = ""
    document: str = ""


def local_folder(model: str) -> Path | None:
    """The folder `model` loads from when it is on disk: a path, an offline model's folder (its wheels
    installed), or a hub model sentence-transformers already downloaded; None otherwise."""
    resolved = Path(resolve_embedding_model(model)).expanduser()
    if (resolved / "modules.json").is_file() or (resolved / "config.json").is_file():
        return resolved
    if resolved.exists() or model.count("/") > 1 or model.startswith((".", "/", "~")):
        return None  # a path, but not of a model folder
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - installed with sentence-transformers
        return None
    for repo in dict.fromkeys([model, f"sentence-transformers/{model}"]):
        try:
            found = try_to_load_from_cache(repo, "modules.json")
        except ValueError:  # not a valid repo id
            continue
        if isinstance(found, str):
            return Path(found).parent
    return None


def declared_prompts(folder: Path) -> Prompts:
    """The query and document prompts the folder's config_sentence_transformers.json declares
    (`prompts`: e5 "query: " / "passage: ", nomic "search_query: " / "search_document: "); empty
    where it declares none."""
    config = folder / "config_sentence_transformers.json"
    try:
        found = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
    except (OSError, ValueError, AttributeError):
        found = {}
    if not isinstance(found, dict):
        found = {}
    return Prompts(query=_first(found, QUERY_NAMES), document=_first(found, DOCUMENT_NAMES))


def _first(prompts: dict[str, object], names: tuple[str, ...]) -> str:
    return next((str(prompts[name]) for name in names if isinstance(prompts.get(name), str)), "")


def configured_prompts(settings: EmbeddingSettings, folder: Path | None) -> Prompts | None:
    """The prompts heard encodes with: embedding.query_prompt / document_prompt where set, else the
    model's own; None when neither is set and the model's folder is not on disk (not known yet)."""
    declared = declared_prompts(folder) if folder is not None else None
    if declared is None and (settings.query_prompt is None or settings.document_prompt is None):
        return None
    return Prompts(
        query=settings.query_prompt if settings.query_prompt is not None else declared.query if declared else "",
        document=settings.document_prompt if settings.document_prompt is not None else declared.document if declared else "",
    )


def weight_files(folder: Path) -> list[Path]:
    """The folder's weight files (the model's and its modules'), in a fixed order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in OTHER_FORMATS)
        found += [Path(root) / name for name in sorted(files) if name.endswith(WEIGHT_SUFFIXES)]
    return found


def weights_hash(folder: Path) -> str | None:
    """SHA-256 (16 hex digits) of the folder's weight files, names and contents; None without any.
    Hashed once per folder and file sizes and times, then read from a small cache: a search pays a
    few stat calls, not a read of hundreds of MB."""
    files = weight_files(folder)
    if not files:
        return None
    stamp = "|".join(f"{f.relative_to(folder)}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    return remembered_hash(f"{folder.resolve()}|{stamp}", lambda: _hash_files(folder, files))


def _hash_files(folder: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with open(path, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()[:16]
