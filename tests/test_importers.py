"""Transcripts people already have are indexed as they are: no Whisper, their speakers, their times."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import EXAMPLES, last_json_line

from pipeline.errors import RecordingError
from pipeline.indexing.store import Store
from pipeline.sources.importers import read_segments

VTT_VOICES = """WEBVTT

NOTE exported by a meeting tool

00:00:01.000 --> 00:00:04.500
<v Dana Whitfield>How do you export data today?</v>

2
00:00:05.000 --> 00:00:09.250
<v.loud Sam Lee>I click export and it times out on big workspaces.</v>
"""

SRT = """1
00:00:01,000 --> 00:00:04,500
Dana: How do you export data today?

2
00:00:05,000 --> 00:01:09,250
Sam: I click export and it
times out on big workspaces.
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _triples(path):
    segments, timed = read_segments(path)
    return [(s.speaker, s.start, s.end, s.text) for s in segments], timed


@pytest.mark.fast
def test_vtt_voice_tags_give_speakers_and_times(tmp_path):
    found, timed = _triples(_write(tmp_path, "call.vtt", VTT_VOICES))
    assert timed
    assert found == [
        ("Dana Whitfield", 1.0, 4.5, "How do you export data today?"),
        ("Sam Lee", 5.0, 9.25, "I click export and it times out on big workspaces."),
    ]


@pytest.mark.fast
def test_zoom_vtt_with_name_prefixes(tmp_path):
    text = "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nDana Whitfield: Hello there.\n\n2\n00:00:02.000 --> 00:00:03.000\nSam: Hi!\n"
    found, _ = _triples(_write(tmp_path, "zoom.vtt", text))
    assert [(s, t) for s, _, _, t in found] == [("Dana Whitfield", "Hello there."), ("Sam", "Hi!")]


@pytest.mark.fast
def test_srt_with_multiline_cues(tmp_path):
    found, timed = _triples(_write(tmp_path, "call.srt", SRT))
    assert timed
    assert found[1] == ("Sam", 5.0, 69.25, "I click export and it times out on big workspaces.")


@pytest.mark.fast
@pytest.mark.parametrize(
    "text, expected_start",
    [
        # Name: text (no times: estimated from word counts)
        ("Dana: How do you export data?\nSam: It times out.\nIt really does.\n", None),
        # Name (00:01:23): text
        ("Dana (00:00:01): How do you export data?\nSam (00:00:04): It times out.\nIt really does.\n", [1.0, 4.0]),
        # [00:01:23] Name: text
        ("[00:00:01] Dana: How do you export data?\n[00:00:04] Sam: It times out.\nIt really does.\n", [1.0, 4.0]),
        # Otter: name, two spaces, time; text below
        ("Dana  0:01\nHow do you export data?\n\nSam  0:04\nIt times out.\nIt really does.\n", [1.0, 4.0]),
        # Zoom text export: [Name] 00:00:01; text below
        ("[Dana] 00:00:01\nHow do you export data?\n\n[Sam] 00:00:04\nIt times out.\nIt really does.\n", [1.0, 4.0]),
        # Teams: name and h:mm:ss; text below
        ("Dana 0:00:01\nHow do you export data?\nSam 0:00:04\nIt times out.\nIt really does.\n", [1.0, 4.0]),
    ],
    ids=["name-colon", "name-time-colon", "time-name-colon", "otter", "zoom", "teams"],
)
def test_txt_export_shapes(tmp_path, text, expected_start):
    found, timed = _triples(_write(tmp_path, "notes.txt", text))
    assert [(s, t) for s, _, _, t in found] == [("Dana", "How do you export data?"), ("Sam", "It times out. It really does.")]
    assert timed == (expected_start is not None)
    if expected_start:
        assert [start for _, start, _, _ in found] == expected_start
        assert found[0][2] == 4.0  # a turn ends where the next begins
    else:
        assert 0 == found[0][1] < found[0][2] <= found[1][1] < found[1][2]


