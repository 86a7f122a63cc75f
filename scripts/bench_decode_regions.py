"""One speech detector, issue 24: Whisper decoding only the speaker model's speech regions
(`decoding_regions` below) against its own Silero VAD, on real speech and on sound with nobody in it.
Measured 2026-12-06 and not kept in the pipeline (docs/benchmarks.md, "Whisper decoding only the
speaker model's regions"): this script carries the whole method, so it can be measured again.

    python scripts/bench_decode_regions.py [--part DEV|HELD-BACK] [--settings silero,0.5:0.4,0.3:0.4] [--rounds 2]
                                           [--long] [--json out.json]

Whisper tiny.en with the default settings (beam 5, word timestamps), one thread, the path `heard
ingest` takes (transcribe.hear with the segmentation windows computed once beforehand): Silero VAD
(main's way; the speaker model's speech only where Whisper wrote nothing), against each setting
`threshold:pad` of the regions (frames where anyone speaks with at least `threshold` probability,
`pad` seconds either side, gaps under 2 s joined).
- Real clips with reference turns (scripts/real_speakers.py): words whose middle lies in reference
  speech and outside it by more than 0.5 s (scored as scripts/bench_speech.py does). DEV trn00-trn09
  and the phone call; HELD-BACK dev00, dev01, tst00, tst01.
- Nobody speaking (scripts/bench_no_speech.py's sounds: DEV's set or HELD-BACK's): words written.
- make bench's six short files (scripts/bench_ingest.py; only with --part DEV): words per file and
  their text's similarity to Silero's (difflib ratio over words), and Whisper's CPU seconds over the
  six (rounds interleaved, median; the segmentation is not counted: ingest runs it anyway).
- --long: the 5-minute 2-person interview of the part (scripts/long_conversations.py), words
  inside / outside its reference speech.
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench_speech import in_speech  # noqa: E402

from pipeline.hearing import audio, speech, transcribe  # noqa: E402
from pipeline.hearing.speakers.diarize import shared_models, speech_windows  # noqa: E402
from pipeline.hearing.speakers.segmentation import Window  # noqa: E402

SR = 16000
JOIN_SECONDS = 2.0  # Silero's min_silence_duration_ms in faster-whisper: shorter gaps do not split
WHISPER_IN_WINDOWS = transcribe.transcribe_in_windows
REGIONS = {}


def decoding_regions(samples, *, threshold, pad, join=JOIN_SECONDS):
    """(start, end) seconds where segmentation-3.0 gives anyone at least `threshold` probability of
    speaking, `pad` seconds either side, gaps under `join` closed (the network is run again here for
    its probabilities; `heard ingest` would take them from the windows it computes anyway)."""
    seconds = len(samples) / SR
    heard = (Window(start, (p >= threshold)[:, None]) for start, p in shared_models().segmenter.speech_probability(samples))
    out = []
    for a, b in speech.speech_regions(heard):
        a, b = max(a - pad, 0.0), min(b + pad, seconds)
        if out and a <= out[-1][1] + join:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def whisper_in_regions(transcriber, samples, regions):
    """Whisper on just `regions`, joined into one stream and the times mapped back, exactly as
    faster-whisper does with its own VAD's chunks (collect_chunks, restore_speech_timestamps)."""
    from faster_whisper.transcribe import restore_speech_timestamps
    from faster_whisper.vad import collect_chunks

    chunks = [{"start": int(a * SR), "end": int(b * SR)} for a, b in regions if b > a]
    if not chunks:
        return [], "en"
    model, settings = transcriber._load(), transcriber.settings
    pieces, info = model.transcribe(np.concatenate(collect_chunks(samples, chunks)[0]), beam_size=settings.beam_size,
                                    language=settings.language, vad_filter=False, word_timestamps=True)
    return [transcribe._segment(p.start, p.end, p.text, [(w.start, w.end, w.word, w.probability) for w in p.words or []])
            for p in restore_speech_timestamps(pieces, chunks, SR)], info.language


def heard(transcriber, samples, windows, setting):
    """Segments with words, as `heard ingest` hears them (transcribe.hear: the speaker model's speech
    where Whisper wrote nothing, then the last resort), Whisper's first pass either with Silero
    (setting None, main) or on the regions of `setting` (threshold, pad)."""
    if setting is None:
        transcribe.transcribe_in_windows = WHISPER_IN_WINDOWS
    else:
        key = (id(samples), setting)
        if key not in REGIONS:  # computed once per recording and setting: not in the CPU timed
            REGIONS[key] = decoding_regions(samples, threshold=setting[0], pad=setting[1])
        regions = REGIONS[key]
        transcribe.transcribe_in_windows = lambda t, s, on_progress=None: whisper_in_regions(t, s, regions)
    segments, _ = transcribe.hear(transcriber, samples, speech=lambda _: windows)
    return [s for s in segments if s.text]


def words(segments):
    return [w.text.strip().lower().strip(".,?!") for s in segments for w in s.words]


