"""Build a search dev set from a spec folder: recordings, true turn times and labeled queries.

    python scripts/make_devset.py [--spec scripts/devset] [--out build/devset]
    python scripts/make_devset.py --spec scripts/devset_hard --out build/devset-hard
    python scripts/make_devset.py --spec scripts/devset_hard --list-turns   # for labeling, no audio

Two spec shapes:
- scripts/devset/ (the first, easy set): interviews.yaml with question/answer pairs per topic and
  queries.yaml with the broad and named queries.
- scripts/devset_hard/ (issue 12's hard set): interviews/<name>.yaml, each a list of turns (`q:` the
  interviewer or host, `a:` the customer or guest, every `a:` with `topics: [...]` from topics.yaml
  and, when a query points at it, a `key`), topics.yaml and queries.yaml whose `relevant` lists are
  turn ids `<name>/<key>`.

Writes, generating only recordings that are missing or whose words changed:
  <out>/recordings/<name>.<ext>   the recording (interviewer/host: hibari "heart", customer/guest: piper joe)
  <out>/recordings/<name>.yaml    sidecar metadata (title, company, kind; the hard set adds segment, date, tags)
  <out>/truth/<name>.turns.json   who speaks when, with the exact text (and turn ids and topics)
  <out>/queries.yaml              the labeled queries for `heard eval`, spans resolved to seconds
The hard set also writes queries-tune.yaml and queries-heldout.yaml (its two halves) and topics.json
(every customer/guest turn with its span and topic labels, for the themes eval).

Synthesis is deterministic (see make_examples.py), so the labels always match the audio. The audio
stays out of git: `make eval` regenerates it. Needs the "tts" extra (except --list-turns).
"""
import argparse
import json
import re
import sys
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "scripts" / "devset"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_examples  # noqa: E402  (a sibling script, not a package)

KINDS = ("needle", "broad", "reasoning")
SPLITS = ("tune", "heldout")
ROLES = {"interview": ("interviewer", "customer"), "podcast": ("host", "guest")}
VOICE = {"interviewer": "interviewer", "host": "interviewer", "customer": "customer", "guest": "customer"}


class SpecError(Exception):
    """A mistake in the spec: the message names the file and the fix."""


# --- the first (easy) dev set: scripts/devset/ -------------------------------------------------------

def interview_turns(spec: dict, interview: dict) -> list[dict]:
    """The spoken turns of one interview; answer turns carry their label id <name>/<topic>."""
    turns = [{"speaker": "interviewer", "text": spec["greeting"]},
             {"speaker": "customer", "text": interview["intro"]}]
    for answer in interview["answers"]:
        turns.append({"speaker": "interviewer", "text": answer["question"]})
        turns.append({"speaker": "customer", "text": answer["answer"], "id": f"{interview['name']}/{answer['topic']}"})
    turns.append({"speaker": "interviewer", "text": spec["closing"]})
    return turns


def synthesize(interview: dict, turns: list[dict], voices, recordings: Path, truth_path: Path, title: str = "") -> None:
    name = interview["name"]
    recording = recordings / f"{name}.{interview['format']}"
    audio = [voices.speak(VOICE[t["speaker"]], t["text"]) for t in turns]
    mix, spans = make_examples.assemble(audio, seed=zlib.crc32(name.encode()))
    make_examples.encode(mix, recording)
    delay, _ = make_examples.measure_delay(mix, recording)
    SR = make_examples.SR
    truth = {
        "recording": recording.name,
        "title": title or f"{interview['company']} interview",
        "turns": [{**t, "start": round((a + delay) / SR, 3), "end": round((b + delay) / SR, 3)}
                  for t, (a, b) in zip(turns, spans)],
    }
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{recording}: {len(mix) / SR:.1f} s", flush=True)


def labeled_queries(spec: dict, extra: dict, truths: dict[str, dict]) -> list[dict]:
    spans = turn_spans(truths)
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


def turn_spans(truths: dict[str, dict]) -> dict[str, dict]:
    """Turn id -> the span `heard eval` reads: recording, start, end, text."""
    spans = {}
    for truth in truths.values():
        for turn in truth["turns"]:
            if "id" in turn:
                spans[turn["id"]] = {"recording": truth["recording"], "start": turn["start"], "end": turn["end"],
                                     "text": turn["text"]}
    return spans


