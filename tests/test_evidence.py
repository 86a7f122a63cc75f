"""Highlights, collections and clips through the real command line: `heard save`, `unsave`,
`collections`, `clip`. The tests marked fast run over a transcript written from a recording's true
turns (no model); the others over the examples as ingest indexed them (real Whisper words)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from conftest import REPO, run_heard
from evidence_helpers import handmade, locate

from pipeline.evidence.database import collections_path

INCOMPLETE = "it took me two full days"  # a customer's line of acme-export.mp3 (tests/data)
ASKED = "What did you do when the export timed out?"  # the interviewer's


def heard_in(data_dir):
    def invoke(*args):
        return run_heard(list(args), data_dir)

    return invoke


@pytest.mark.fast
def test_save_then_list_show_rename_unsave_and_remove(tmp_path):
    made = handmade(tmp_path)
    heard = heard_in(made.data_dir)
    first, second = made.quote_id("times out"), made.quote_id("two full days")

    saved = heard("save", first, "--to", "Export pain", "--note", "Blocks the board report", "--tag", "export", "--tag", "scale")
    assert saved.exit_code == 0, saved.output
    assert saved.stdout.startswith("saved to Export pain (1 quote): “Sure. Every quarter")
    assert "— S2 (customer), Exporting data for the quarterly board report at 00:05" in saved.stdout
    # Any case finds the collection; the name stays as first given.
    assert heard("save", second, "--to", "EXPORT PAIN").stdout.startswith("saved to Export pain (2 quotes)")

    listed = heard("collections", "--format", "json")
    assert [(c["name"], c["quotes"], c["recordings"]) for c in json.loads(listed.stdout)] == [("Export pain", 2, 1)]
    shown = json.loads(heard("collections", "show", "export pain", "--format", "json").stdout)
    assert [q["quote_id"] for q in shown["quotes"]] == [first, second]
    assert shown["quotes"][0]["note"] == "Blocks the board report" and shown["quotes"][0]["tags"] == ["export", "scale"]
    assert shown["quotes"][0]["metadata"]["company"] == "Acme Logistics" and shown["quotes"][0]["status"] == "current"
    text = heard("collections", "show", "Export pain").stdout
    assert "note: Blocks the board report" in text and "#export #scale" in text and first in text

    # Saving again keeps the words and replaces what is given.
    again = heard("save", first, "--to", "export pain", "--note", "Blocks every board report")
    assert again.stdout.startswith("updated in Export pain (2 quotes)")
    shown = json.loads(heard("collections", "show", "Export pain", "--format", "json").stdout)
    assert shown["quotes"][0]["note"] == "Blocks every board report" and shown["quotes"][0]["tags"] == ["export", "scale"]

    assert heard("collections", "rename", "export pain", "Exports").stdout.strip() == "renamed Export pain to Exports"
    assert heard("unsave", first).stdout.strip() == f"removed {first} from Exports"
    missing = heard("unsave", first)
    assert missing.exit_code == 2 and f"{first} is not saved in any collection" in missing.stderr
    assert heard("collections", "remove", "Exports").stdout.strip() == "removed Exports and its 1 saved quote"
    assert heard("collections").stdout.startswith("no collections yet")
    gone = heard("collections", "show", "Exports")
    assert gone.exit_code == 2 and "no collection is called 'Exports'" in gone.stderr


@pytest.mark.fast
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--to", "Pricing\x1b[2J"], "to: control characters are not allowed"),
        (["--to", "x" * 101], "to: 101 characters; give at most 100"),
        (["--to", "Pricing", "--note", "n" * 2001], "note: 2001 characters; give at most 2000"),
        (["--to", "Pricing", "--note", "ok\x07"], "note: control characters are not allowed"),
        (["--to", "Pricing", "--tag", "\u202eevil"], "tag: control characters are not allowed"),
        (["--to", "Pricing", *[f"--tag=t{i}" for i in range(21)]], "tag: 21 tags; give at most 20"),
        ([], "to: name the collection"),
    ],
)
def test_names_notes_and_tags_are_checked_like_every_user_set_name(tmp_path, args, said):
    made = handmade(tmp_path)
    result = run_heard(["save", made.quote_id("times out"), *args], made.data_dir)
    assert result.exit_code == 2 and said in result.stderr, result.output
    assert not collections_path(made.data_dir).exists() or not run_heard(["collections", "--format", "json"], made.data_dir).stdout.strip("[]\n")


@pytest.mark.fast
@pytest.mark.parametrize(
    ("quote_id", "said"),
    [
        ("nonsense", "'nonsense' is not a quote id"),
        ("0123456789abcdef-100-200", "no recording with the id 0123456789abcdef"),
        ("{rid}-500000-500100", "no words of “Exporting data for the quarterly board report” lie between 5000.00 s and 5001.00 s"),
    ],
)
def test_a_quote_id_that_names_nothing_is_one_line_and_exit_2(tmp_path, quote_id, said):
    made = handmade(tmp_path)
    result = run_heard(["save", quote_id.format(rid=made.recording_id), "--to", "Pricing"], made.data_dir)
    assert result.exit_code == 2 and said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.output


@pytest.mark.fast
def test_a_saved_quote_keeps_its_words_when_its_recording_is_transcribed_again_or_deleted(tmp_path):
    from pipeline import transcripts

    made = handmade(tmp_path)
    quote = made.quote_id("two full days")
    assert run_heard(["save", quote, "--to", "Export pain"], made.data_dir).exit_code == 0
    words = "I copied the rows by hand into a spreadsheet. It took me two full days, and I still made mistakes in the totals."

    # Transcribed again: other words at that time now. The saved words stay, and it says so.
    changed = made.transcript
    segment = next(s for s in changed.segments if "two full days" in s.text)
    for word in segment.words:
        word.text = " mumble"
    transcripts.save(changed, made.data_dir / "transcripts")
    shown = json.loads(run_heard(["collections", "show", "Export pain", "--format", "json"], made.data_dir).stdout)
    assert shown["quotes"][0]["text"] == words and shown["quotes"][0]["status"] == "changed"
    assert "transcribed again" in run_heard(["collections", "show", "Export pain"], made.data_dir).stdout

    # Deleted from heard: its words, speaker and title as saved.
    transcripts.delete(made.data_dir / "transcripts", made.recording_id)
    shown = json.loads(run_heard(["collections", "show", "Export pain", "--format", "json"], made.data_dir).stdout)
    assert shown["quotes"][0]["text"] == words and shown["quotes"][0]["status"] == "deleted"
    assert (shown["quotes"][0]["speaker"], shown["quotes"][0]["title"]) == ("S2", "Exporting data for the quarterly board report")
    assert "no longer in heard" in shown["quotes"][0]["status_text"]
    clip = run_heard(["clip", quote, "-o", tmp_path / "q.mp3"], made.data_dir)
    assert clip.exit_code == 2 and "no recording with the id" in clip.stderr


@pytest.mark.fast
def test_a_kill_in_the_middle_of_a_save_leaves_no_half_saved_collection(tmp_path):
    made = handmade(tmp_path)
    quote = made.quote_id("times out")
    command = [sys.executable, "-m", "cli", "--data-dir", str(made.data_dir), "save", quote, "--to", "Export pain"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HEARD_CRASH_AT": "evidence-save"}
    killed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The collection was made in the same transaction as the quote: neither is there.
    with sqlite3.connect(collections_path(made.data_dir)) as db:
        assert db.execute("SELECT COUNT(*) FROM collections").fetchone() == (0,)
    env.pop("HEARD_CRASH_AT")
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.startswith("saved to Export pain (1 quote)"), again.stderr


@pytest.mark.fast
@pytest.mark.parametrize(("suffix", "codec"), [(".mp3", "mp3"), (".m4a", "aac"), (".ogg", "opus"), (".opus", "opus"), (".wav", "pcm_s16le")])
def test_a_clip_is_written_in_the_format_its_name_says_and_holds_the_quotes_audio(tmp_path, suffix, codec):
    import av

    from pipeline.hearing.audio import decode_audio

    made = handmade(tmp_path)
    segment = next(s for s in made.transcript.segments if "two full days" in s.text)
    start, end = segment.words[0].start, segment.words[-1].end
    out = tmp_path / f"quote{suffix}"
    result = run_heard(["clip", made.quote_id("two full days"), "-o", out, "--pad", "0.5"], made.data_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: {end - start + 1:.1f} s of “Exporting data for the quarterly board report”")
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name.startswith(codec.split("_")[0])
    clip, recording = decode_audio(out), decode_audio(made.recording)
    at, correlation = locate(clip, recording, around=start - 0.5)
    assert correlation > 0.8, correlation
    assert abs(at - (start - 0.5)) < 0.1
    assert abs(len(clip) / 16_000 - (end - start + 1.0)) < 0.15


@pytest.mark.fast
def test_a_clip_to_an_unknown_format_or_an_unwritable_place_is_refused(tmp_path):
    made = handmade(tmp_path)
    quote = made.quote_id("times out")
    flac = run_heard(["clip", quote, "-o", tmp_path / "q.flac"], made.data_dir)
    assert flac.exit_code == 2 and "a clip is written as .mp3, .m4a, .ogg, .opus, .wav" in flac.stderr
    (tmp_path / "locked").mkdir(mode=0o500)
    nowhere = run_heard(["clip", quote, "-o", tmp_path / "locked" / "q.mp3"], made.data_dir)
    if os.geteuid() != 0:  # root writes anywhere
        assert nowhere.exit_code == 2 and "cannot write the clip" in nowhere.stderr
    pad = run_heard(["clip", quote, "-o", tmp_path / "q.mp3", "--pad", "11"], made.data_dir)
    assert pad.exit_code == 2 and "pad: 11 is out of range; give 0 to 10" in pad.stderr
    moved = made.recording.rename(made.recording.with_name("elsewhere.mp3"))
    gone = run_heard(["clip", quote, "-o", tmp_path / "q.mp3"], made.data_dir)
    assert gone.exit_code == 2 and f"is no longer at {moved.with_name('acme-export.mp3')}" in gone.stderr


# ---- over the examples as ingest indexed them (real Whisper words, real index) -----------------------


@pytest.fixture
def examples_copy(indexed_examples, tmp_path):
    """A copy of the indexed examples' data dir: these tests save, rename and reindex."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(indexed_examples[0], data_dir)
    return data_dir


