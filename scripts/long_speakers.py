"""Diarization of long conversations by length (scripts/long_conversations.py builds them), for
scripts/bench_speakers.py: DER, speaker count, missed speech and wrong-role words per length and part.

The two networks' output (segmentation windows, pieces, voice vectors) is saved per conversation in
build/long-conversations/cache/, keyed by the audio and the networks' method, so trying another
clustering re-runs only the clustering (`--recluster-only` reuses them; a missing one is computed).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.hearing.speakers import diarize as diarize_module  # noqa: E402
from pipeline.hearing.speakers.assign import assign  # noqa: E402
from pipeline.hearing.speakers.der import diarization_error_rate  # noqa: E402
from pipeline.hearing.speakers.pieces import Piece, Pieces, embedded_pieces  # noqa: E402
from pipeline.hearing.speakers.segmentation import Window  # noqa: E402
from pipeline.indexing.roles import people as roles_of  # noqa: E402
from pipeline.transcripts import Segment, Transcript, Word  # noqa: E402

CACHE = ROOT / "build" / "long-conversations" / "cache"
SR = 16000


def _key(samples: np.ndarray) -> str:
    digest = hashlib.sha1(samples[:: 97].tobytes()).hexdigest()[:16]
    from pipeline.hearing.speakers.pieces import MIN_PIECE_SECONDS, PIECE_SECONDS

    # The networks' output does not depend on the clustering: a new clustering keeps the cache.
    return f"{digest}-{len(samples)}-seg3-campplus-{PIECE_SECONDS}-{MIN_PIECE_SECONDS}"


def cached_pieces(samples: np.ndarray, threads: int) -> tuple[Pieces, float]:
    """The networks' output for the audio, and the CPU seconds it cost (0 when read from the cache)."""
    path = CACHE / f"{_key(samples)}.npz"
    if path.is_file():
        data = np.load(path)
        windows = [Window(int(s), a) for s, a in zip(data["starts"], data["active"])]
        pieces = [Piece(int(w), int(l), float(s)) for w, l, s in data["pieces"]]
        return Pieces(windows, pieces, data["embeddings"], len(samples)), 0.0
    from pipeline.threads import torch_threads

    started = time.process_time()
    with torch_threads(threads):
        models = diarize_module.shared_models()
        found = embedded_pieces(samples, models.segmenter, models.encoder)
    spent = time.process_time() - started
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        starts=np.array([w.start for w in found.windows]),
        active=np.stack([w.active for w in found.windows]),
        pieces=np.array([(p.window, p.local, p.seconds) for p in found.pieces]),
        embeddings=found.embeddings,
    )
    return found, spent


def diarized(conversation, found: Pieces, threads: int = 1):
    """The conversation's speakers from its networks' output, as ingest finds them (the slots that
    pause heard again from the audio: relisten.py)."""
    encoder = diarize_module.shared_models(threads).encoder
    return diarize_module.from_pieces(found, None, samples=conversation.samples, encoder=encoder)


def assigned(conversation, result) -> Transcript:
    """The conversation's words, one segment each, given their speakers as ingest gives them (assign.py)."""
    segments = [Segment(a, b, t.strip(), None, [Word(a, b, t)]) for a, b, t, _ in conversation.words]
    transcript = Transcript("long", "", "long", "long", len(conversation.samples) / SR, "en", {}, segments)
    transcript.diarization = result.to_dict()
    assign(transcript, result.turns)
    return transcript


def wrong_speakers(conversation, result) -> tuple[list[str | None], list[bool]]:
    """Each word's diarized speaker, and whether that speaker is, for most of its words, another
    person: the words roles would file under the wrong person even if every speaker's role were
    inferred right."""
    said = [segment.speaker for segment in assigned(conversation, result).segments]
    truth = [w[3] for w in conversation.words]
    votes: dict[str | None, Counter] = {}
    for speaker, person in zip(said, truth, strict=True):
        votes.setdefault(speaker, Counter())[person] += 1
    majority = {speaker: people.most_common(1)[0][0] for speaker, people in votes.items()}
    return said, [majority[speaker] != person for speaker, person in zip(said, truth, strict=True)]


