"""Voices across recordings: `heard speakers` lists, names, merges and splits them; a name reaches
every recording where the voice speaks (search, roles), metadata still wins, decisions outlive
re-clustering, and a new recording of a named voice is named at ingest."""

from __future__ import annotations

import json
import shutil
import wave

import numpy as np
import pytest
from conftest import EXAMPLES, last_json_line
from voice_helpers import hits, voice_of, voices

from pipeline.indexing.identities import Identity
from pipeline.indexing.roles import people
from pipeline.transcripts import Segment, Transcript


@pytest.fixture
def data(indexed_examples, tmp_path):
    """A copy of the data dir with the three examples ingested (their voices, their index)."""
    source, _ = indexed_examples
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    return copy


def test_speakers_lists_each_voice_once_across_the_examples(data, heard):
    listing = voices(heard, data)
    assert len(listing) == 2  # one interviewer voice and one customer voice in all three interviews
    for found in listing.values():
        assert found["recordings"] == 3 and found["name"] is None and found["minutes"] > 0.2
        assert len({h["recording_id"] for h in found["heard"]}) == 3
    assert {h["label"] for h in listing[voice_of(listing, "S1")]["heard"]} == {"S1"}
    text = heard(["speakers"], data).stdout
    assert "unnamed" in text and "3 recordings" in text and "Exporting data for the quarterly board report" in text


def test_naming_a_voice_once_names_it_with_its_role_in_every_recording(data, heard):
    listing = voices(heard, data)
    interviewer, customer = voice_of(listing, "S1"), voice_of(listing, "S2")
    result = heard(["speakers", "name", interviewer, "Dana Whitfield", "--role", "interviewer"], data)
    assert result.exit_code == 0, result.output
    assert f"{interviewer} is Dana Whitfield (interviewer) in 3 recordings; re-indexed 3 recordings" in result.stdout
    asked = hits(heard, data, "how did it go", "--role", "interviewer")
    assert {h["speaker"] for h in asked} == {"Dana Whitfield"}
    assert len({h["recording_id"] for h in asked}) == 3
    answers = hits(heard, data, "what went wrong with the export")
    assert {h["role"] for h in answers if h["speaker"] != "Dana Whitfield"} == {"customer"}
    heard(["speakers", "name", customer, "Joe"], data)
    assert voices(heard, data)[customer]["name"] == "Joe"
    assert {h["speaker"] for h in hits(heard, data, "export", "--role", "customer")} == {"Joe"}


def test_naming_while_an_ingest_runs_is_kept_and_the_next_ingest_reindexes_without_transcribing(data, heard):
    from pipeline.jobs.lock import data_dir_lock

    interviewer = voice_of(voices(heard, data), "S1")
    with data_dir_lock(data):
        result = heard(["speakers", "name", interviewer, "Dana"], data)
    assert result.exit_code == 0 and "not done now" in result.stdout, result.output
    assert "Dana" not in {h["speaker"] for h in hits(heard, data, "how did it go")}
    summary = last_json_line(heard(["ingest", EXAMPLES, "--format", "json"], data).stdout)
    assert (summary["updated"], summary["transcribed"]) == (3, 0)
    assert "Dana" in {h["speaker"] for h in hits(heard, data, "how did it go")}
    summary = last_json_line(heard(["ingest", EXAMPLES, "--format", "json"], data).stdout)
    assert (summary["unchanged"], summary["chunks_written"]) == (3, 0)


def test_split_and_merge_outlive_reclustering(data, heard):
    listing = voices(heard, data)
    customer = voice_of(listing, "S2")
    result = heard(["speakers", "split", customer, "acme-export.mp3:S2"], data)
    assert result.exit_code == 0, result.output
    for _ in range(2):  # every listing re-clusters; the user's decision holds each time
        after = voices(heard, data)
        assert len(after) == 3 and after[customer]["recordings"] == 2
        alone = next(v for v in after.values() if v["recordings"] == 1)
        assert alone["heard"][0]["source"].endswith("acme-export.mp3")
    result = heard(["speakers", "merge", customer, alone["id"]], data)
    assert result.exit_code == 0, result.output
    after = voices(heard, data)
    assert len(after) == 2 and after[customer]["recordings"] == 3 and alone["id"] not in after