def truth_is_current(recording: Path, truth_path: Path, turns: list[dict]) -> dict | None:
    """The stored truth when the audio exists and was made from these words and voices, else None."""
    current = json.loads(truth_path.read_text()) if truth_path.is_file() else None
    if not recording.is_file() or current is None:
        return None
    said = [(VOICE[t["speaker"]], t["text"]) for t in current["turns"]]
    return current if said == [(VOICE[t["speaker"]], t["text"]) for t in turns] else None


def build_first_set(spec_dir: Path, out: Path) -> None:
    recordings, truth_dir = out / "recordings", out / "truth"
    recordings.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load((spec_dir / "interviews.yaml").read_text())
    extra = yaml.safe_load((spec_dir / "queries.yaml").read_text())

    voices = None
    truths = {}
    for interview in spec["interviews"]:
        name = interview["name"]
        turns = interview_turns(spec, interview)
        truth_path = truth_dir / f"{name}.turns.json"
        recording = recordings / f"{name}.{interview['format']}"
        current = truth_is_current(recording, truth_path, turns)
        if current is None:  # the audio is missing or the script's words changed
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


# --- the hard dev set: scripts/devset_hard/ ----------------------------------------------------------

def load_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: cannot read ({exc}); fix the file") from exc


def load_recording_spec(path: Path, topic_names: set[str]) -> dict:
    """One recording of the hard set, its turns numbered and its customer/guest turns given ids."""
    raw = load_yaml(path)
    name = path.stem
    for key in ("company", "industry", "segment", "date", "format", "turns"):
        if key not in raw:
            raise SpecError(f"{path}: missing '{key}'; add it (see scripts/devset_hard/README.md)")
    kind = raw.get("kind", "interview")
    if kind not in ROLES:
        raise SpecError(f"{path}: kind {kind!r} is not one of {', '.join(ROLES)}")
    asker, answerer = ROLES[kind]
    turns, keys = [], set()
    for number, item in enumerate(raw["turns"], 1):
        where = f"{path}: turn {number}"
        if not isinstance(item, dict) or len({"q", "a"} & item.keys()) != 1:
            raise SpecError(f"{where}: each turn needs exactly one of 'q' (interviewer/host) or 'a' (customer/guest)")
        text = item.get("q", item.get("a"))
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"{where}: the text must be a non-empty string (quote words YAML reads as booleans)")
        if "q" in item:
            turns.append({"speaker": asker, "text": text})
            continue
        topics = item.get("topics")
        if not isinstance(topics, list) or not set(topics) <= topic_names:
            raise SpecError(f"{where}: 'topics' must be a list of names from topics.yaml, or [] for small talk")
        key = str(item.get("key", number))
        if key in keys:
            raise SpecError(f"{where}: key {key!r} is used twice in this recording; keys must be unique")
        keys.add(key)
        turns.append({"speaker": answerer, "text": text, "id": f"{name}/{key}", "topics": list(topics)})
    title = raw.get("title") or f"{raw['company']} interview"
    return {**raw, "name": name, "kind": kind, "title": title, "turns": turns}


def load_queries(path: Path, turns_by_id: dict[str, dict]) -> list[dict]:
    raw = load_yaml(path)
    queries, seen = [], set()
    for number, item in enumerate(raw.get("queries") or [], 1):
        where = f"{path}: query {number}"
        if not item.get("query") or item.get("kind") not in KINDS or item.get("split") not in SPLITS:
            raise SpecError(f"{where}: needs 'query', 'kind' ({'/'.join(KINDS)}) and 'split' ({'/'.join(SPLITS)})")
        if item.get("id") in seen:
            raise SpecError(f"{where}: id {item.get('id')!r} is used twice")
        seen.add(item.get("id"))
        relevant = item.get("relevant") or []
        if not relevant:
            raise SpecError(f"{where}: 'relevant' lists no turn ids")
        for turn_id in relevant:
            turn = turns_by_id.get(turn_id)
            if turn is None:
                raise SpecError(f"{where}: no customer/guest turn {turn_id!r}; ids are <recording>/<key>")
            if not turn["topics"]:
                raise SpecError(f"{where}: {turn_id} has topics: [] (small talk) but answers this query; "
                                "give it its topics or drop it from 'relevant'")
        if len(set(relevant)) != len(relevant):
            raise SpecError(f"{where}: a turn id is listed twice in 'relevant'")
        queries.append(item)
    return queries


