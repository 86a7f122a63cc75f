"""Benchmark speakers: DER on real recordings (dev and held-back), and on generated interviews.

    python scripts/bench_speakers.py [--per-length 4] [--real-only] [--long-only] [--lengths 5 15 30 60] [--json results.json]

(a) Real recordings with references (scripts/real_speakers.py): 14 AMI meeting excerpts and a phone
    call from the pyannote.audio 4.0.7 packages, fetched with `pip download` into build/speaker-data/
    at run time and never committed. DEV (tuned on): trn00-trn09 and the call; HELD-BACK (never tuned
    on): dev00, dev01, tst00, tst01. Per part: DER with a 0.25 s collar each side (der.py; the same
    figures as pyannote.metrics with collar=0.5), missed speech, speaker count within +-1 on the
    multi-speaker clips, DER with the true count forced and whether it was honoured, and
    diarization's CPU time as a share of Whisper's (tiny.en, beam 5, VAD, word timestamps, the same
    thread count) on the same audio.
(c) Long conversations (5-60 min) built from the same packages' real speech with realistic
    turn-taking (scripts/long_conversations.py; DEV and HELD-BACK people), by length: DER, count,
    missed speech, wrong-role words on the 2-person interviews (scripts/long_speakers.py).
(b) Two-voice interviews synthesized offline (hibari "heart" and piper joe, as scripts/make_examples.py
    does) at several turn lengths, half with the voices swapped between the roles: regression tests,
    not a measure (any encoder separates a female and a male synthetic voice). Wrong-role rate =
    share of transcribed words whose speaker got a role other than the true speaker's.
Needs the "tts" extra for (b) (piper-tts is GPL-3.0: a dev/bench dependency only) and PyPI for (a).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.config import Settings  # noqa: E402
from pipeline.hearing.speakers.assign import assign  # noqa: E402
from pipeline.hearing.speakers.der import diarization_error_rate  # noqa: E402
from pipeline.hearing.speakers.diarize import diarize, shared_models  # noqa: E402
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


def cpu_seconds(function, *args, **kwargs):
    started = time.process_time()
    out = function(*args, **kwargs)
    return out, time.process_time() - started


def run_one(transcriber, samples, reference, threads, with_roles=True):
    result, diarize_s = cpu_seconds(diarize, samples, threads=threads)
    scored = diarization_error_rate(reference, [(t.start, t.end, t.speaker) for t in result.turns], collar=0.25)
    row = {"seconds": len(samples) / SR, "der": scored.der, "missed": scored.missed, "false_alarm": scored.false_alarm,
           "confusion": scored.confusion, "scored": scored.total, "speakers": len(result.voices), "diarize_s": diarize_s}
    transcript, row["transcribe_s"] = cpu_seconds(transcribe, transcriber, samples)
    if with_roles:
        assign(transcript, result.turns)
        row["wrong_words"], row["words"] = wrong_role_rate(transcript, reference)
    return row


def pooled_der(rows):
    """Errors over scored speech of all recordings together (as md-eval reports a corpus)."""
    return sum(r["missed"] + r["false_alarm"] + r["confusion"] for r in rows) / sum(r["scored"] for r in rows)


def real_rows(transcriber, threads):
    import real_speakers

    rows = []
    for clip in real_speakers.clips(ROOT / "build" / "speaker-data"):
        row = run_one(transcriber, clip.samples, clip.reference, threads, with_roles=False)
        forced = diarize(clip.samples, num_speakers=clip.speakers, threads=threads)
        scored = diarization_error_rate(clip.reference, [(t.start, t.end, t.speaker) for t in forced.turns], collar=0.25)
        row.update(set=clip.part, name=clip.name, true_speakers=clip.speakers, forced_errors=scored.der * scored.total,
                   forced_found=len(forced.voices))
        rows.append(row)
        print(f"{clip.part} {clip.name}: {clip.speakers} speakers, found {row['speakers']}, DER {row['der']:.2f}", file=sys.stderr)
    return rows


def print_real(rows):
    print("| part | clips (speech) | DER | missed / false alarm / confusion | count within +-1 (multi-speaker) | "
          "DER, true count forced | forced count honoured | diarization CPU / Whisper CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for part in ("DEV", "HELD-BACK"):
        group = [r for r in rows if r["set"] == part]
        scored = sum(r["scored"] for r in group)
        multi = [r for r in group if r["true_speakers"] > 1]
        print(f"| {part} | {len(group)} ({scored:.0f} s) | {pooled_der(group):.3f} | "
              f"{sum(r['missed'] for r in group) / scored:.3f} / {sum(r['false_alarm'] for r in group) / scored:.3f} / "
              f"{sum(r['confusion'] for r in group) / scored:.3f} | {sum(abs(r['speakers'] - r['true_speakers']) <= 1 for r in multi)}/{len(multi)} | "
              f"{sum(r['forced_errors'] for r in group) / scored:.3f} | {sum(r['forced_found'] == r['true_speakers'] for r in group)}/{len(group)} | "
              f"{sum(r['diarize_s'] for r in group) / sum(r['transcribe_s'] for r in group):.0%} |")
    print("\nPer clip: " + ", ".join(f"{r['name']} {r['true_speakers']}->{r['speakers']} {r['der']:.2f}" for r in rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-length", type=int, default=4, help="generated interviews per turn length (half with voices swapped)")
    parser.add_argument("--real-only", action="store_true", help="only the real recordings (no tts extra needed)")
    parser.add_argument("--threads", type=int, default=1, help="threads for Whisper and for the speaker models alike")
    parser.add_argument("--json", help="also write every row to this file")
    parser.add_argument("--long-only", action="store_true", help="only the long conversations (c)")
    parser.add_argument("--no-long", action="store_true", help="skip the long conversations (c)")
    parser.add_argument("--lengths", type=float, nargs="+", default=[5, 15, 30, 60], help="long conversations' lengths, minutes")
    parser.add_argument("--parts", nargs="+", default=["DEV", "HELD-BACK"], help="long conversations' parts")
    parser.add_argument("--interviews", type=int, default=2, help="2-person interviews per length and part (the first 2 are always the same ones; the meeting is drawn after them)")
    args = parser.parse_args()
    if args.long_only:
        return long_section(args)

    from pipeline.hearing.transcribe import make_transcriber

    settings = Settings()
    settings.transcribe.threads = args.threads
    transcriber = make_transcriber(settings.transcribe)
    shared_models()  # load once, outside the timings, as ingest does
    transcribe(transcriber, np.zeros(SR, dtype=np.float32))
    rows = real_rows(transcriber, args.threads)
    print("Real recordings (DEV tuned on, HELD-BACK never; `python scripts/bench_speakers.py --real-only --no-long`):")
    print_real(rows)
    if not args.real_only:
        rows += generated_rows(transcriber, args.threads, args.per_length)
    if not args.no_long:
        rows += long_section(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def long_section(args):
    import long_speakers

    found = long_speakers.rows(args.lengths, args.parts, args.threads, args.interviews)
    command = "python scripts/bench_speakers.py --long-only --parts " + " ".join(args.parts) + " --lengths " + " ".join(f"{x:g}" for x in args.lengths)
    if args.interviews != 2:
        command += f" --interviews {args.interviews}"
    long_speakers.print_table(found, command)
    stereo = long_speakers.stereo_rows(args.parts, 5, args.threads)
    long_speakers.print_stereo(stereo, command + " (the 5 min interviews as calls)")
    found += stereo
    if args.long_only and args.json:
        Path(args.json).write_text(json.dumps(found, indent=1))
    return found


def generated_rows(transcriber, threads, per_length):
    import make_examples

    voices = make_examples.Voices()
    rows = []
    for index, (name, (sentences, openers, gap)) in enumerate(TURN_LENGTHS.items()):
        for n in range(per_length):
            rng = np.random.default_rng(1000 * index + n)
            lines = script(rng, sentences, openers)
            samples, reference = synthesize(voices, lines, swap=bool(n % 2), gap=gap, seed=1000 * index + n)
            row = run_one(transcriber, samples, reference, threads)
            row.update(set=name, swapped=bool(n % 2), mean_turn_s=float(np.mean([b - a for a, b, _ in reference])))
            rows.append(row)
            print(f"{name} #{n}: DER {row['der']:.2%}, wrong roles {row['wrong_words']}/{row['words']}", file=sys.stderr)
    print("\nGenerated two-voice interviews (regression tests, not a measure):")
    print("| audio | recordings | mean turn | DER (0.25 s collar) | missed / false alarm / confusion | wrong-role words | diarization / transcription CPU |")
    print("|---|---|---|---|---|---|---|")
    for name in TURN_LENGTHS:
        group = [r for r in rows if r["set"] == name]
        words = sum(r["words"] for r in group)
        wrong = sum(r["wrong_words"] for r in group)
        print(f"| {name} | {len(group)} ({sum(r['seconds'] for r in group):.0f} s) | {np.mean([r['mean_turn_s'] for r in group]):.1f} s | "
              f"{pooled_der(group):.1%} (worst {max(r['der'] for r in group):.1%}) | "
              f"{sum(r['missed'] for r in group):.1f} / {sum(r['false_alarm'] for r in group):.1f} / {sum(r['confusion'] for r in group):.1f} s | "
              f"{wrong}/{words} = {wrong / words:.1%} | {sum(r['diarize_s'] for r in group):.1f} s / {sum(r['transcribe_s'] for r in group):.1f} s |")
    print(f"\nAll generated: DER {pooled_der(rows):.2%}, wrong roles {sum(r['wrong_words'] for r in rows)}/{sum(r['words'] for r in rows)} words; "
          f"diarization CPU {sum(r['diarize_s'] for r in rows) / sum(r['transcribe_s'] for r in rows):.0%} of transcription CPU")
    return rows


if __name__ == "__main__":
    main()