def test_unknown_voices_and_recordings_are_one_line_errors(data, heard):
    result = heard(["speakers", "name", "V99", "Dana"], data)
    assert result.exit_code == 2 and "no voice V99" in result.stderr
    customer = voice_of(voices(heard, data), "S2")
    result = heard(["speakers", "split", customer, "nowhere.mp3"], data)
    assert result.exit_code == 2 and "nowhere.mp3: no such recording" in result.stderr


def test_a_damaged_voices_file_is_named_with_the_fix(data, heard):
    (data / "voices.sqlite3").write_bytes(b"not a database" * 100)
    result = heard(["speakers"], data)
    assert result.exit_code == 2 and "voices.sqlite3: damaged voices file" in result.stderr and "move it away" in result.stderr
    (data / "voices.sqlite3").unlink()
    assert len(voices(heard, data)) == 2  # rebuilt from the transcripts


def test_a_new_recording_of_a_named_voice_is_named_at_ingest(data, heard, tmp_path):
    from pipeline.hearing.audio import decode_audio

    interviewer = voice_of(voices(heard, data), "S1")
    heard(["speakers", "name", interviewer, "Dana", "--role", "interviewer"], data)
    # New content with the same two voices: the first 25 s of one example, as a WAV file.
    samples = decode_audio(EXAMPLES / "northwind-pricing.ogg")[: 25 * 16000]
    folder = tmp_path / "new"
    folder.mkdir()
    with wave.open(str(folder / "follow-up.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    summary = last_json_line(heard(["ingest", folder, "--format", "json"], data).stdout)
    assert summary["new"] == 1
    found = [h for h in hits(heard, data, "what do you pay per seat") if h["recording"].endswith("follow-up.wav")]
    assert found and {h["speaker"] for h in found if h["role"] == "interviewer"} <= {"Dana"}
    assert "Dana" in {h["speaker"] for h in hits(heard, data, "how do you pay", "--recording", found[0]["recording_id"])}
    assert voices(heard, data)[interviewer]["recordings"] == 4


def test_a_recording_that_cannot_be_reindexed_fails_alone_and_the_next_ingest_names_it(tmp_path, heard, example_copy):
    """`heard speakers` and `heard reindex` write recordings from their transcripts one way
    (jobs/from_transcript.py): a recording whose sidecar is broken is named and left as it was (its
    chunks kept), the others are written with their voices' names; once the sidecar is fixed, the
    next ingest writes it with them, without transcribing."""
    data_dir = tmp_path / "data"
    for name in ("acme-export.mp3", "acme-export.yaml", "northwind-pricing.ogg", "northwind-pricing.yaml"):
        example_copy(name)
    folder = tmp_path / "recordings"
    assert heard(["ingest", folder], data_dir).exit_code == 0
    interviewer = voice_of(voices(heard, data_dir), "S1")
    sidecar = folder / "acme-export.yaml"
    sidecar.write_text("title: [unclosed\n")

    result = heard(["speakers", "name", interviewer, "Dana", "--role", "interviewer"], data_dir)
    assert result.exit_code == 0, result.output
    assert "re-indexed 1 recording" in result.stdout
    assert f"not re-indexed: {sidecar}" in result.stderr
    asked = hits(heard, data_dir, "how did it go", "--role", "interviewer")
    named = {h["recording"].rsplit("/", 1)[-1]: h["speaker"] for h in asked}
    assert named == {"northwind-pricing.ogg": "Dana", "acme-export.mp3": "S1"}

    rebuilt = heard(["reindex", "--format", "json"], data_dir)
    summary = last_json_line(rebuilt.stdout)
    assert rebuilt.exit_code == 1 and (summary["recordings"], summary["failed"], summary["kept"]) == (1, 1, 1), rebuilt.output
    assert str(sidecar) in summary["failures"][0]["reason"]
    # Its chunks are carried into the new index as they were (issue 25: a rebuild loses nothing).
    asked = hits(heard, data_dir, "how did it go", "--role", "interviewer")
    assert {(h["recording"].rsplit("/", 1)[-1], h["speaker"]) for h in asked} == named.items()

    shutil.copy(EXAMPLES / "acme-export.yaml", sidecar)
    summary = last_json_line(heard(["ingest", folder, "--format", "json"], data_dir).stdout)
    assert summary["transcribed"] == 0 and summary["failed"] == 0
    asked = hits(heard, data_dir, "how did it go", "--role", "interviewer")
    assert {h["speaker"] for h in asked} == {"Dana"} and len({h["recording_id"] for h in asked}) == 2


# --- the rule: inferred roles < named voices < metadata --------------------------------------------


def _interview(lines, **diarization) -> Transcript:
    segments = [Segment(2.0 * i, 2.0 * i + 2, text, speaker) for i, (speaker, text) in enumerate(lines)]
    return Transcript("r1", "", "call.mp3", "Call", 2.0 * len(lines), "en", {}, segments, diarization=diarization or None)


# The customer asks more questions than the interviewer: the inference gets it wrong.
TRICKY = [
    ("S1", "Thanks for coming. Tell me about exports."),
    ("S2", "Why do exports time out? Is that a known bug? Who should I ask?"),
    ("S1", "It is known, and a fix is planned for next month."),
    ("S2", "Good. Can it email me the file?"),
]
DANA = Identity("V1", "Dana", "interviewer")


@pytest.mark.fast
def test_a_named_voices_role_beats_who_asks_the_questions():
    assert people(_interview(TRICKY), {})["S2"].role == "interviewer"  # the heuristic's mistake
    named = people(_interview(TRICKY), {}, {"S1": DANA})
    assert (named["S1"].name, named["S1"].role) == ("Dana", "interviewer")
    assert (named["S2"].name, named["S2"].role) == ("S2", "customer")
    podcast = people(_interview(TRICKY), {"kind": "podcast"}, {"S1": DANA})  # the interviewer hosts
    assert (podcast["S1"].role, podcast["S2"].role) == ("host", "guest")


@pytest.mark.fast
def test_metadata_names_win_over_voice_names():
    by_label = people(_interview(TRICKY), {"speakers": [{"label": "S1", "name": "Tom"}]}, {"S1": DANA})
    assert (by_label["S1"].name, by_label["S1"].role, by_label["S2"].role) == ("Tom", "interviewer", "customer")
    by_role = people(_interview(TRICKY), {"speakers": [{"name": "Tom", "role": "interviewer"}]}, {"S1": DANA})
    assert (by_role["S1"].name, by_role["S1"].role) == ("Tom", "interviewer")
    by_name = people(_interview(TRICKY), {"speakers": [{"name": "Dana", "role": "customer"}]}, {"S1": DANA})
    assert by_name["S1"].role == "customer"


@pytest.mark.fast
def test_an_unsure_diarization_still_names_known_voices():
    close = _interview(TRICKY, confident=False, reason="two voices close together")
    named = people(close, {}, {"S1": DANA})
    assert [(p.name, p.role) for p in named.values()] == [("Dana", "interviewer"), ("S2", "customer")]
    assert [p.role for p in people(close, {}).values()] == [None, None]
    one_voice = _interview([("S1", text) for _, text in TRICKY], confident=False, reason="one voice found")
    only = people(one_voice, {}, {"S1": DANA})["S1"]
    assert (only.name, only.role) == ("Dana", None)  # that one voice may hold both people: no role


def test_two_speakers_of_one_recording_are_never_one_voice(data):
    """Even when their vectors are identical: the diarizer said they are two people."""
    from pipeline.indexing.identities.clustering import Observation, cluster_observations

    transcript = json.loads(next((data / "transcripts").glob("*.json")).read_text())
    vector = tuple(transcript["diarization"]["voices"]["S1"]["embedding"])
    speakers = [Observation("a", "S1", 20.0, vector), Observation("a", "S2", 20.0, vector), Observation("b", "S1", 20.0, vector)]
    found = cluster_observations(speakers, pinned={})
    assert found[("a", "S1")] != found[("a", "S2")]
    assert found[("b", "S1")] in (found[("a", "S1")], found[("a", "S2")])
    pinned = cluster_observations(speakers, pinned={("a", "S2"): "V7"})
    assert pinned[("a", "S2")] == "V7" and pinned[("b", "S1")] == "V7" and pinned[("a", "S1")] != "V7"
