"""Why words of the long 2-person interviews go to the wrong person: each wrong-speaker word by cause.

    python scripts/long_errors.py [--parts DEV] [--lengths 5 15 30 60] [--interviews 2]

Re-clusters the cached network output (scripts/long_speakers.py; a missing one is computed), gives
the words their speakers as ingest does (assign.py) and counts the wrong-speaker words (the words
whose speaker is mostly another person) by cause, first match wins:
- no slot: no speaker turn covers the word (it went to the nearest turn);
- whole stretch: a run of 10 or more consecutive wrong words of one person lasting 5 s or more
  (clustering took a stretch of one voice for the other);
- near a turn change: within 3 words or 2 s of a true change of speaker;
- under a backchannel or crosstalk: the other person speaks at the same time;
- inside a turn: everything else (shorter wrong runs further from a change).
Each wrong word is also traced to the segmentation model's local speaker ("slot") of the 10 s window
that gave it its speaker (as clustering gave it, before relisten.py hears a slot's runs again):
does that slot's stretch of speech also hold the other person's words
(the model heard both people as one voice), or only this person's (the slot was clustered to the
wrong speaker)? And: how far is the word from the nearest true change, in words.
DEV people only while tuning: the HELD-BACK people are never tuned on.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from pipeline.hearing.speakers import clustering  # noqa: E402
from pipeline.hearing.speakers.pieces import speaker_spans  # noqa: E402
from pipeline.hearing.speakers.segmentation import SAMPLE_RATE, WINDOW  # noqa: E402


def slot_spans(found) -> tuple[list[tuple[float, float, int]], dict[str, int]]:
    """(start, end, speaker index) of every local speaker's run of frames, as the turns are built,
    and the speaker index of each name S1.. (named in order of first speech, as diarize does)."""
    speaker_of = clustering.speakers_of_pieces(found.pieces, found.embeddings, None)
    spans = speaker_spans(found.windows, speaker_of, found.n_samples)
    index_of = {f"S{n + 1}": k for n, k in enumerate(sorted(spans, key=lambda k: min(a for a, _ in spans[k])))}
    out = []
    for w in range(len(found.windows)):
        for local in range(3):
            if (w, local) in speaker_of:
                one = speaker_spans([found.windows[w]], {(0, local): speaker_of[(w, local)]}, found.n_samples)
                # speaker_spans of a lone window has no floor from the window before: clip it back.
                floor = (found.windows[w - 1].start + WINDOW) / SAMPLE_RATE if w else 0.0
                out += [(max(a, floor), b, k) for k, runs in one.items() for a, b in runs if b > floor]
    return out, index_of


def causes_of(conversation, found) -> tuple[Counter, Counter, Counter, int]:
    import long_speakers

    result = long_speakers.diarized(conversation, found)
    said, wrong = long_speakers.wrong_speakers(conversation, result)
    words = conversation.words
    truth = [w[3] for w in words]
    changes = [i for i in range(1, len(words)) if truth[i] != truth[i - 1]]
    change_at = np.array([(words[i - 1][1] + words[i][0]) / 2 for i in changes])
    slots, order = slot_spans(found)
    by_cause, by_slot, by_distance = Counter(), Counter(), Counter()
    i = 0
    while i < len(words):
        if not wrong[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and wrong[j + 1] and truth[j + 1] == truth[i]:
            j += 1
        stretch = j - i + 1 >= 10 and words[j][1] - words[i][0] >= 5.0
        for k in range(i, j + 1):
            a, b = words[k][0], words[k][1]
            steps = min((k - c if k >= c else c - k - 1) for c in changes) if changes else 99
            seconds = float(np.min(np.abs(change_at - (a + b) / 2))) if changes else 99.0
            if not any(t.start < b and t.end > a for t in result.turns):
                cause = "no slot"
            elif stretch:
                cause = "whole stretch (>= 10 words, >= 5 s)"
            elif steps <= 3 or seconds <= 2.0:
                cause = "near a true turn change (<= 3 words or 2 s)"
            elif any(r[0] < b and r[1] > a and r[2] != truth[k] for r in conversation.reference):
                cause = "under a backchannel or crosstalk"
            else:
                cause = "inside a turn"
            by_cause[cause] += 1
            by_distance[min(steps, 10)] += 1
            mine = [s for s in slots if s[0] < b and s[1] > a and s[2] == order.get(said[k])]
            both = any(
                any(t != truth[k] for (x, y, _, t) in words if s[0] <= (x + y) / 2 <= s[1]) for s in mine
            )
            by_slot["the slot holds both people's words" if both else "the slot holds only this person's words"] += 1
        i = j + 1
    return by_cause, by_slot, by_distance, len(words)


def main() -> None:
    import long_conversations
    import long_speakers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["DEV"])
    parser.add_argument("--lengths", type=float, nargs="+", default=[5, 15, 30, 60])
    parser.add_argument("--interviews", type=int, default=2, help="2-person interviews per length (as bench_speakers.py)")
    args = parser.parse_args()
    units = long_conversations.units_by_person(ROOT / "build" / "speaker-data")
    for part in args.parts:
        by_cause, by_slot, by_distance, total = Counter(), Counter(), Counter(), 0
        for minutes in args.lengths:
            for conversation in long_conversations.conversations(units, part, minutes, interviews=args.interviews, meetings=0):
                found, _ = long_speakers.cached_pieces(conversation.samples, 1)
                cause, slot, distance, words = causes_of(conversation, found)
                by_cause, by_slot, by_distance, total = by_cause + cause, by_slot + slot, by_distance + distance, total + words
                print(f"{conversation.name}: {sum(cause.values())}/{words} wrong-speaker words, {dict(cause)}", file=sys.stderr)
        wrong = sum(by_cause.values())
        print(f"\n{part}, {args.interviews} interviews per length ({', '.join(f'{x:g}' for x in args.lengths)} min): "
              f"{wrong}/{total} = {wrong / max(total, 1):.2%} wrong-speaker words")
        print("| cause | words | share |\n|---|---|---|")
        for name, n in by_cause.most_common() + by_slot.most_common():
            print(f"| {name} | {n} | {n / max(wrong, 1):.0%} |")
        print("Words from the nearest true change (0 = the first or last word of a turn; 10 = 10 or more): "
              + ", ".join(f"{d}: {by_distance[d]}" for d in sorted(by_distance)))


if __name__ == "__main__":
    main()
