"""heard ingest: recordings in, transcripts and an index out; idempotent; bad files don't stop a run."""

from __future__ import annotations

import json
import re

import av
import jiwer
import numpy as np
from conftest import EXAMPLES, last_json_line

from pipeline.indexing.store import Store


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in {".mp3", ".m4a", ".ogg"})


def test_ingest_summary_counts_every_example_as_new(indexed_examples):
    _, summary = indexed_examples
    assert summary["new"] == len(EXAMPLE_FILES) == 3
    assert summary["failed"] == 0 and summary["unchanged"] == 0
    assert summary["transcribed"] == 3
    assert summary["chunks_written"] >= 3 * 3  # each interview has eight turns
    assert 120 < summary["audio_seconds"] < 140  # three interviews of 42-45 s
    assert summary["wall_seconds"] > 0


def test_transcript_json_records_segments_words_model_and_audio_hash(indexed_examples, truth):
    data_dir, _ = indexed_examples
    files = sorted((data_dir / "transcripts").glob("*.json"))
    assert len(files) == 3
    for path in files:
        transcript = json.loads(path.read_text())
        assert path.stem == transcript["recording_id"] == transcript["audio_sha256"][:16]
        assert transcript["transcriber"]["backend"] == "faster-whisper"
        assert transcript["transcriber"]["model"] == "tiny.en"
        assert transcript["transcriber"]["settings"]["beam_size"] == 5
        segments = transcript["segments"]
        assert segments and all(s["end"] > s["start"] for s in segments)
        words = [w for s in segments for w in s["words"]]
        assert len(words) > 100
        assert all(s["start"] - 0.01 <= w["start"] <= w["end"] <= s["end"] + 0.01 for s in segments for w in s["words"])
        # The words are what was said: the script the example was synthesized from.
        name = transcript["source"].rsplit("/", 1)[-1]
        said = _words(" ".join(t["text"] for t in truth[name]["turns"]))
        heard_words = _words(" ".join(w["text"] for w in words))
        assert jiwer.wer(said, heard_words) < 0.1, (said, heard_words)
        markdown = path.with_suffix(".md").read_text()
        assert markdown.startswith("# ") and "[00:0" in markdown and segments[1]["text"] in markdown


def test_every_chunk_is_whole_sentences_with_a_stable_id(indexed_examples):
    data_dir, _ = indexed_examples
    store = Store(data_dir / "index", "heard", create=False)
    chunks = store.all_chunks(superseded=True)  # every row stored, hidden ones too
    assert len(chunks) == store.count() > 0
    for recording_id in {c.recording_id for c in chunks}:
        # The ids stored are <recording id>:<chunk no> of the chunks stored.
        assert store.chunk_ids(recording_id) == {f"{c.recording_id}:{c.index}" for c in chunks if c.recording_id == recording_id}
    for chunk in chunks:
        assert chunk.text[0].isupper() and chunk.text.rstrip().endswith((".", "?", "!")), chunk.text
        assert chunk.end > chunk.start >= 0
        assert chunk.title and chunk.recording.startswith(str(EXAMPLES))


def test_reingesting_unchanged_folder_does_no_work(indexed_examples, heard):
    data_dir, _ = indexed_examples
    store = Store(data_dir / "index", "heard", create=False)
    before = store.count()
    result = heard(["ingest", EXAMPLES, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    summary = last_json_line(result.stdout)
    assert summary["unchanged"] == 3
    assert summary["new"] == summary["transcribed"] == summary["chunks_written"] == 0
    assert summary["audio_seconds"] == 0
    assert Store(data_dir / "index", "heard", create=False).count() == before


def test_renamed_recording_does_no_work_and_points_at_new_path(tmp_path, heard, example_copy):
    data_dir = tmp_path / "data"
    original = example_copy("northwind-pricing.ogg")
    assert heard(["ingest", original.parent], data_dir).exit_code == 0
    moved = original.parent / "sub" / "renamed.ogg"
    moved.parent.mkdir()
    original.rename(moved)

    result = heard(["ingest", original.parent, "--format", "json"], data_dir)
    summary = last_json_line(result.stdout)
    assert summary["unchanged"] == 1 and summary["transcribed"] == 0 and summary["chunks_written"] == 0
    hits = json.loads(heard(["search", "price per seat", "--format", "json"], data_dir).stdout)
    assert hits and {h["recording"] for h in hits} == {str(moved)}


def _write_audio(path, samples: np.ndarray, codec: str, rate: int = 16000) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_bad_recordings_fail_alone_with_one_line_reasons(tmp_path, heard, example_copy):
    folder = tmp_path / "recordings"
    good = example_copy("acme-export.mp3", folder)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.mp3").write_text("this is a text file with an audio extension\n" * 50)
    truncated = folder / "truncated.m4a"
    truncated.write_bytes((EXAMPLES / "brightside-onboarding.m4a").read_bytes()[:3000])
    _write_audio(folder / "silence.flac", np.zeros(16000 * 3), "flac")
    data_dir = tmp_path / "data"

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 1
    summary = last_json_line(result.stdout)
    assert summary["new"] == 1 and summary["failed"] == 4
    reasons = {f["path"].rsplit("/", 1)[-1]: f["reason"] for f in summary["failures"]}
    assert "empty" in reasons["empty.wav"]
    assert "not a readable audio" in reasons["notes.mp3"]
    assert "silent" in reasons["silence.flac"]
    # Cut inside the MP4 header: the container itself cannot be opened.
    assert "not a readable audio" in reasons["truncated.m4a"]
    for name in reasons:  # one line on stderr per bad file, naming it
        lines = [line for line in result.stderr.splitlines() if name in line]
        assert len(lines) == 1 and "FAILED" in lines[0]
    hits = json.loads(heard(["search", "export timed out", "--format", "json"], data_dir).stdout)
    assert hits and hits[0]["recording"] == str(good)


def test_failed_recording_does_not_remove_what_is_indexed(tmp_path, heard, example_copy):
    data_dir = tmp_path / "data"
    folder = tmp_path / "recordings"
    example_copy("northwind-pricing.ogg", folder)
    assert heard(["ingest", folder], data_dir).exit_code == 0
    count = Store(data_dir / "index", "heard", create=False).count()
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 1
    assert last_json_line(result.stdout)["unchanged"] == 1
    assert Store(data_dir / "index", "heard", create=False).count() == count


def test_video_containers_are_ingested(tmp_path, heard):
    """Audio inside mp4 / webm / mov, encoded here from an example so no video file is committed."""
    from pipeline.hearing.audio import decode_audio

    samples = decode_audio(EXAMPLES / "acme-export.mp3")[: 16000 * 15]
    folder = tmp_path / "videos"
    folder.mkdir()
    _write_audio(folder / "call.mp4", samples, "aac")
    _write_audio(folder / "call.mov", samples * 0.9, "aac")
    _write_audio(folder / "call.webm", samples * 0.8, "libopus")
    for name in ("call.mp4", "call.mov", "call.webm"):
        decoded = decode_audio(folder / name)
        assert abs(len(decoded) - len(samples)) < 16000 * 0.2, name  # codec priming and padding

    result = heard(["ingest", folder, "--format", "json"], tmp_path / "data")
    assert result.exit_code == 0, result.output
    assert last_json_line(result.stdout)["new"] == 3