def load_recordings(spec_dir: Path) -> tuple[dict, list[dict]]:
    topics = load_yaml(spec_dir / "topics.yaml")["topics"]
    return topics, [load_recording_spec(p, set(topics)) for p in sorted((spec_dir / "interviews").glob("*.yaml"))]


def load_hard_spec(spec_dir: Path) -> tuple[dict, list[dict], list[dict]]:
    topics, recordings = load_recordings(spec_dir)
    turns_by_id = {t["id"]: t for r in recordings for t in r["turns"] if "id" in t}
    queries = load_queries(spec_dir / "queries.yaml", turns_by_id)
    return topics, recordings, queries


def list_turns(recordings: list[dict]) -> str:
    """Every customer/guest turn with its id and topics: the sheet to label queries against."""
    lines = []
    for recording in recordings:
        lines.append(f"== {recording['name']} ({recording['company']}, {recording['industry']}, {recording['kind']})")
        for turn in recording["turns"]:
            if "id" in turn:
                lines.append(f"{turn['id']} [{', '.join(turn['topics'])}] {turn['text']}")
    return "\n".join(lines)


STOPWORDS = set("""a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't down each even every for from get gets got had has have he her here him his how i
if in into is it it's its just like me more most my no not now of off on once one only or other our out over own
said same say says she so some still such than that that's the their them then there these they this those
through to too under until up us very was we were what when where which while who whom why will with would you
your yours whose isn't doesn't didn't can't won't i'm i've i'd we're they're there's between without
two three four five six seven eight nine ten""".split())


def content_stems(text: str) -> set[str]:
    """Crude stems of the content words, to flag reasoning queries that share words with an answer."""
    words = re.findall(r"[a-z']+", text.lower())
    return {w[:5] for w in words if w not in STOPWORDS and len(w) > 2}


def shared_words(queries: list[dict], turns_by_id: dict[str, dict]) -> list[str]:
    warnings = []
    for query in queries:
        if query["kind"] != "reasoning":
            continue
        for turn_id in query["relevant"]:
            shared = content_stems(query["query"]) & content_stems(turns_by_id[turn_id]["text"])
            if shared:
                warnings.append(f"reasoning query {query['id']} shares {sorted(shared)} with {turn_id}")
    return warnings


def sidecar(recording: dict) -> dict:
    return {"title": recording["title"], "company": recording["company"], "kind": recording["kind"],
            "segment": recording["segment"], "date": str(recording["date"]), "tags": [recording["industry"]]}


def resolved(query: dict, spans: dict[str, dict]) -> dict:
    """A query in `heard eval`'s format; turn ids stay beside the spans so tools can join them."""
    return {"query": query["query"], "kind": query["kind"], "split": query["split"], "id": query["id"],
            "turns": list(query["relevant"]), "relevant": [dict(spans[t]) for t in query["relevant"]]}


def write_queries(path: Path, queries: list[dict], what: str, spec: str = "scripts/devset_hard/") -> None:
    path.write_text(f"# Generated by scripts/make_devset.py from {spec}: {what}. Spans are the\n"
                    "# true turn times of every customer/guest turn that answers the query.\n"
                    + yaml.safe_dump({"queries": queries}, sort_keys=False, width=200, allow_unicode=True), encoding="utf-8")


