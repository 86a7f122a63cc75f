"""How many threads each library may use: one policy for the whole process.

Left to themselves, CTranslate2 (Whisper), onnxruntime (the speaker models, the text encoder), torch
(openai-whisper, the ONNX exports), OpenMP and OpenBLAS each start a pool as large as the machine,
and their idle threads spin while they wait. On a busy machine that is the thread trap: diarizing 208 s of speech took
99 s of CPU with torch choosing its threads and 3.4 s with one (docs/benchmarks.md, "Ingest vs
bare Whisper", has this policy's own measurements). So no library chooses; the rules:

- `cores()`: the CPUs this process may run on (its affinity mask and its cgroup's CPU quota).
- `transcribe_threads()`: Whisper gets the cores, divided between the workers; `transcribe.threads`
  (when not 0) is the total instead of the cores.
- `speaker_threads()`: the speaker models (segmentation-3.0 and CAM++, onnxruntime sessions) get one
  thread (`speakers.threads` when not 0); they run while Whisper works on the next recording and has
  the cores.
- `embedding_threads()`: the text encoder gets one thread inside an ingest (it overlaps Whisper too)
  and the cores elsewhere (search, reindex).
- `wait_passively()`: threads that wait sleep instead of spinning (OpenMP's wait policy), and any
  BLAS pool defaults to one thread. An OpenMP runtime or BLAS library reads these once, when it
  loads, so they are set where heard starts work that loads one: the CLI (cli.main, before any
  command runs), `heard serve` (web/serve.py), and each model load (Whisper: hearing/transcribe.py,
  the speaker models: hearing/speakers/networks.py, the text encoder: indexing/embed.py); the tests
  set them in tests/conftest.py. Never as `pipeline` is imported: importing a library must not
  change its host program's environment (a program that embeds heard keeps its own settings).
- `limit_torch()`, `onnx_session_options()`, `limit_blas()`: the counts above, applied to each library.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import SpeakersSettings, TranscribeSettings

if TYPE_CHECKING:
    from onnxruntime import SessionOptions  # untyped (onnxruntime ships no types): Any to mypy

# Set before any OpenMP runtime or BLAS library loads (each reads them once, at load), by
# wait_passively() where heard starts such work (see above). A value the user set wins.
# OMP_WAIT_POLICY=PASSIVE: a thread that waits for work sleeps; libgomp (bundled by CTranslate2,
# torch and scikit-learn) otherwise spins first. The BLAS pools (OpenBLAS in numpy and
# scipy) get one thread: heard's matrix products are small, and each BLAS thread would compete with
# Whisper's.
LIBRARY_ENVIRONMENT = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def wait_passively(environ: MutableMapping[str, str] = os.environ) -> None:
    """Waiting threads sleep and BLAS pools start with one thread, unless the user chose otherwise.
    Call before the libraries load (see the module's docstring); later calls change nothing."""
    for name, value in LIBRARY_ENVIRONMENT.items():
        environ.setdefault(name, value)


def cores() -> int:
    """CPUs this process may run on: its affinity mask, lowered by a cgroup CPU quota (containers)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_cpu_quota()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs the cgroup may use (cgroup v2 cpu.max, v1 cfs quota); None when unlimited or unknown."""
    try:
        fields = (root / "cpu.max").read_text().split()
        if fields and fields[0] != "max":
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def transcribe_threads(settings: TranscribeSettings) -> int:
    """CTranslate2 threads of one Whisper worker: the cores (or `transcribe.threads`) over the workers."""
    total = settings.threads or cores()
    return max(1, total // max(1, settings.workers))


def speaker_threads(settings: SpeakersSettings) -> int:
    """onnxruntime intra-op threads of each speaker model: `speakers.threads`, or 1."""
    return settings.threads or 1


def embedding_threads(*, beside_whisper: bool) -> int:
    """onnxruntime threads of the text encoder: 1 while Whisper has the cores, else the cores."""
    return 1 if beside_whisper else cores()


def limit_torch(threads: int) -> None:
    """torch's intra-op pool to `threads`, its inter-op pool to one (process-wide)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # only settable before torch's first parallel work; it was set then, or torch chose


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch uses `threads` inside (limit_torch), and whatever it had before afterwards: the speaker
    models borrow torch for one recording while another library may own it the rest of the time."""
    import torch

    before = torch.get_num_threads()
    limit_torch(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def onnx_session_options(threads: int) -> SessionOptions:
    """onnxruntime options: `threads` intra-op threads that sleep when idle, sequential graph."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Spinning threads wait for the next operator by burning a core: measured in docs/benchmarks.md.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def limit_blas(threads: int = 1) -> None:
    """BLAS and OpenMP pools already loaded into the process (threadpoolctl) to `threads`.

    The environment (wait_passively) covers the libraries loaded later; this covers those a host
    program loaded before heard was imported.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
