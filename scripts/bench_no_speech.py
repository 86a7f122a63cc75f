"""No speech found: which recordings fail "no speech" where a person can be heard, and which get words
where nobody speaks, before and after the last resort (pipeline/hearing/speech.py: last_resort).

    python scripts/bench_no_speech.py [--json results.json]

Whisper tiny.en with the default settings (beam 5, Silero VAD, word timestamps), one thread, the
path `heard ingest` takes (transcribe.transcribe_recording): Whisper, then the speaker model's
speech where Whisper wrote nothing (speech.reconcile), then the last resort.

- Speech: the 14 real AMI meeting excerpts (scripts/real_speakers.py; DEV trn00-trn09, HELD-BACK
  dev00, dev01, tst00, tst01). Only those with no word before the last resort change; for them:
  words whose middle lies in reference speech, and outside it by more than 0.5 s.
- Nobody speaking: real sound that is not speech, fetched from PyPI at run time (never committed):
  the house-music loop and the sound effects of the pygame 2.6.1 wheel (examples/data), music at
  -20 to -50 dBFS, music under room noise, the effects in faint noise; and generated sound: dither
  at -90 dBFS, white noise at -60/-40/-20, pink noise at -40, 50 Hz mains hum at -40. 30 s each.
  The last resort's guards were chosen on these (DEV). HELD-BACK, run once after they were fixed:
  the synth sound looped, brown noise, a fan with 120 Hz hum, keyboard-like clicks, a 1 kHz tone, a
  sweep, the phone call's line before anyone speaks (0-6 s, looped), music at -60 dBFS and slowed.
  (The AMI clips' stretches without reference turns are not used: Whisper writes whole sentences
  about the remote control in some of them, e.g. trn04 0-13 s, that the excerpts' turns leave out.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench_speech import in_speech  # noqa: E402  (words inside / outside reference speech, scored alike)

from pipeline.hearing import transcribe  # noqa: E402

SR = 16000
PYGAME = "pygame==2.6.1"
SOUNDS = ["house_lo", "boom", "car_door", "whiff", "punch", "secosmic_lo"]


def fetch_sounds(folder: Path) -> dict[str, np.ndarray]:
    """pygame's example sounds (music loop and effects), decoded at 16 kHz."""
    from pipeline.hearing.audio import decode_audio

    folder.mkdir(parents=True, exist_ok=True)
    if not all((folder / f"{n}.wav").is_file() for n in SOUNDS):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", PYGAME,
                        "-d", str(folder)], check=True, capture_output=True)
        with zipfile.ZipFile(next(folder.glob("pygame-2.6.1-*.whl"))) as wheel:
            for n in SOUNDS:
                (folder / f"{n}.wav").write_bytes(wheel.read(f"pygame/examples/data/{n}.wav"))
    return {n: decode_audio(folder / f"{n}.wav") for n in SOUNDS}


def at_db(x: np.ndarray, db: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x**2)) * 10 ** (db / 20)


