"""Benchmark voices across recordings: how alike one person's voice vectors are in two recordings,
against two different people's, and what the cross-recording clustering of `heard speakers` makes of them.

    python scripts/bench_voices.py [--json results.json]

Each recording's diarization keeps, per speaker, the unit mean CAM++ vector of its voice
(`diarization.voices`); `heard speakers` joins those vectors across recordings into voices
(pipeline/indexing/identities/). This measures:

(a) Real recordings with references (scripts/real_speakers.py): the 14 AMI meeting excerpts in the
    pyannote.audio 4.0.7 source distribution carry AMI's speaker ids, and several people speak in
    two or three excerpts (trn00/trn01/trn03, trn01/trn02, trn06/trn09, trn07/trn08 in DEV;
    dev00/dev01 and tst00/tst01 in HELD-BACK). Two sets of vectors per excerpt:
    - diarized: what ingest stores, from `diarize()` as ingest runs it; each diarized speaker stands
      for the reference speaker it overlaps most (its purity is reported);
    - oracle: each reference speaker's speech heard alone, in 1.5 s pieces, embedded and averaged as
      the diarizer does: the encoder's own limit, without diarization errors.
    Pairs of vectors from two different excerpts of the same part: same person or not. Reported:
    cosine distributions, the equal error rate, and per threshold the share of same-person pairs
    matched and of different-person pairs wrongly matched. Then the clustering itself over each
    part (with its threshold): how many voices each person ends up in and how many people each voice holds.
(b) Synthetic (regression, not a measure): the three example interviews and the search dev set's 20,
    interviewer hibari "heart" and customer piper joe in every one.

The dev/held-back split is that of real_speakers.py, fixed before any measurement. The thresholds
in identities/clustering.py were chosen on DEV; HELD-BACK was run once after.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.hearing.speakers.diarize import diarize, shared_models  # noqa: E402

SR = 16000
PIECE = 1.5


@dataclass
class Member:
    recording: str
    part: str
    label: str  # diarized label, or the reference speaker for oracle vectors
    person: str  # the reference speaker
    purity: float  # share of the label's speech that is that person
    seconds: float
    vector: np.ndarray


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def diarized_members(name: str, part: str, samples: np.ndarray, reference) -> list[Member]:
    result = diarize(samples, threads=1)
    people = sorted({t[2] for t in reference})
    out = []
    for label, voice in result.voices.items():
        if not voice.embedding:
            continue
        mine = [(t.start, t.end) for t in result.turns if t.speaker == label]
        overlaps = {p: _overlap(mine, [(a, b) for a, b, s in reference if s == p]) for p in people}
        person = max(overlaps, key=lambda p: overlaps[p])
        total = sum(b - a for a, b in mine) or 1.0
        out.append(Member(name, part, label, person, overlaps[person] / total, voice.seconds, np.array(voice.embedding)))
    return out


def oracle_members(name: str, part: str, samples: np.ndarray, reference) -> list[Member]:
    """Each reference speaker's solo speech, 1.5 s pieces, mean CAM++ vector (unit)."""
    encoder = shared_models().encoder
    step = 0.01
    n = int(len(samples) / SR / step) + 1
    people = sorted({t[2] for t in reference})
    active = np.zeros((len(people), n), dtype=bool)
    for a, b, s in reference:
        active[people.index(s), int(a / step) : int(b / step)] = True
    alone = active & (active.sum(axis=0) == 1)
    out = []
    for i, person in enumerate(people):
        frames = np.flatnonzero(alone[i])
        if len(frames) * step < 0.5:
            continue
        audio = np.concatenate([samples[int(f * step * SR) : int((f + 1) * step * SR)] for f in frames])
        size = int(PIECE * SR)
        pieces = [audio[k : k + size] for k in range(0, len(audio), size) if len(audio[k : k + size]) >= 0.5 * SR]
        vectors = encoder.embed(pieces)
        mean = vectors.mean(axis=0)
        out.append(Member(name, part, person, person, 1.0, len(frames) * step, mean / np.linalg.norm(mean)))
    return out


def pairs(members: list[Member], min_seconds: float = 0.0):
    """(cosine, same person) for every two members of different recordings in one part."""
    found = []
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if a.recording == b.recording or a.part != b.part or min(a.seconds, b.seconds) < min_seconds:
                continue
            found.append((float(a.vector @ b.vector), a.person == b.person))
    return found


def equal_error_rate(found) -> tuple[float, float]:
    """(EER, the threshold where missed same-person pairs and matched different-person pairs meet)."""
    same = np.array([c for c, s in found if s])
    other = np.array([c for c, s in found if not s])
    best = (2.0, 0.0, 0.0)
    for t in np.linspace(-0.2, 1.0, 1201):
        miss, false = float(np.mean(same < t)), float(np.mean(other >= t))
        if abs(miss - false) < best[0]:
            best = (abs(miss - false), (miss + false) / 2, float(t))
    return best[1], best[2]