def build_hard_set(spec_dir: Path, out: Path) -> None:
    topics, recordings, queries = load_hard_spec(spec_dir)
    recordings_dir, truth_dir = out / "recordings", out / "truth"
    recordings_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    voices = None
    truths = {}
    for recording in recordings:
        name, turns = recording["name"], recording["turns"]
        truth_path = truth_dir / f"{name}.turns.json"
        audio_path = recordings_dir / f"{name}.{recording['format']}"
        current = truth_is_current(audio_path, truth_path, turns)
        if current is None or [t.get("id") for t in current["turns"]] != [t.get("id") for t in turns] \
                or [t.get("topics") for t in current["turns"]] != [t.get("topics") for t in turns]:
            if current is None:
                voices = voices or make_examples.Voices()
                synthesize(recording, turns, voices, recordings_dir, truth_path, title=recording["title"])
            else:  # same words: keep the audio and its times, refresh ids and topics
                current["turns"] = [{**t, "start": c["start"], "end": c["end"]} for t, c in zip(turns, current["turns"])]
                truth_path.write_text(json.dumps(current, indent=2) + "\n")
            current = json.loads(truth_path.read_text())
        (recordings_dir / f"{name}.yaml").write_text(yaml.safe_dump(sidecar(recording), sort_keys=False))
        truths[name] = current

    spans = turn_spans(truths)
    labeled = [resolved(q, spans) for q in queries]
    write_queries(out / "queries.yaml", labeled, "all queries")
    for split in SPLITS:
        write_queries(out / f"queries-{split}.yaml", [q for q in labeled if q["split"] == split], f"the {split} half")
    answer_turns = [{"id": t["id"], "recording": truth["recording"], "speaker": t["speaker"], "start": t["start"],
                     "end": t["end"], "topics": t["topics"], "text": t["text"]}
                    for truth in truths.values() for t in truth["turns"] if "id" in t]
    (out / "topics.json").write_text(json.dumps({"topics": topics, "turns": answer_turns}, indent=1) + "\n")
    turns_by_id = {t["id"]: t for r in recordings for t in r["turns"] if "id" in t}
    for warning in shared_words(queries, turns_by_id):
        print(f"warning: {warning}")
    seconds = sum(t["turns"][-1]["end"] for t in truths.values())
    counts = ", ".join(f"{split} {sum(q['split'] == split for q in labeled)}" for split in SPLITS)
    print(f"{out / 'queries.yaml'}: {len(labeled)} queries ({counts}) over {len(truths)} recordings, "
          f"{seconds / 60:.1f} min of audio; {out / 'topics.json'}: {len(answer_turns)} customer/guest turns")


# --- the multilingual dev set: scripts/devset_multilingual/ (issue 21) --------------------------------

# What the speakers are called in the text version (WebVTT voice tags), per language.
SPEAKER_NAMES = {"es": ("Entrevistadora", "Cliente"), "de": ("Interviewerin", "Kunde"), "fr": ("Intervieweuse", "Client")}
ASKED = ("en", "native")


def is_multilingual(spec_dir: Path) -> bool:
    first = next(iter(sorted((spec_dir / "interviews").glob("*.yaml"))), None)
    return first is not None and "language" in (load_yaml(first) or {})


def multilingual_queries(spec_dir: Path, turns_by_id: dict[str, dict], languages: dict[str, str]) -> list[dict]:
    """Every query twice over: in English and in the language of the interviews it was written for
    (a broad query once per language); each with the ids of every turn that answers it."""
    raw = load_yaml(spec_dir / "queries.yaml")
    queries = []
    for number, item in enumerate(raw.get("queries") or [], 1):
        where = f"{spec_dir / 'queries.yaml'}: query {number}"
        if item.get("kind") not in ("needle", "broad") or item.get("split") not in SPLITS or not item.get("en"):
            raise SpecError(f"{where}: needs 'en', 'native', 'kind' (needle/broad) and 'split' ({'/'.join(SPLITS)})")
        for turn_id in item.get("relevant") or []:
            if turn_id not in turns_by_id or not turns_by_id[turn_id]["topics"]:
                raise SpecError(f"{where}: {turn_id!r} is no customer turn with topics; ids are <recording>/<key>")
        native = item["native"] if isinstance(item["native"], dict) else {item["language"]: item["native"]}
        base = {"kind": item["kind"], "split": item["split"], "id": item["id"], "turns": list(item["relevant"])}
        queries.append({**base, "asked": "en", "language": "en", "query": item["en"]})
        queries += [{**base, "asked": "native", "language": code, "query": text} for code, text in native.items()]
    return queries


