"""What the voice tests read through the real CLI: the voices `heard speakers` lists, and search hits."""

from __future__ import annotations

import json


def voices(heard, data_dir) -> dict[str, dict]:
    result = heard(["speakers", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    return {v["id"]: v for v in json.loads(result.stdout)}


def voice_of(listing: dict[str, dict], label: str) -> str:
    """The voice whose speakers are `label` in every recording (S1: the interviewer opens each example)."""
    return next(v for v, found in listing.items() if {h["label"] for h in found["heard"]} == {label})


def hits(heard, data_dir, query: str, *args) -> list[dict]:
    result = heard(["search", query, "--format", "json", "-k", "20", *args], data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