def nobody(sounds: dict[str, np.ndarray], room: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 30 * SR
    music = np.tile(sounds["house_lo"], n // len(sounds["house_lo"]) + 1)[:n]
    effects = rng.normal(0, 10 ** (-65 / 20), n)
    for i, name in enumerate(["boom", "car_door", "whiff", "punch", "secosmic_lo"]):
        at = (2 + 5 * i) * SR
        effects[at : at + len(sounds[name])] += sounds[name]
    white = rng.normal(0, 1, n)
    pink = np.fft.irfft(np.fft.rfft(white) / np.sqrt(np.arange(1, n // 2 + 2)), n)
    t = np.arange(n) / SR
    out = {
        "music": music,
        **{f"music {db} dB": at_db(music, db) for db in (-20, -30, -40, -50)},
        "music -35 dB + room noise": at_db(music, -35) + np.tile(room, n // len(room) + 1)[:n],
        "effects": effects,
        "effects +20 dB": effects * 10,
        "dither -90 dB": at_db(white, -90),
        **{f"white noise {db} dB": at_db(white, db) for db in (-60, -40, -20)},
        "pink noise -40 dB": at_db(pink, -40),
        "hum 50 Hz -40 dB": at_db(np.sin(2 * np.pi * 50 * t) + 0.3 * np.sin(2 * np.pi * 150 * t), -40),
    }
    return {k: np.clip(v, -1, 1).astype(np.float32) for k, v in out.items()}


def nobody_held_back(sounds: dict[str, np.ndarray], line: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.signal import butter, chirp, lfilter, resample

    rng = np.random.default_rng(7)
    n = 30 * SR
    t = np.arange(n) / SR

    def loop(x):
        return np.tile(x, n // len(x) + 1)[:n]

    white = rng.normal(0, 1, n)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(4000) / 4000, "same")
    clicks = rng.normal(0, 10 ** (-70 / 20), n)
    for i in rng.integers(0, n - 200, 120):
        clicks[i : i + 80] += rng.normal(0, 0.05, 80) * np.exp(-np.arange(80) / 15)
    slowed = resample(sounds["house_lo"], int(len(sounds["house_lo"]) * 1.25))
    out = {
        "synth sound looped -25 dB": at_db(loop(sounds["secosmic_lo"]), -25),
        "brown noise -40 dB": at_db(brown, -40),
        "fan -45 dB + 120 Hz hum": at_db(lfilter(*butter(2, 300 / (SR / 2)), white), -45) + at_db(np.sin(2 * np.pi * 120 * t), -55),
        "keyboard-like clicks": clicks,
        "tone 1 kHz -30 dB": at_db(np.sin(2 * np.pi * 1000 * t), -30),
        "sweep 100-4000 Hz -30 dB": at_db(chirp(t, 100, 30, 4000), -30),
        "phone line before speech": loop(line),
        "music -60 dB": at_db(loop(sounds["house_lo"]), -60),
        "music slowed 0.8x -45 dB": at_db(loop(slowed), -45),
    }
    return {k: np.clip(v, -1, 1).astype(np.float32) for k, v in out.items()}


def heard(transcriber, samples):
    """(segments before the last resort, segments after), as `heard ingest` hears them
    (transcribe.hear); the last resort runs only where nothing else found a word, so only there is
    the recording heard twice."""
    segments, _ = transcribe.hear(transcriber, samples, quiet_speech=False)
    before = [s for s in segments if s.text]
    if before:
        return before, before
    segments, _ = transcribe.hear(transcriber, samples)
    return before, [s for s in segments if s.text]


def main():
    import bench_transcription
    import real_speakers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    transcriber = bench_transcription.transcriber_for({})  # the default settings, one thread
    rows = []
    every = real_speakers.clips(ROOT / "build" / "speaker-data")
    clips = [c for c in every if c.name != "call"]
    line = next(c for c in every if c.name == "call").samples[: 6 * SR]  # before its first turn (6.2 s)
    for clip in clips:
        before, after = heard(transcriber, clip.samples)
        b_in, b_out = in_speech(before, clip.reference)
        a_in, a_out = in_speech(after, clip.reference)
        text = " | ".join(s.text for s in after) if not before else ""
        rows.append({"name": clip.name, "part": clip.part, "kind": "speech", "failed_before": not before,
                     "failed_after": not after, "before_in": b_in, "before_out": b_out, "after_in": a_in,
                     "after_out": a_out, "text": text})
        print(f"{clip.name} ({clip.part}): words in speech {b_in} -> {a_in}, outside {b_out} -> {a_out}"
              + (f"; last resort wrote {text!r}" if not before else ""), file=sys.stderr)
    trn02 = next(c for c in clips if c.name == "trn02")
    room = trn02.samples[: int(20.2 * SR)]  # trn02 before its one turn: a quiet meeting room
    sounds = fetch_sounds(ROOT / "build" / "nobody-sounds")
    parts = [("DEV", nobody(sounds, room)), ("HELD-BACK", nobody_held_back(sounds, line))]
    for part, recordings in parts:
        for name, samples in recordings.items():
            before, after = heard(transcriber, samples)
            rows.append({"name": name, "part": part, "kind": "nobody", "failed_before": not before, "failed_after": not after,
                         "words_before": sum(len(s.words) for s in before), "words_after": sum(len(s.words) for s in after),
                         "text": " | ".join(s.text for s in after)})
            print(f"{name} ({part}): words {rows[-1]['words_before']} -> {rows[-1]['words_after']} {rows[-1]['text']!r}", file=sys.stderr)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def report(rows):
    print("| recording | part | fails 'no speech' before | after | words in reference speech after | outside |")
    print("|---|---|---|---|---:|---:|")
    for r in rows:
        if r["kind"] == "speech" and r["failed_before"]:
            print(f"| AMI {r['name']} | {r['part']} | yes | {'yes' if r['failed_after'] else 'no'} | {r['after_in']} | {r['after_out']} |")
    speech_rows = [r for r in rows if r["kind"] == "speech"]
    print(f"\nAMI clips failing 'no speech': {sum(r['failed_before'] for r in speech_rows)} -> "
          f"{sum(r['failed_after'] for r in speech_rows)} of {len(speech_rows)}")
    for part in ("DEV", "HELD-BACK"):
        quiet = [r for r in rows if r["kind"] == "nobody" and r["part"] == part]
        print(f"Nobody speaking ({part}), recordings given words: {sum(not r['failed_before'] for r in quiet)} -> "
              f"{sum(not r['failed_after'] for r in quiet)} of {len(quiet)}")
        for r in quiet:
            if not r["failed_after"]:
                print(f"  {r['name']}: {r['text']!r}")

if __name__ == "__main__":
    main()