def write_vtt(path: Path, truth: dict, language: str) -> None:
    """The interview as a WebVTT transcript with the true turn times and voice tags: the text import."""
    names = dict(zip(("interviewer", "customer"), SPEAKER_NAMES[language]))
    stamp = lambda s: f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"  # noqa: E731
    cues = [f"{stamp(t['start'])} --> {stamp(t['end'])}\n<v {names[t['speaker']]}>{t['text']}" for t in truth["turns"]]
    path.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")


def build_multilingual_set(spec_dir: Path, out: Path) -> None:
    _topics, recordings = load_recordings(spec_dir)
    folders = {name: out / name for name in ("recordings", "texts", "truth")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    voices: dict[str, object] = {}
    truths, files = {}, {}
    for recording in recordings:
        name, turns, language = recording["name"], recording["turns"], recording["language"]
        truth_path = folders["truth"] / f"{name}.turns.json"
        audio_path = folders["recordings"] / f"{name}.{recording['format']}"
        current = truth_is_current(audio_path, truth_path, turns)
        if current is None:
            voices.setdefault(language, make_examples.EspeakVoices(language))
            synthesize(recording, turns, voices[language], folders["recordings"], truth_path, title=recording["title"])
            current = json.loads(truth_path.read_text())
        current["turns"] = [{**t, "start": c["start"], "end": c["end"]} for t, c in zip(turns, current["turns"])]
        truth_path.write_text(json.dumps(current, indent=2) + "\n")
        # No language in the sidecars: Whisper (audio) and the text detector (texts) find it.
        for folder in ("recordings", "texts"):
            (folders[folder] / f"{name}.yaml").write_text(yaml.safe_dump(sidecar(recording), sort_keys=False, allow_unicode=True), encoding="utf-8")
        write_vtt(folders["texts"] / f"{name}.vtt", current, language)
        truths[name], files[name] = current, audio_path.name
    turns_by_id = {t["id"]: t for r in recordings for t in r["turns"] if "id" in t}
    queries = multilingual_queries(spec_dir, turns_by_id, {r["name"]: r["language"] for r in recordings})
    spans = turn_spans(truths)
    for version, recording_name in (("audio", lambda turn_id: files[turn_id.split("/")[0]]), ("text", lambda turn_id: f"{turn_id.split('/')[0]}.vtt")):
        for asked in ASKED:
            for split in SPLITS:
                picked = [{"query": q["query"], "kind": q["kind"], "split": split, "id": q["id"], "language": q["language"], "turns": q["turns"],
                           "relevant": [{**spans[t], "recording": recording_name(t)} for t in q["turns"]]}
                          for q in queries if q["asked"] == asked and q["split"] == split]
                write_queries(out / f"queries-{version}-{asked}-{split}.yaml", picked, f"{version}, asked in {'English' if asked == 'en' else 'the interviews language'}, {split} half",
                              spec="scripts/devset_multilingual/")
    seconds = sum(t["turns"][-1]["end"] for t in truths.values())
    print(f"{out}: {len(recordings)} interviews ({', '.join(sorted({r['language'] for r in recordings}))}), "
          f"{seconds / 60:.1f} min of audio; {sum(q['asked'] == 'en' for q in queries)} queries, each in English and natively")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(DEVSET), help="spec folder: scripts/devset or scripts/devset_hard")
    parser.add_argument("--out", default=None, help="output folder [default: build/devset, build/devset-hard]")
    parser.add_argument("--list-turns", action="store_true", help="print every customer/guest turn and exit")
    args = parser.parse_args()
    spec_dir = Path(args.spec)
    hard = (spec_dir / "interviews").is_dir()
    default = ("devset-multilingual" if is_multilingual(spec_dir) else "devset-hard") if hard else "devset"
    out = Path(args.out or ROOT / "build" / default)
    try:
        if args.list_turns:
            if not hard:
                raise SpecError(f"{spec_dir}: --list-turns reads a spec with an interviews/ folder")
            print(list_turns(load_recordings(spec_dir)[1]))
        elif hard and is_multilingual(spec_dir):
            build_multilingual_set(spec_dir, out)
        elif hard:
            build_hard_set(spec_dir, out)
        else:
            build_first_set(spec_dir, out)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
