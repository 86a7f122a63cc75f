"""Metadata from sidecars, heard.yaml and manifest.csv; edits re-index without transcribing."""

from __future__ import annotations

import json

import pytest
from conftest import last_json_line

from pipeline.errors import RecordingError
from pipeline.sources import metadata


@pytest.mark.fast
def test_sidecar_overrides_manifest_overrides_folder_file(tmp_path):
    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"")
    (tmp_path / "heard.yaml").write_text(
        "kind: podcast\nsegment: smb\ntags: [weekly]\nrecordings:\n  call.mp3:\n    company: Folder Co\n    title: From folder\n")
    (tmp_path / "manifest.csv").write_text(
        "file,company,date,tags,speakers\ncall.mp3,Manifest Inc,2026-03-14,pricing;churn,Dana: host; Sam: guest\nother.mp3,Nope,,,\n")
    (tmp_path / "call.yaml").write_text("title: From sidecar\n")

    meta = metadata.for_recording(recording)

    assert meta == {
        "kind": "podcast", "segment": "smb", "company": "Manifest Inc", "title": "From sidecar",
        "date": "2026-03-14", "tags": ["pricing", "churn"],
        "speakers": [{"label": "Dana", "role": "host"}, {"label": "Sam", "role": "guest"}],
    }


@pytest.mark.fast
def test_no_metadata_is_empty(tmp_path):
    assert metadata.for_recording(tmp_path / "call.mp3") == {}


@pytest.mark.fast
@pytest.mark.parametrize(
    "text, words",
    [
        ("title: A\ncompany: Acme: Inc\n", "line 2"),
        ("title: A\nkind: webinar\n", "kind 'webinar'"),
        ("date: 14/03/2026\n", "YYYY-MM-DD"),
        ("compnay: Acme\n", "unknown metadata key 'compnay'"),
        ("num_speakers: 9\n", "1 to 8"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_bad_sidecar_gives_a_clear_error(tmp_path, text, words):
    (tmp_path / "call.yaml").write_text(text)
    with pytest.raises(RecordingError) as error:
        metadata.for_recording(tmp_path / "call.mp3")
    assert words in str(error.value) and "call.yaml" in str(error.value)


@pytest.mark.fast
def test_bad_manifest_row_names_its_line(tmp_path):
    (tmp_path / "manifest.csv").write_text("file,date\na.mp3,2026-01-01\ncall.mp3,yesterday\n")
    with pytest.raises(RecordingError, match="line 3: date 'yesterday'"):
        metadata.for_recording(tmp_path / "call.mp3")


def test_metadata_edit_is_picked_up_without_transcribing(tmp_path, heard, example_copy):
    recording = example_copy("northwind-pricing.ogg")
    sidecar = recording.with_suffix(".yaml")
    sidecar.write_text("title: Seats\ncompany: Northwind\nkind: interview\n")
    data_dir = tmp_path / "data"
    first = last_json_line(heard(["ingest", recording.parent, "--format", "json"], data_dir).stdout)
    assert first["new"] == 1 and first["transcribed"] == 1
    transcript_files = {p: p.stat().st_mtime_ns for p in (data_dir / "transcripts").glob("*.json")}

    sidecar.write_text(
        "title: Seats renewal call\ncompany: Northwind Studio\nkind: interview\nsegment: smb\ndate: 2026-02-03\n"
        "tags: [pricing]\nspeakers:\n  - {name: Dana Whitfield, role: interviewer}\n  - {name: Priya Shah, role: customer}\n")
    result = heard(["ingest", recording.parent, "--format", "json"], data_dir)

    summary = last_json_line(result.stdout)
    assert result.exit_code == 0 and summary["transcribed"] == 0 and summary["updated"] == 1 and summary["new"] == 0
    assert {p: p.stat().st_mtime_ns for p in transcript_files} == transcript_files  # not even re-diarized
    hits = json.loads(heard(["search", "price per seat", "--format", "json", "-k", "8"], data_dir).stdout)
    assert {h["title"] for h in hits} == {"Seats renewal call"}
    assert {(h["speaker"], h["role"]) for h in hits} == {("Priya Shah", "customer"), ("Dana Whitfield", "interviewer")}
    assert hits[0]["metadata"] == {"company": "Northwind Studio", "segment": "smb", "kind": "interview",
                                   "date": "2026-02-03", "tags": ["pricing"], "language": "en"}
    assert last_json_line(heard(["ingest", recording.parent, "--format", "json"], data_dir).stdout)["unchanged"] == 1


def test_a_bad_sidecar_fails_its_recording_and_keeps_what_was_indexed(tmp_path, heard):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "call.txt").write_text("Dana: What is too expensive?\nSam: The seats are too expensive for us.\n")
    data_dir = tmp_path / "data"
    assert heard(["ingest", folder], data_dir).exit_code == 0
    (folder / "call.yaml").write_text("kind: webinar\n")

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 1
    assert "kind 'webinar'" in last_json_line(result.stdout)["failures"][0]["reason"]
    assert json.loads(heard(["search", "seats", "--format", "json"], data_dir).stdout)
