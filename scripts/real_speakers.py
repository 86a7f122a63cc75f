"""Real recordings with speaker references, fetched from PyPI packages at run time (never committed).

- pyannote.audio 4.0.7 source distribution, tests/data/: 14 AMI meeting excerpts of 30 s, 1-4
  speakers each, with RTTM turns (AMI corpus, CC BY 4.0).
- pyannote.audio 4.0.7 wheel, pyannote/audio/sample/: a 30 s phone call, 2 speakers, with RTTM.

The split was fixed before any measurement (docs/benchmarks.md, "Speakers"): DEV (tuned on) is
pyannote's "train" partition trn00-trn09 plus the phone call, which main's earlier diarizer was
already tuned on; HELD-BACK (never tuned on) is pyannote's "development" and "test" partitions,
dev00, dev01, tst00, tst01.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = "pyannote.audio==4.0.7"
DEV = [f"trn0{i}" for i in range(10)] + ["call"]
HELD_BACK = ["dev00", "dev01", "tst00", "tst01"]


@dataclass
class Clip:
    name: str
    part: str  # DEV or HELD-BACK
    samples: np.ndarray  # 16 kHz mono float32
    reference: list[tuple[float, float, str]]  # (start, end, speaker)

    @property
    def speakers(self) -> int:
        return len({t[2] for t in self.reference})


def _pip_download(folder: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *args, PACKAGE, "-d", str(folder)],
                   check=True, capture_output=True)


def fetch_call(folder: Path) -> Path:
    """sample.wav and sample.rttm of the wheel, in folder (downloaded once, 0.9 MB)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "sample.rttm").is_file():
        _pip_download(folder, "--only-binary", ":all:")
        with zipfile.ZipFile(next(folder.glob("pyannote_audio-4.0.7-*.whl"))) as wheel:
            for name in ("sample.wav", "sample.rttm"):
                (folder / name).write_bytes(wheel.read(f"pyannote/audio/sample/{name}"))
    return folder / "sample.wav"


def fetch_meetings(folder: Path) -> Path:
    """The AMI excerpts and their RTTM files, in folder/ami (downloaded once, 14 MB)."""
    target = folder / "ami"
    if not (target / "debug.test.rttm").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _pip_download(folder, "--no-binary", ":all:")
        target.mkdir(exist_ok=True)
        with tarfile.open(next(folder.glob("pyannote_audio-4.0.7.tar.gz"))) as sdist:
            for member in sdist.getmembers():
                if "/tests/data/" in member.name and member.name.endswith((".wav", ".rttm")) and member.isfile():
                    source = sdist.extractfile(member)
                    assert source is not None
                    # trñ00.wav is trn00 in the RTTM files: a plain name avoids encoding trouble.
                    (target / Path(member.name).name.replace("ñ", "n")).write_bytes(source.read())
    return target


def clips(folder: Path, names: list[str] | None = None) -> list[Clip]:
    """The real clips (DEV then HELD-BACK), fetched into folder if missing."""
    from pipeline.hearing.audio import decode_audio
    from pipeline.hearing.speakers.der import read_rttm

    wanted = names or DEV + HELD_BACK
    out = []
    ami = fetch_meetings(folder) if any(n != "call" for n in wanted) else None
    rttm = "".join(p.read_text() for p in sorted(ami.glob("*.rttm"))) if ami else ""
    for name in wanted:
        part = "DEV" if name in DEV else "HELD-BACK"
        if name == "call":
            wav = fetch_call(folder / "call")
            out.append(Clip(name, part, decode_audio(wav), read_rttm((wav.parent / "sample.rttm").read_text())))
        else:
            assert ami is not None
            out.append(Clip(name, part, decode_audio(ami / f"{name}.wav"), read_rttm(rttm, name)))
    return out
