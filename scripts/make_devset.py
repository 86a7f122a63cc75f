"""Build the search dev set from scripts/devset/: recordings, true turn times and labeled queries.

    python scripts/make_devset.py [--out build/devset]

Writes, generating only recordings that are missing:
  <out>/recordings/<name>.<ext>   an interview (interviewer: hibari "heart", customer: piper joe)
  <out>/recordings/<name>.yaml    sidecar metadata (title, company, kind)
  <out>/truth/<name>.turns.json   who speaks when, with the exact text
  <out>/queries.yaml              the labeled queries for `heard eval`, spans resolved to seconds

Synthesis is deterministic (see make_examples.py), so the labels always match the audio. The audio
stays out of git: `make eval` regenerates it. Needs the "tts" extra.
"""
import argparse
import json
import sys
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "scripts" / "devset"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_examples  # noqa: E402  (a sibling script, not a package)


def interview_turns(spec: dict, interview: dict) -> list[dict]:
    """The spoken turns of one interview; answer turns carry their label id <name>/<topic>."""
    turns = [{"speaker": "interviewer", "text": spec["greeting"]},
             {"speaker": "customer", "text": interview["intro"]}]
    for answer in interview["answers"]:
        turns.append({"speaker": "interviewer", "text": answer["question"]})
        turns.append({"speaker": "customer", "text": answer["answer"], "id": f"{interview['name']}/{answer['topic']}"})
    turns.append({"speaker": "interviewer", "text": spec["closing"]})
    return turns


def synthesize(interview: dict, turns: list[dict], voices, recordings: Path, truth_path: Path) -> None:
    name = interview["name"]
    recording = recordings / f"{name}.{interview['format']}"
    audio = [voices.speak(t["speaker"], t["text"]) for t in turns]
    mix, spans = make_examples.assemble(audio, seed=zlib.crc32(name.encode()))
    make_examples.encode(mix, recording)
    delay, _ = make_examples.measure_delay(mix, recording)
    SR = make_examples.SR
    truth = {
        "recording": recording.name,
        "title": f"{interview['company']} interview",
        "turns": [{**t, "start": round((a + delay) / SR, 3), "end": round((b + delay) / SR, 3)}
                  for t, (a, b) in zip(turns, spans)],
    }
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{recording}: {len(mix) / SR:.1f} s", flush=True)


def labeled_queries(spec: dict, extra: dict, truths: dict[str, dict]) -> list[dict]:
    spans = {}  # answer id -> relevant span
    for truth in truths.values():
        for turn in truth["turns"]:
            if "id" in turn:
                spans[turn["id"]] = {"recording": truth["recording"], "start": turn["start"], "end": turn["end"],
                                     "text": turn["text"]}
    queries = []
    for interview in spec["interviews"]:
        for answer in interview["answers"]:
            answer_id = f"{interview['name']}/{answer['topic']}"
            queries.append({"query": answer["query"], "kind": "specific", "relevant": [dict(spans[answer_id])]})
    for item in extra.get("named", []):
        queries.append({"query": item["query"], "kind": "named", "relevant": [dict(spans[item["answer"]])]})
    for item in extra["broad"]:
        ids = [f"{i['name']}/{a['topic']}" for i in spec["interviews"] for a in i["answers"] if a["topic"] == item["topic"]]
        queries.append({"query": item["query"], "kind": "broad", "relevant": [dict(spans[i]) for i in ids]})
    return queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "devset"))
    args = parser.parse_args()
    out = Path(args.out)
    recordings, truth_dir = out / "recordings", out / "truth"
    recordings.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load((DEVSET / "interviews.yaml").read_text())
    extra = yaml.safe_load((DEVSET / "queries.yaml").read_text())

    voices = None
    truths = {}
    for interview in spec["interviews"]:
        name = interview["name"]
        turns = interview_turns(spec, interview)
        truth_path = truth_dir / f"{name}.turns.json"
        recording = recordings / f"{name}.{interview['format']}"
        current = json.loads(truth_path.read_text()) if truth_path.is_file() else None
        # Regenerate when the audio is missing or the script's words changed.
        if not recording.is_file() or current is None or [t["text"] for t in current["turns"]] != [t["text"] for t in turns]:
            voices = voices or make_examples.Voices()
            synthesize(interview, turns, voices, recordings, truth_path)
            current = json.loads(truth_path.read_text())
        (recordings / f"{name}.yaml").write_text(yaml.safe_dump(
            {"title": current["title"], "company": interview["company"], "kind": "interview"}, sort_keys=False))
        truths[name] = current

    queries = labeled_queries(spec, extra, truths)
    (out / "queries.yaml").write_text(
        "# Generated by scripts/make_devset.py from scripts/devset/; spans are the true answer turns.\n"
        + yaml.safe_dump({"queries": queries}, sort_keys=False, width=200))
    print(f"{out / 'queries.yaml'}: {len(queries)} queries over {len(truths)} recordings")


if __name__ == "__main__":
    main()