def hits_of(heard, *args):
    result = heard("search", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_collection_is_intact_after_reindex_rechunking_a_new_recipe_and_a_speaker_rename(examples_copy, heard, tmp_path):
    data_dir = examples_copy
    customer = hits_of(lambda *a: heard(list(a), data_dir), "exporting data times out", "--role", "customer", "-k", "2")
    for hit in customer:
        assert heard(["save", hit["quote_id"], "--to", "Export pain", "--note", f"about {hit['title']}"], data_dir).exit_code == 0
    before = json.loads(heard(["collections", "show", "Export pain", "--format", "json"], data_dir).stdout)["quotes"]
    assert [q["text"] for q in before] == [h["text"] for h in customer]
    assert [(q["start"], q["end"]) for q in before] == [(h["start"], h["end"]) for h in customer]

    # The customer's voice is named once; saved quotes show the name it has now.
    voices = json.loads(heard(["speakers", "--format", "json"], data_dir).stdout)
    acme = customer[0]["recording_id"]
    voice = next(v["id"] for v in voices if any(h["recording_id"] == acme and h["label"] == "S2" for h in v["heard"]))
    assert heard(["speakers", "name", voice, "Joe Rivera", "--role", "customer"], data_dir).exit_code == 0

    # Another chunking and another embedding recipe: the index is rebuilt, chunk ids change.
    other = tmp_path / "other.yaml"
    other.write_text(
        "transcribe:\n  model: tiny.en\nembedding:\n  model: all-MiniLM-L6-v2\n  question: vector\nchunking:\n  max_words: 15\n"
    )
    rebuilt = run_heard(["reindex"], data_dir, other)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert run_heard(["search", "exporting data", "--format", "json"], data_dir, other).exit_code == 0

    after = json.loads(run_heard(["collections", "show", "Export pain", "--format", "json"], data_dir, other).stdout)["quotes"]
    assert [q["quote_id"] for q in after] == [q["quote_id"] for q in before]
    assert [(q["text"], q["note"], q["status"]) for q in after] == [(q["text"], q["note"], "current") for q in before]
    assert {q["speaker"] for q in after if q["recording_id"] == acme} == {"Joe Rivera"}
    clip = run_heard(["clip", after[0]["quote_id"], "-o", tmp_path / "q.m4a"], data_dir, other)
    assert clip.exit_code == 0, clip.output


def test_a_clip_starts_and_ends_within_0_3_s_of_the_quotes_words(indexed_examples, heard, tmp_path):
    from pipeline import transcripts
    from pipeline.config import load_settings
    from pipeline.hearing.audio import decode_audio

    data_dir = indexed_examples[0]
    for hit in hits_of(lambda *a: heard(list(a), data_dir), "what do customers say about pricing", "-k", "3"):
        out = tmp_path / f"{hit['quote_id']}.mp3"
        assert heard(["clip", hit["quote_id"], "-o", out], data_dir).exit_code == 0
        # The quote's words, from the transcript Whisper wrote.
        transcript = transcripts.load_if_exists(load_settings(None, data_dir, environ={}).transcripts_dir, hit["recording_id"])
        words = [w for s in transcript.segments for w in s.words if hit["start"] - 0.005 <= w.start and w.end <= hit["end"] + 0.005]
        assert words and hit["text"].startswith(words[0].text.strip())
        clip, recording = decode_audio(out), decode_audio(hit["recording"])
        at, correlation = locate(clip, recording, around=words[0].start)
        assert correlation > 0.8, (hit["quote_id"], correlation)
        ends = at + len(clip) / 16_000
        assert words[0].start - 0.3 <= at <= words[0].start, (at, words[0].start)
        assert words[-1].end <= ends <= words[-1].end + 0.3, (ends, words[-1].end)


def test_a_recording_without_audio_says_why_there_is_no_clip(tmp_path, heard):
    folder, data_dir = tmp_path / "notes", tmp_path / "data"
    folder.mkdir()
    cue = "WEBVTT\n\n00:00:01.000 --> 00:00:06.000\n<v Dana>Our invoices never match the seats we actually use.\n"
    (folder / "standup.vtt").write_text(cue)
    (folder / "episode.vtt").write_text(cue.replace("Dana", "Sam"))  # other content: another recording
    (folder / "episode.yaml").write_text("title: Pricing talk\nkind: podcast\nshow: Builders\n")
    assert heard(["ingest", folder], data_dir).exit_code == 0
    hits = {h["title"]: h for h in hits_of(lambda *a: heard(list(a), data_dir), "invoices and seats", "-k", "5")}
    imported = heard(["clip", hits["Standup"]["quote_id"], "-o", tmp_path / "a.mp3"], data_dir)
    assert imported.exit_code == 2 and not (tmp_path / "a.mp3").exists()
    assert "“Standup” is an imported transcript (standup.vtt) with no audio beside it" in imported.stderr
    episode = heard(["clip", hits["Pricing talk"]["quote_id"], "-o", tmp_path / "b.mp3"], data_dir)
    assert episode.exit_code == 2 and "“Pricing talk” is a podcast episode heard has only as its publisher's transcript" in episode.stderr
    assert len(episode.stderr.strip().splitlines()) == 1