@pytest.mark.fast
@pytest.mark.parametrize(
    "name, text, line, words",
    [
        ("bad.vtt", "00:00:01.000 --> 00:00:02.000\nhello\n", 1, "WEBVTT"),
        ("bad.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n\n00:00:0x.000 --> 00:00:05.000\nbye\n", 6, "times"),
        ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nhello\n\nno timing here\nbye\n", 5, "timing line"),
        ("bad.srt", "1\n00:00:05,000 --> 00:00:02,000\nhello\n", 2, "ends before it starts"),
        ("bad.txt", "just some notes without speakers\nDana: hi\n", 1, "Name: text"),
        ("bad.txt", "Dana (00:01:00): hi\nSam (00:00:10): hello\n", 2, "backwards"),
        ("bad.json", '{\n "segments": [\n  {"start": 1,\n }\n', 4, "JSON"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, name, text, line, words):
    from pipeline.sources.importers import import_transcript

    path = _write(tmp_path, name, text)
    with pytest.raises(RecordingError) as error:
        import_transcript(path, recording_id="id", sha256="sha", source=path, title="title")
    assert f"line {line}:" in str(error.value) and words in str(error.value)
    assert str(path) in str(error.value)


def test_transcript_folder_is_indexed_without_transcribing(tmp_path, heard):
    folder = tmp_path / "transcripts-in"
    folder.mkdir()
    _write(folder, "acme.vtt", VTT_VOICES)
    _write(folder, "northwind.txt", "Dana (00:00:01): What do you pay per seat?\nPriya Shah (00:00:05): We pay far too much for seats nobody uses.\n")
    data_dir = tmp_path / "data"

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 0, result.output
    summary = last_json_line(result.stdout)
    assert summary["new"] == 2 and summary["transcribed"] == 0 and summary["audio_seconds"] == 0
    hits = json.loads(heard(["search", "paying for unused seats", "--format", "json", "-k", "1"], data_dir).stdout)
    assert hits[0]["speaker"] == "Priya Shah" and hits[0]["role"] == "customer"
    assert hits[0]["start"] == 5.0 and hits[0]["recording"] == str(folder / "northwind.txt")
    again = last_json_line(heard(["ingest", folder, "--format", "json"], data_dir).stdout)
    assert again["unchanged"] == 2 and again["chunks_written"] == 0
    # No model made these transcripts: status says so (it printed "transcription import None").
    assert "models in use: transcription imported transcripts;" in heard(["status"], data_dir).stdout


def test_heard_json_transcript_is_reimported(tmp_path, heard, indexed_examples):
    indexed_dir, _ = indexed_examples
    folder = tmp_path / "exports"
    folder.mkdir()
    original = sorted((indexed_dir / "transcripts").glob("*.json"))[0]
    shutil.copy(original, folder / "exported.json")
    data_dir = tmp_path / "data"

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 0, result.output
    assert last_json_line(result.stdout)["transcribed"] == 0
    stored = Store(data_dir / "index", "heard", create=False).all_chunks(superseded=True)
    chunks = sorted(stored, key=lambda chunk: chunk.index)
    spoken = " ".join(s["text"] for s in json.loads(original.read_text())["segments"])
    # The chunks, in order, are the transcript's words: every word, nothing added.
    assert chunks and " ".join(chunk.text for chunk in chunks).split() == spoken.split()


def test_audio_with_a_transcript_beside_it_uses_the_transcript_and_plays_the_audio(tmp_path, heard, truth):
    folder = tmp_path / "calls"
    folder.mkdir()
    audio = shutil.copy(EXAMPLES / "acme-export.mp3", folder / "call.mp3")
    names = {"interviewer": "Dana Whitfield", "customer": "Sam Lee"}
    cues = ["WEBVTT", ""]
    for turn in truth["acme-export.mp3"]["turns"]:
        start, end = (f"00:00:{t:06.3f}" for t in (turn["start"], turn["end"]))
        cues += [f"{start} --> {end}", f"<v {names[turn['speaker']]}>{turn['text']}", ""]
    _write(folder, "call.vtt", "\n".join(cues))
    data_dir = tmp_path / "data"

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 0, result.output
    summary = last_json_line(result.stdout)
    assert summary["new"] == 1 and summary["transcribed"] == 0
    hits = json.loads(heard(["search", "copied the rows by hand into a spreadsheet", "--format", "json", "-k", "1"], data_dir).stdout)
    assert hits[0]["recording"] == str(audio)  # played from the audio
    assert hits[0]["speaker"] == "Sam Lee" and hits[0]["role"] == "customer"
    assert "rows by hand" in hits[0]["text"]  # the transcript's words (Whisper hears "rose by hand")


def test_malformed_transcript_fails_alone_and_nothing_of_it_is_indexed(tmp_path, heard):
    folder = tmp_path / "mixed"
    folder.mkdir()
    _write(folder, "good.vtt", VTT_VOICES)
    _write(folder, "broken.srt", SRT.replace("00:00:05,000 --> 00:01:09,250", "00:00:05,000 -> 00:01:09"))
    data_dir = tmp_path / "data"

    result = heard(["ingest", folder, "--format", "json"], data_dir)

    assert result.exit_code == 1
    summary = last_json_line(result.stdout)
    assert summary["new"] == 1 and summary["failed"] == 1
    assert "broken.srt" in summary["failures"][0]["path"] and "line 5" in summary["failures"][0]["reason"]
    recordings = {c.recording for c in Store(data_dir / "index", "heard", create=False).all_chunks(superseded=True)}
    assert recordings == {str(folder / "good.vtt")}


def test_edited_transcript_replaces_what_was_indexed_from_it(tmp_path, heard):
    folder = tmp_path / "in"
    folder.mkdir()
    path = _write(folder, "call.vtt", VTT_VOICES)
    data_dir = tmp_path / "data"
    assert heard(["ingest", folder], data_dir).exit_code == 0
    path.write_text(VTT_VOICES.replace("it times out on big workspaces", "the download never finishes"))

    summary = last_json_line(heard(["ingest", folder, "--format", "json"], data_dir).stdout)

    assert summary["updated"] == 1 and summary["transcribed"] == 0
    texts = [c.text for c in Store(data_dir / "index", "heard", create=False).all_chunks(superseded=True)]
    assert any("never finishes" in t for t in texts) and not any("times out" in t for t in texts)


@pytest.mark.fast
@pytest.mark.parametrize("value", ['"NaN"', '"nan"', '"Infinity"', '"-inf"', "1e999", '"-5"'])
def test_a_podcast_json_time_that_is_not_a_finite_number_of_seconds_fails_naming_the_file(tmp_path, value):
    from pipeline.sources.importers import import_transcript

    path = _write(tmp_path, "episode.json", '{"segments": [{"startTime": 0, "endTime": 1, "body": "Hi."}, '
                                            f'{{"startTime": {value}, "endTime": 2, "body": "there."}}]}}')
    with pytest.raises(RecordingError) as error:
        import_transcript(path, recording_id="id", sha256="sha", source=path, title="title")
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "segment 2" in message and "\n" not in message


@pytest.mark.fast
def test_a_subtitle_file_with_more_cues_than_anyone_speaks_is_refused(tmp_path):
    """60,000 cues in 12 s (2 MB) would become 1,000 chunks and 1.5 GB of memory: refused, naming the file."""
    from pipeline.sources.importers import ImplausibleTranscript, import_transcript

    cues = "".join(f"00:00:{i % 12:02d}.000 --> 00:00:{i % 12:02d}.500\nw{i}\n\n" for i in range(60_000))
    path = _write(tmp_path, "flood.vtt", "WEBVTT\n\n" + cues)
    with pytest.raises(ImplausibleTranscript) as error:
        import_transcript(path, recording_id="id", sha256="sha", source=path, title="title")
    assert str(error.value).startswith(f"{path}: 60000 cues in 12 s")


def test_one_chunk_is_counted_as_one_chunk_in_the_progress_and_the_summary(tmp_path, heard):
    folder = tmp_path / "one"
    folder.mkdir()
    _write(folder, "short.txt", "Priya Shah (00:00:05): We pay far too much for seats nobody uses.\n")

    result = heard(["ingest", folder], tmp_path / "data")

    assert result.exit_code == 0, result.output
    assert "short.txt: indexed 1 chunk\n" in result.output and "; 1 chunk written;" in result.output
    assert "1 chunks" not in result.output
