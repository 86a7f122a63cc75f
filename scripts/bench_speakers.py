"""Benchmark speakers: DER and wrong-role rate on generated interviews, DER on a real phone call.

    python scripts/bench_speakers.py [--per-length 3] [--json results.json]

(a) Two-voice interviews synthesized offline (hibari "heart" and piper joe, as scripts/make_examples.py
    does) at several turn lengths, half of them with the voices swapped between the roles. Exact truth
    comes from the synthesis. DER with a 0.25 s collar (pipeline/hearing/speakers/der.py); wrong-role rate = share of
    transcribed words whose speaker got a role other than the true speaker's.
(b) The real two-speaker phone call shipped in the pyannote-audio 4.0.7 wheel (sample.wav + sample.rttm),
    fetched with `pip download` into a temporary folder at run time and never committed.

Also times transcription (Whisper tiny.en, the default) against diarization on the same audio.
Needs the "tts" extra (piper-tts is GPL-3.0: a dev/bench dependency only) and PyPI for (b).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.config import Settings  # noqa: E402
from pipeline.hearing.speakers.assign import assign  # noqa: E402
from pipeline.hearing.speakers.der import diarization_error_rate, read_rttm  # noqa: E402
from pipeline.hearing.speakers.diarize import diarize  # noqa: E402
from pipeline.hearing.speakers.encoder import shared_encoder  # noqa: E402
from pipeline.indexing.roles import people  # noqa: E402
from pipeline.transcripts import Transcript  # noqa: E402

SR = 16000
QUESTIONS = [
    "How do you export data today?", "What happens when the export fails?", "Who sets up new accounts?",
    "How long did onboarding take?", "What do you pay per seat?", "Which report do you open first?",
    "Why did you stop using search?", "How often does that happen?", "What would you change first?",
    "Who else on your team uses it?", "What did you try instead?", "How did your manager react?",
    "Is the price fair for what you get?", "What made you look at other tools?", "Can you show me how?",
]
OPENERS = ["I see.", "Interesting.", "Thanks, that helps.", "Got it.", "That makes sense."]
ANSWERS = [
    "Every quarter I pull the numbers for the board.", "The export times out on our largest workspace.",
    "I end up copying rows into a spreadsheet by hand.", "It took almost three weeks to get everyone in.",
    "Single sign on was the hardest part by far.", "Half of our seats belong to people who log in once a month.",
    "We would happily pay for what we actually use.", "Search is slow, so I scroll through old projects instead.",
    "Our finance lead asked me twice why the bill went up.", "The invitations landed in spam for most of the team.",
    "I would schedule the export overnight and get an email.", "We tried a competitor last spring but came back.",
    "The dashboard loads fine but the filters reset every time.", "Honestly it saves us a day every week.",
    "My manager wanted a cheaper plan for the light users.", "Support answered quickly, which we liked.",
]
# name -> (sentences per customer turn, interviewer openers on, gap range in seconds)
TURN_LENGTHS = {
    "short: one-sentence answers": (1, False, (0.5, 0.8)),
    "short, quick replies (0.15-0.3 s gaps)": (1, False, (0.15, 0.3)),
    "medium: two-sentence answers": (2, True, (0.5, 0.8)),
    "long: four-sentence answers": (4, True, (0.5, 0.8)),
}


def script(rng, sentences, openers, turns=10):
    lines = []
    for i in range(turns // 2):
        question = rng.choice(QUESTIONS)
        lines.append(("interviewer", (rng.choice(OPENERS) + " " if openers and i else "") + question))
        lines.append(("customer", " ".join(rng.choice(ANSWERS, size=sentences, replace=False))))
    return lines


def synthesize(voices, lines, swap, gap, seed):
    import make_examples

    voice_of = {"interviewer": "customer", "customer": "interviewer"} if swap else {"interviewer": "interviewer", "customer": "customer"}
    audio = [voices.speak(voice_of[who], text) for who, text in lines]
    make_examples.GAP_S = gap
    mix, spans = make_examples.assemble(audio, seed)
    return mix, [(a / SR, b / SR, who) for (a, b), (who, _) in zip(spans, lines)]


def transcribe(transcriber, samples):
    segments, language = transcriber.transcribe(samples)
    return Transcript("bench", "", "bench", "bench", len(samples) / SR, language, transcriber.describe(), segments)


def wrong_role_rate(transcript, truth):
    roles = people(transcript, {"kind": "interview"})
    wrong = total = 0
    for segment in transcript.segments:
        for word in segment.words:
            middle = (word.start + word.end) / 2
            true = min(truth, key=lambda t: 0 if t[0] <= middle <= t[1] else min(abs(t[0] - middle), abs(t[1] - middle)))[2]
            total += 1
            wrong += roles[segment.speaker].role != true
    return wrong, total


def run_one(transcriber, samples, reference, with_roles=True):
    started = time.perf_counter()
    turns = diarize(samples)
    diarize_s = time.perf_counter() - started
    result = diarization_error_rate(reference, [(t.start, t.end, t.speaker) for t in turns], collar=0.25)
    row = {"seconds": len(samples) / SR, "der": result.der, "missed": result.missed, "false_alarm": result.false_alarm,
           "confusion": result.confusion, "scored": result.total, "speakers": len({t.speaker for t in turns}), "diarize_s": diarize_s}
    started = time.perf_counter()
    transcript = transcribe(transcriber, samples)
    row["transcribe_s"] = time.perf_counter() - started
    if with_roles:
        assign(transcript, turns)
        row["wrong_words"], row["words"] = wrong_role_rate(transcript, reference)
    return row


def pooled_der(rows):
    """Errors over scored speech of all recordings together (as md-eval reports a corpus)."""
    return sum(r["missed"] + r["false_alarm"] + r["confusion"] for r in rows) / sum(r["scored"] for r in rows)


def pyannote_sample(folder: Path):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "pyannote-audio==4.0.7", "-d", str(folder)], check=True)
    wheel = next(folder.glob("pyannote_audio-4.0.7-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        wav = archive.read("pyannote/audio/sample/sample.wav")
        rttm = archive.read("pyannote/audio/sample/sample.rttm").decode()
    (folder / "sample.wav").write_bytes(wav)
    from pipeline.hearing.audio import decode_audio

    return decode_audio(folder / "sample.wav"), read_rttm(rttm)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-length", type=int, default=4, help="interviews per turn length (half with voices swapped)")
    parser.add_argument("--json", help="also write every row to this file")
    args = parser.parse_args()

    import make_examples

    from pipeline.hearing.transcribe import make_transcriber

    settings = Settings()
    transcriber = make_transcriber(settings.transcribe)
    shared_encoder()  # load once, outside the timings, as ingest does
    transcribe(transcriber, np.zeros(SR, dtype=np.float32))
    voices = make_examples.Voices()
    rows = []
    for index, (name, (sentences, openers, gap)) in enumerate(TURN_LENGTHS.items()):
        for n in range(args.per_length):
            rng = np.random.default_rng(1000 * index + n)
            lines = script(rng, sentences, openers)
            samples, reference = synthesize(voices, lines, swap=bool(n % 2), gap=gap, seed=1000 * index + n)
            row = run_one(transcriber, samples, reference)
            row.update(set=name, swapped=bool(n % 2), mean_turn_s=float(np.mean([b - a for a, b, _ in reference])))
            rows.append(row)
            print(f"{name} #{n}: DER {row['der']:.2%}, wrong roles {row['wrong_words']}/{row['words']}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as folder:
        samples, reference = pyannote_sample(Path(folder))
    call = run_one(transcriber, samples, reference, with_roles=False)
    call.update(set="pyannote sample call (real, 2 speakers)")
    rows.append(call)

    print("| audio | recordings | mean turn | DER (0.25 s collar) | missed / false alarm / confusion | wrong-role words | diarization / transcription time |")
    print("|---|---|---|---|---|---|---|")
    for name in list(TURN_LENGTHS) + [call["set"]]:
        group = [r for r in rows if r["set"] == name]
        der = pooled_der(group)
        words = sum(r.get("words", 0) for r in group)
        wrong = sum(r.get("wrong_words", 0) for r in group)
        roles = f"{wrong}/{words} = {wrong / words:.1%}" if words else "n/a"
        mean_turn = np.mean([r["mean_turn_s"] for r in group]) if "mean_turn_s" in group[0] else None
        print(f"| {name} | {len(group)} ({sum(r['seconds'] for r in group):.0f} s) | "
              f"{f'{mean_turn:.1f} s' if mean_turn else 'see rttm'} | {der:.1%} (worst {max(r['der'] for r in group):.1%}) | "
              f"{sum(r['missed'] for r in group):.1f} / {sum(r['false_alarm'] for r in group):.1f} / {sum(r['confusion'] for r in group):.1f} s | "
              f"{roles} | {sum(r['diarize_s'] for r in group):.1f} s / {sum(r['transcribe_s'] for r in group):.1f} s |")
    generated = [r for r in rows if "words" in r]
    print(f"\nAll generated: DER {pooled_der(generated):.2%}, wrong roles {sum(r['wrong_words'] for r in generated)}/{sum(r['words'] for r in generated)} words; "
          f"diarization took {sum(r['diarize_s'] for r in rows) / sum(r['transcribe_s'] for r in rows):.0%} of transcription time")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