def wrong_speaker_words(conversation, result) -> int:
    return sum(wrong_speakers(conversation, result)[1])


def wrong_role_words(conversation, result) -> tuple[int, int, int]:
    """Words (Whisper's, placed with their unit) whose diarized speaker's inferred role differs from
    the true speaker's (people[0] interviews). A word whose speaker got no role (the diarizer was
    unsure) is counted apart: no role is not a wrong role, but `--role` cannot find it."""
    transcript = assigned(conversation, result)
    roles = roles_of(transcript, {"kind": "interview"})
    truth = {w[0]: w[3] for w in conversation.words}
    asker = conversation.people[0]
    wrong = unroled = total = 0
    for segment in transcript.segments:
        role = roles[segment.speaker].role if segment.speaker in roles else None
        for word in segment.words:
            true_role = "interviewer" if truth[word.start] == asker else "customer"
            total += 1
            unroled += role is None
            wrong += role is not None and role != true_role
    return wrong, unroled, total


def rows(lengths: list[float], parts: list[str], threads: int, interviews: int = 2) -> list[dict]:
    import long_conversations

    units = long_conversations.units_by_person(ROOT / "build" / "speaker-data", _transcriber(threads))
    out = []
    for part in parts:
        for minutes in lengths:
            for conversation in long_conversations.conversations(units, part, minutes, interviews=interviews):
                found, spent = cached_pieces(conversation.samples, threads)
                started = time.process_time()
                result = diarized(conversation, found, threads)
                spent += time.process_time() - started
                hypothesis = [(t.start, t.end, t.speaker) for t in result.turns]
                scored = diarization_error_rate(conversation.reference, hypothesis, collar=0.25)
                row = {"name": conversation.name, "part": part, "length": minutes, "kind": conversation.kind,
                       "minutes": conversation.minutes, "true_speakers": len(conversation.people), "speakers": len(result.voices),
                       "der": scored.der, "missed": scored.missed, "false_alarm": scored.false_alarm,
                       "confusion": scored.confusion, "scored": scored.total, "diarize_s": spent, "confident": result.confident}
                if conversation.kind == "interview":
                    row["wrong_words"], row["unroled_words"], row["words"] = wrong_role_words(conversation, result)
                    row["wrong_speaker_words"] = wrong_speaker_words(conversation, result)
                out.append(row)
                print(f"{conversation.name}: {row['true_speakers']} -> {row['speakers']}, DER {row['der']:.3f} "
                      f"(missed {row['missed'] / row['scored']:.3f}), wrong-role {row.get('wrong_words', '-')}/{row.get('words', '-')}",
                      file=sys.stderr)
    return out


def _transcriber(threads: int):
    from pipeline.config import Settings
    from pipeline.hearing.transcribe import make_transcriber

    settings = Settings()
    settings.transcribe.threads = threads
    return make_transcriber(settings.transcribe)


