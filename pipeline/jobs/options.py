"""Options of `heard ingest` that set a setting for one run (pipeline/options.py applies them through
the settings' own checks, so --workers is bounded exactly as transcribe.workers is)."""

from __future__ import annotations

from pipeline.options import Option

INGEST_SETTINGS = (
    Option(
        "speakers",
        "Speakers per recording instead of finding the count; a recording's metadata overrides it.",
        kind="int",
        setting="speakers.count",
        dest="num_speakers",
        web=False,
        metavar="N",
    ),
    Option(
        "workers",
        "Recordings transcribed at once, the CPU threads split between them.",
        kind="int",
        setting="transcribe.workers",
        web=False,
        metavar="N",
    ),
    Option(
        "executor",
        "ray: transcribe on a Ray cluster (pip install 'heard[ray]').",
        kind="choice",
        setting="transcribe.executor",
        web=False,
    ),
    Option("address", "Ray cluster address, e.g. ray://head:10001.", setting="transcribe.address", web=False, metavar="ADDRESS"),
)