def describe(found, label: str) -> None:
    same = np.array([c for c, s in found if s])
    other = np.array([c for c, s in found if not s])
    if not len(same) or not len(other):
        print(f"{label}: {len(same)} same-person pairs, {len(other)} different: nothing to compare")
        return
    eer, at = equal_error_rate(found)
    print(
        f"{label}: same person {len(same)} pairs, cosine median {np.median(same):.2f} (min {same.min():.2f}); "
        f"different {len(other)} pairs, median {np.median(other):.2f} (max {other.max():.2f}); EER {eer:.1%} at {at:.2f}"
    )
    cells = []
    for t in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        cells.append(f"{t:.2f}: {np.mean(same >= t):.0%} / {np.mean(other >= t):.1%}")
    print("  matched same / wrongly matched different, by threshold: " + "; ".join(cells))


def clustering_outcome(members: list[Member], label: str) -> dict:
    """Cluster a part's diarized members as `heard speakers` does; count pairs put together."""
    from pipeline.indexing.identities.clustering import Observation, cluster_observations

    observations = [Observation(m.recording, m.label, m.seconds, tuple(m.vector.tolist())) for m in members]
    voice_of = cluster_observations(observations, pinned={})
    members = [m for m in members if (m.recording, m.label) in voice_of]
    same = joined_same = other = joined_other = 0
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if a.recording == b.recording:
                continue
            together = voice_of[(a.recording, a.label)] == voice_of[(b.recording, b.label)]
            if a.person == b.person:
                same, joined_same = same + 1, joined_same + together
            else:
                other, joined_other = other + 1, joined_other + together
    voices = len(set(voice_of.values()))
    print(
        f"{label}: {len(members)} speakers in {len({m.recording for m in members})} recordings -> {voices} voices; "
        f"one person in two recordings put in one voice: {joined_same}/{same} pairs; two people put in one voice: "
        f"{joined_other}/{other} pairs"
    )
    return {"voices": voices, "same": same, "joined_same": joined_same, "other": other, "joined_other": joined_other}


def sweep(members: list[Member], label: str) -> dict:
    """The clustering at the chosen settings, and around them (bench only: the constants are patched)."""
    from pipeline.indexing.identities import clustering as voice_clusters

    chosen = (voice_clusters.SAME_VOICE, voice_clusters.MIN_SECONDS)
    out = {}
    for same, least in dict.fromkeys([chosen, (0.4, chosen[1]), (0.6, chosen[1]), (0.7, chosen[1]), (chosen[0], 0.0)]):
        voice_clusters.SAME_VOICE, voice_clusters.MIN_SECONDS = same, least
        note = " (chosen)" if (same, least) == chosen else ""
        out[f"{same}/{least}"] = clustering_outcome(members, f"{label}, cosine {same}, speakers >= {least:g} s{note}")
    voice_clusters.SAME_VOICE, voice_clusters.MIN_SECONDS = chosen
    return out


def real(results: dict) -> None:
    import real_speakers

    diarized, oracle = [], []
    for clip in real_speakers.clips(ROOT / "build" / "speaker-data"):
        if clip.name == "call":
            continue  # its two people speak in no other clip; nothing to pair them with
        d = diarized_members(clip.name, clip.part, clip.samples, clip.reference)
        diarized += d
        oracle += oracle_members(clip.name, clip.part, clip.samples, clip.reference)
        print(
            f"{clip.part} {clip.name}: " + ", ".join(f"{m.label}={m.person} ({m.purity:.0%}, {m.seconds:.1f} s)" for m in d),
            file=sys.stderr,
        )
    print("Real recordings (AMI excerpts; DEV tuned on, HELD-BACK never):")
    for part in ("DEV", "HELD-BACK"):
        for kind, members in (("oracle", oracle), ("diarized", diarized)):
            group = [m for m in members if m.part == part]
            describe(pairs(group), f"{part} {kind}")
            if kind == "diarized":
                describe(pairs(group, min_seconds=5.0), f"{part} diarized, speakers with >= 5 s of speech")
                results[f"{part}-cluster"] = sweep(group, f"{part} clustering (diarized)")
        results[part] = {
            kind: [(c, s) for c, s in pairs([m for m in members if m.part == part])]
            for kind, members in (("oracle", oracle), ("diarized", diarized))
        }


def synthetic(results: dict) -> None:
    from pipeline.hearing.audio import decode_audio

    sets = [(ROOT / "examples", ROOT / "tests" / "data")]
    devset = ROOT / "build" / "devset"
    if (devset / "recordings").is_dir():
        sets.append((devset / "recordings", devset / "truth"))
    members = []
    for audio_dir, truth_dir in sets:
        for truth_file in sorted(truth_dir.glob("*.turns.json")):
            truth = json.loads(truth_file.read_text())
            stem = truth_file.name.removesuffix(".turns.json")
            audio = next((p for p in audio_dir.glob(stem + ".*") if p.suffix not in (".yaml", ".json")), None)
            if audio is None:
                continue
            reference = [(t["start"], t["end"], t["speaker"]) for t in truth["turns"]]
            members += diarized_members(stem, "synthetic", decode_audio(audio), reference)
    print("\nGenerated interviews (hibari interviewer, piper joe customer in every one; regression only):")
    describe(pairs(members), f"synthetic diarized, {len({m.recording for m in members})} recordings")
    results["synthetic-cluster"] = sweep(members, "synthetic clustering")
    results["synthetic"] = pairs(members)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the pairs' cosines to this file")
    parser.add_argument("--real-only", action="store_true")
    args = parser.parse_args()
    results: dict = {}
    real(results)
    if not args.real_only:
        synthetic(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