def print_table(found: list[dict], command: str) -> None:
    print(f"\nLong conversations built from real speech (`{command}`), by length:")
    print("| part | length | conversations (people) | DER | missed | false alarm | confusion | count exact (2-person) | "
          "count within +-1 (3-4 people) | wrong-speaker words (2-person) | wrong-role words (2-person) | words without a role (unsure) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for part in dict.fromkeys(r["part"] for r in found):
        for length in dict.fromkeys(r["length"] for r in found):
            group = [r for r in found if r["part"] == part and r["length"] == length]
            if not group:
                continue
            scored = sum(r["scored"] for r in group)
            pairs = [r for r in group if r["true_speakers"] == 2]
            many = [r for r in group if r["true_speakers"] > 2]
            words = sum(r.get("words", 0) for r in group)
            wrong = sum(r.get("wrong_words", 0) for r in group)
            unroled = sum(r.get("unroled_words", 0) for r in group)
            wrong_speaker = sum(r.get("wrong_speaker_words", 0) for r in group)
            print(f"| {part} | {length:g} min | {len(group)} ({', '.join(str(r['true_speakers']) for r in group)}) | "
                  f"{sum(r['missed'] + r['false_alarm'] + r['confusion'] for r in group) / scored:.3f} | "
                  f"{sum(r['missed'] for r in group) / scored:.3f} | {sum(r['false_alarm'] for r in group) / scored:.3f} | "
                  f"{sum(r['confusion'] for r in group) / scored:.3f} | "
                  f"{sum(r['speakers'] == 2 for r in pairs)}/{len(pairs)} | "
                  f"{sum(abs(r['speakers'] - r['true_speakers']) <= 1 for r in many)}/{len(many)} | "
                  f"{wrong_speaker / max(words, 1):.1%} | {wrong}/{words} = {wrong / max(words, 1):.1%} | {unroled / max(words, 1):.1%} |")
    for part in dict.fromkeys(r["part"] for r in found):
        print(f"{part} alone: `{_one_part(command, part)}`")
    print("\nPer conversation (true -> found, DER): " + ", ".join(
        f"{r['name']} {r['true_speakers']}->{r['speakers']} {r['der']:.3f}" for r in found))


def _one_part(command: str, part: str) -> str:
    """The bench command that measures just this part (the people of one part only)."""
    before, _, after = command.partition("--parts ")
    lengths = after[after.find("--lengths") :] if "--lengths" in after else ""
    return f"{before}--parts {part} {lengths}".strip()


def stereo_rows(parts: list[str], minutes: float, threads: int) -> list[dict]:
    """The 2-person interviews as stereo phone calls (long_conversations.phone_call), one person per
    channel: diarized by channel (what ingest does when the channels hold separate people) in three
    conditions, to find where a channel-per-person call loses time."""
    import long_conversations

    from pipeline.hearing.speakers.diarize import diarize, separate_channels

    units = long_conversations.units_by_person(ROOT / "build" / "speaker-data")
    conditions = {
        "clean channels, no bleed": {"telephone": False, "bleed_db": -120.0},
        "telephone (8 kHz mu-law), bleed -25 dB": {"telephone": True, "bleed_db": -25.0},
        "telephone, bleed -12 dB (loud echo)": {"telephone": True, "bleed_db": -12.0},
    }
    out = []
    for part in parts:
        for conversation in long_conversations.conversations(units, part, minutes, meetings=0, tracks=True):
            for condition, how in conditions.items():
                if how["telephone"]:
                    channels = long_conversations.phone_call(conversation, bleed_db=how["bleed_db"])
                else:
                    channels = np.stack([conversation.tracks[p] for p in conversation.people])
                mono = channels.mean(axis=0)
                result = diarize(mono, threads=threads, channels=channels)
                scored = diarization_error_rate(conversation.reference, [(t.start, t.end, t.speaker) for t in result.turns])
                out.append({"name": conversation.name, "part": part, "condition": condition, "separate": separate_channels(channels),
                            "method": result.method, "der": scored.der, "missed": scored.missed,
                            "false_alarm": scored.false_alarm, "confusion": scored.confusion, "scored": scored.total})
                print(f"{conversation.name} {condition}: DER {scored.der:.3f} ({result.method})", file=sys.stderr)
    return out


def print_stereo(found: list[dict], command: str) -> None:
    print(f"\nStereo phone calls, one person per channel (`{command}`):")
    print("| part | condition | calls | channels taken as people | DER | missed | false alarm | confusion |")
    print("|---|---|---|---|---|---|---|---|")
    for part in dict.fromkeys(r["part"] for r in found):
        for condition in dict.fromkeys(r["condition"] for r in found):
            group = [r for r in found if r["part"] == part and r["condition"] == condition]
            scored = sum(r["scored"] for r in group)
            print(f"| {part} | {condition} | {len(group)} | {sum(r['separate'] for r in group)}/{len(group)} | "
                  f"{sum(r['missed'] + r['false_alarm'] + r['confusion'] for r in group) / scored:.3f} | "
                  f"{sum(r['missed'] for r in group) / scored:.3f} | {sum(r['false_alarm'] for r in group) / scored:.3f} | "
                  f"{sum(r['confusion'] for r in group) / scored:.3f} |")
