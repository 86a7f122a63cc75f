"""Benchmark roles on the search dev sets: who asks, from the words alone (the inference) against
naming the interviewer's voice once (`heard speakers name V? Dana --role interviewer`).

    python scripts/bench_roles.py [--skip-eval]

Both dev sets (scripts/devset/, 20 interviews; scripts/devset_hard/, 34 recordings of which 2 are
podcasts) have one interviewer voice across all recordings, as a product team's interviews do.
They are synthesized and ingested as `make eval` does (build/devset*, only what is missing), then
copied to build/roles/ so naming changes nothing `make eval` measures. Per set:
- wrong-role words: each transcribed word's speaker's role against the role of whoever really
  said it (the synthesis's true turns), and words with no role at all (the diarizer unsure);
- the interviewer's voice is named once, from the first recording (sorted by name) as a person
  would after listening to it; `name_voice` re-indexes every recording where that voice speaks;
- the same count again, and `heard eval` before and after (hybrid: recall@5, MRR).
These are synthetic voices (hibari "heart", piper joe): regression figures, not a measure of real
calls. No real interview with turn-level references was found (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline import transcripts  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.indexing.identities import VoiceBook, voices_path  # noqa: E402
from pipeline.indexing.roles import people  # noqa: E402
from pipeline.sources.metadata import MetadataReader  # noqa: E402

HEARD = [sys.executable, "-m", "cli"]
SETS = {  # name -> (spec, recordings dir, data dir, queries)
    "dev set (20 interviews)": ("scripts/devset", "build/devset", "build/devset-data", ["queries.yaml"]),
    "hard dev set (34 recordings)": (
        "scripts/devset_hard", "build/devset-hard", "build/devset-hard-data", ["queries-tune.yaml", "queries-heldout.yaml"]
    ),
}


def heard(*args: str) -> str:
    done = subprocess.run([*HEARD, *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"heard {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def prepare(spec: str, out: str, data: str) -> Path:
    """The dev set synthesized and ingested (as make eval does), copied for this benchmark."""
    subprocess.run([sys.executable, "scripts/make_devset.py", "--spec", spec, "--out", out], cwd=ROOT, check=True)
    heard("--data-dir", data, "ingest", f"{out}/recordings", "--quiet")
    copy = ROOT / "build" / "roles" / Path(data).name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(ROOT / data, copy)
    return copy


def truth_of(out: str) -> dict[str, list[dict]]:
    return {p.name.removesuffix(".turns.json"): json.loads(p.read_text())["turns"]
            for p in (ROOT / out / "truth").glob("*.turns.json")}


def asker(role: str) -> bool:
    return role in ("interviewer", "host")


def wrong_roles(settings, truth, book: VoiceBook | None) -> tuple[int, int, int, int]:
    """(wrong, without a role, words, recordings with any wrong word): asker vs answerer per word."""
    reader = MetadataReader()
    wrong = missing = total = bad = 0
    for path in sorted(settings.transcripts_dir.glob("*.json")):
        transcript = transcripts.load(path)
        name = Path(transcript.source).stem
        if name not in truth:
            continue
        identities = book.identities(transcript.recording_id) if book else {}
        found = people(transcript, reader.for_recording(Path(transcript.source)), identities)
        before = wrong
        for segment in transcript.segments:
            role = found[segment.speaker].role if segment.speaker in found else None
            for word in segment.words:
                middle = (word.start + word.end) / 2
                turn = min(truth[name], key=lambda t: 0 if t["start"] <= middle <= t["end"]
                           else min(abs(t["start"] - middle), abs(t["end"] - middle)))
                total += 1
                if role is None:
                    missing += 1
                elif asker(role) != asker(turn["speaker"]):
                    wrong += 1
        bad += wrong > before
    return wrong, missing, total, bad


def name_interviewer(settings, truth) -> str:
    """Name the voice of the first recording's interviewer, as a person would after listening to it."""
    from pipeline.jobs.identities import name_voice, voice_book

    book = voice_book(settings)
    first = sorted(truth)[0]
    transcript = next(t for t in map(transcripts.load, settings.transcripts_dir.glob("*.json"))
                      if Path(t.source).stem == first)
    opener = truth[first][0]
    label = next(s.speaker for s in transcript.segments if s.end > opener["start"] and s.start < opener["end"])
    voice = book.speakers_of(transcript.recording_id)[label].id
    book.close()
    change = name_voice(settings, voice, "Dana", role="interviewer")
    print(f"  named {voice} (label {label} of {first}) Dana, interviewer: voice heard in {change.voice.recordings} "
          f"recordings, {len(change.changed)} re-indexed", file=sys.stderr)
    return voice


def evaluate(data: Path, out: str, queries: list[str]) -> str:
    cells = []
    for file in queries:
        report = json.loads(heard("--data-dir", str(data), "eval", f"{out}/{file}", "--format", "json").strip().splitlines()[-1])
        hybrid = next(r for r in report if r["mode"] == "hybrid")
        cells.append(f"{file.removesuffix('.yaml')}: recall@5 {hybrid['recall@5']:.3f}, MRR {hybrid['mrr']:.3f}")
    return "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-eval", action="store_true", help="only count wrong-role words")
    args = parser.parse_args()
    print("| dev set | roles from | wrong-role words | words without a role | recordings with a wrong word | search (hybrid) |")
    print("|---|---|---:|---:|---:|---|")
    for label, (spec, out, data, queries) in SETS.items():
        copy = prepare(spec, out, data)
        settings = load_settings(None, copy, environ={})
        truth = truth_of(out)
        before = wrong_roles(settings, truth, None)
        search_before = "" if args.skip_eval else evaluate(copy, out, queries)
        name_interviewer(settings, truth)
        book = VoiceBook(voices_path(copy))
        after = wrong_roles(settings, truth, book)
        book.close()
        search_after = "" if args.skip_eval else evaluate(copy, out, queries)
        recordings = len(truth)
        for how, (wrong, missing, total, bad), search in (("who asks (inferred)", before, search_before),
                                                         ("interviewer's voice named once", after, search_after)):
            print(f"| {label} | {how} | {wrong}/{total} = {wrong / total:.1%} | {missing} | {bad}/{recordings} | {search} |")


if __name__ == "__main__":
    main()
