"""One speech detector: what listening again where the speaker model hears speech and Whisper wrote
nothing (pipeline/hearing/speech.py) recovers, and what it invents.

    python scripts/bench_speech.py [--json results.json]

Whisper tiny.en (the default settings: beam 5, Silero VAD, word timestamps), one thread, on real
speech fetched from PyPI packages at run time (never committed):
- AMI meeting excerpts (pyannote.audio 4.0.7 sdist, RTTM, no words): words whose middle lies in
  reference speech (recovered) and outside it by more than 0.5 s (invented), and recordings with no
  word at all (they fail "no speech found" without the speaker model). DEV trn00-trn09, HELD-BACK
  dev00, dev01, tst00, tst01 (scripts/real_speakers.py's split).
- Read and spoken clips with reference text (scripts/bench_transcription.py's clips: JFK, LibriVox,
  the phone call (DEV); pocketsphinx's cards (HELD-BACK)): WER before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.hearing import speech  # noqa: E402
from pipeline.hearing.speakers.diarize import shared_models  # noqa: E402
from pipeline.threads import torch_threads  # noqa: E402

SR = 16000


def heard(transcriber, samples):
    """(Whisper's segments, the reconciled segments, seconds listened to again)."""
    segments, _ = transcriber.transcribe(samples)
    with torch_threads(1):
        windows = list(shared_models().segmenter.windows(samples))
    both, again = speech.reconcile(list(segments), samples, windows, transcriber)
    return segments, both, again


def in_speech(segments, reference, margin=0.5):
    inside = outside = 0
    for word in (w for s in segments for w in s.words):
        middle = (word.start + word.end) / 2
        if any(a <= middle <= b for a, b, _ in reference):
            inside += 1
        elif all(middle < a - margin or middle > b + margin for a, b, _ in reference):
            outside += 1
    return inside, outside


def main():
    import bench_transcription
    import jiwer
    import real_speakers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    transcriber = bench_transcription.transcriber_for({})  # the default settings, one thread
    rows = []
    for clip in real_speakers.clips(ROOT / "build" / "speaker-data"):
        if clip.name == "call":
            continue
        before, after, again = heard(transcriber, clip.samples)
        b_in, b_out = in_speech(before, clip.reference)
        a_in, a_out = in_speech(after, clip.reference)
        rows.append({"name": clip.name, "part": clip.part, "kind": "ami", "again_s": again, "before_in": b_in,
                     "before_out": b_out, "after_in": a_in, "after_out": a_out,
                     "speech_s": sum(b - a for a, b, _ in clip.reference)})
        print(f"{clip.name}: words in speech {b_in} -> {a_in}, outside {b_out} -> {a_out} ({again:.1f} s again)", file=sys.stderr)
    normal = bench_transcription.normalizer()
    for clip in bench_transcription.clips():
        before, after, again = heard(transcriber, clip.samples)
        ref = normal(clip.text)
        text = {k: normal(" ".join(s.text for s in v)) for k, v in (("before", before), ("after", after))}
        rows.append({"name": clip.name, "part": clip.part, "kind": "text", "again_s": again, "ref": ref, **text})
        print(f"{clip.name}: {again:.1f} s again", file=sys.stderr)
    print("| part | AMI clips | speech | clips with no word (fail \"no speech\") before / after | words in reference speech before / after | "
          "words outside speech (> 0.5 s) before / after | seconds listened to again |")
    print("|---|---|---|---|---|---|---|")
    for part in ("DEV", "HELD-BACK"):
        g = [r for r in rows if r["part"] == part and r["kind"] == "ami"]
        print(f"| {part} | {len(g)} | {sum(r['speech_s'] for r in g):.0f} s | {sum(r['before_in'] + r['before_out'] == 0 for r in g)} / "
              f"{sum(r['after_in'] + r['after_out'] == 0 for r in g)} | {sum(r['before_in'] for r in g)} / {sum(r['after_in'] for r in g)} | "
              f"{sum(r['before_out'] for r in g)} / {sum(r['after_out'] for r in g)} | {sum(r['again_s'] for r in g):.1f} |")
    print("\n| part | clips with reference text | WER before | WER after | seconds listened to again |")
    print("|---|---|---|---|---|")
    for part in ("DEV", "HELD-BACK"):
        g = [r for r in rows if r["part"] == part and r["kind"] == "text"]
        if g:
            refs = [r["ref"] for r in g]
            print(f"| {part} | {len(g)} | {jiwer.wer(refs, [r['before'] or '-' for r in g]):.3f} | "
                  f"{jiwer.wer(refs, [r['after'] or '-' for r in g]):.3f} | {sum(r['again_s'] for r in g):.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
