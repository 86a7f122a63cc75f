"""Both transcription backends, run through the real pipeline on the same real speech."""

from __future__ import annotations

import json
import re

import jiwer
from conftest import last_json_line, run_heard


def _words(transcript: dict) -> str:
    text = " ".join(s["text"] for s in transcript["segments"]).lower()
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def test_openai_whisper_backend_matches_faster_whisper(tmp_path, example_copy, indexed_examples):
    recording = example_copy("acme-export.mp3")
    config = tmp_path / "openai.yaml"
    config.write_text("transcribe:\n  backend: openai-whisper\n  model: tiny.en\n")

    result = run_heard(["ingest", recording.parent, "--format", "json"], tmp_path / "data", config)

    assert result.exit_code == 0, result.output
    assert last_json_line(result.stdout)["new"] == 1
    (openai_file,) = (tmp_path / "data" / "transcripts").glob("*.json")
    openai = json.loads(openai_file.read_text())
    faster = json.loads((indexed_examples[0] / "transcripts" / openai_file.name).read_text())
    assert openai["transcriber"]["backend"] == "openai-whisper"
    assert faster["transcriber"]["backend"] == "faster-whisper"
    # Same schema: the same keys at every level.
    assert openai.keys() == faster.keys()
    assert openai["segments"][0].keys() == faster["segments"][0].keys()
    assert openai["segments"][0]["words"][0].keys() == faster["segments"][0]["words"][0].keys()
    error = jiwer.wer(_words(faster), _words(openai))
    assert error < 0.10, (error, _words(faster), _words(openai))
    # Word timings agree too: the converted checkpoint carries the alignment heads.
    first_faster = faster["segments"][0]["words"][0]
    first_openai = openai["segments"][0]["words"][0]
    assert first_faster["text"].strip() == first_openai["text"].strip()
    assert abs(first_faster["end"] - first_openai["end"]) < 0.3
