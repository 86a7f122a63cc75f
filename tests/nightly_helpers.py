"""Short real recordings and index snapshots for the nightly-ingest tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
from conftest import EXAMPLES

from pipeline.indexing.store import Store, forget_cached_client

RATE = 16000


def write_wav(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def make_clips(folder: Path) -> dict[str, Path]:
    """Four distinct 12 s clips of real (generated) interview speech, plus a 135 s recording."""
    from pipeline.hearing.audio import decode_audio

    decoded = {p.stem: decode_audio(p) for p in sorted(EXAMPLES.iterdir()) if p.suffix in {".mp3", ".m4a", ".ogg"}}
    acme, bright, north = decoded["acme-export"], decoded["brightside-onboarding"], decoded["northwind-pricing"]
    clips = {
        "acme": write_wav(folder / "acme.wav", acme[: RATE * 12]),
        "bright": write_wav(folder / "bright.wav", bright[: RATE * 12]),
        "north": write_wav(folder / "north.wav", north[: RATE * 12]),
        "acme-late": write_wav(folder / "acme-late.wav", acme[RATE * 25 : RATE * 37]),
        "long": write_wav(folder / "long.wav", np.concatenate([bright, north, acme])),
    }
    return clips


def place(clip: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(clip, dest))


def snapshot(data_dir: Path) -> dict[str, tuple]:
    """Every chunk in the index: id -> (text, recording path, start, end)."""
    # Chroma shares one client per path in a process: drop one that predates other processes' writes.
    forget_cached_client(data_dir / "index")
    store = Store(data_dir / "index", "heard", create=False)
    try:
        chunks = store.all_chunks(superseded=True)  # hidden leftovers of a replacement too
    finally:
        store.close()
    assert len(chunks) == len({c.id for c in chunks})
    return {chunk.id: (chunk.text, chunk.recording, chunk.start, chunk.end) for chunk in chunks}