def main():
    import bench_no_speech
    import bench_transcription
    import real_speakers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="DEV")
    parser.add_argument("--settings", default="silero,0.5:0.4,0.3:0.4,0.2:0.4,0.1:0.4")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--long", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    # "silero" may be named again: Whisper's own run-to-run spread (its temperature fallback samples).
    tokens = ["silero"] + args.settings.split(",")
    settings = [None if t == "silero" else tuple(float(x) for x in t.split(":")) for t in tokens]
    names = [t if t not in tokens[:i] else f"{t}#{tokens[:i].count(t) + 1}" for i, t in enumerate(tokens)]
    transcriber = bench_transcription.transcriber_for({})  # the default settings, one thread
    rows = []
    every = real_speakers.clips(ROOT / "build" / "speaker-data")
    for clip in (c for c in every if c.part == args.part):
        windows = speech_windows(clip.samples)
        row = {"name": clip.name, "kind": "speech"}
        for name, setting in zip(names, settings):
            row[name] = in_speech(heard(transcriber, clip.samples, windows, setting), clip.reference)
        rows.append(row)
        print(clip.name, {n: row[n] for n in names}, file=sys.stderr, flush=True)
    call = next(c for c in every if c.name == "call")
    trn02 = next(c for c in real_speakers.clips(ROOT / "build" / "speaker-data", ["trn02"]))
    sounds = bench_no_speech.fetch_sounds(ROOT / "build" / "nobody-sounds")
    quiet = (bench_no_speech.nobody(sounds, trn02.samples[: int(20.2 * SR)]) if args.part == "DEV"
             else bench_no_speech.nobody_held_back(sounds, call.samples[: 6 * SR]))
    for sound, samples in quiet.items():
        windows = speech_windows(samples)
        row = {"name": sound, "kind": "nobody"}
        for name, setting in zip(names, settings):
            row[name] = " ".join(words(heard(transcriber, samples, windows, setting)))
        rows.append(row)
        print(sound, {n: row[n] for n in names}, file=sys.stderr, flush=True)
    if args.long:
        rows += long_rows(transcriber, args.part, names, settings)
    if args.part == "DEV":
        rows += six_files(transcriber, names, settings, args.rounds)
    report(rows, names)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def long_rows(transcriber, part, names, settings):
    import long_conversations

    units = long_conversations.units_by_person(ROOT / "build" / "speaker-data")
    out = []
    for conversation in long_conversations.conversations(units, part, 5, interviews=1, meetings=0):
        samples = conversation.samples
        windows = speech_windows(samples)
        reference = [(a, b, who) for a, b, who in conversation.reference]
        row = {"name": conversation.name, "kind": "speech"}
        for name, setting in zip(names, settings):
            row[name] = in_speech(heard(transcriber, samples, windows, setting), reference)
        out.append(row)
        print(conversation.name, {n: row[n] for n in names}, file=sys.stderr, flush=True)
    return out


def six_files(transcriber, names, settings, rounds):
    import bench_ingest

    corpus, _ = bench_ingest.prepare_corpus()  # make bench runs this script before bench_ingest.py builds it
    files = sorted(corpus.glob("*.wav"))
    decoded = [audio.decode_audio(f) for f in files]
    windows = [speech_windows(s) for s in decoded]
    cpu = {n: [] for n in names}
    for samples in decoded:  # the regions before any timing (ingest has the network's output already)
        for setting in settings:
            if setting is not None:
                REGIONS[(id(samples), setting)] = decoding_regions(samples, threshold=setting[0], pad=setting[1])
    text = {}
    for _ in range(rounds):
        for name, setting in zip(names, settings):
            start = time.process_time()
            text[name] = [words(heard(transcriber, s, w, setting)) for s, w in zip(decoded, windows)]
            cpu[name].append(time.process_time() - start)
    out = []
    for i, f in enumerate(files):
        row = {"name": f.name, "kind": "six"}
        for name in names:
            row[name] = [len(text[name][i]), round(difflib.SequenceMatcher(None, text["silero"][i], text[name][i]).ratio(), 3)]
        out.append(row)
    out.append({"name": "cpu", "kind": "cpu", **{n: [round(statistics.median(v), 2), [round(x, 2) for x in v]] for n, v in cpu.items()}})
    return out


def report(rows, names):
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    speech_rows = [r for r in rows if r["kind"] == "speech"]
    for r in speech_rows:
        print(f"| {r['name']} in / out | " + " | ".join(f"{r[n][0]} / {r[n][1]}" for n in names) + " |")
    print("| **all, in / out** | " + " | ".join(f"{sum(r[n][0] for r in speech_rows)} / {sum(r[n][1] for r in speech_rows)}" for n in names) + " |")
    quiet = [r for r in rows if r["kind"] == "nobody"]
    print("| nobody speaking: recordings with words / words | " + " | ".join(
        f"{sum(bool(r[n]) for r in quiet)} / {sum(len(r[n].split()) for r in quiet)}" for n in names) + " |")
    for r in rows:
        if r["kind"] == "six":
            print(f"| {r['name']} words, similarity | " + " | ".join(f"{r[n][0]}, {r[n][1]:.2f}" for n in names) + " |")
        if r["kind"] == "cpu":
            print("| Whisper CPU s, six files (median) | " + " | ".join(f"{r[n][0]:.1f}" for n in names) + " |")


if __name__ == "__main__":
    main()
