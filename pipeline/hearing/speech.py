"""One speech detector for words and speakers: where the speaker model (segmentation-3.0) hears
someone and Whisper (after its Silero VAD) wrote nothing, Whisper listens again without its VAD.

Silero VAD and segmentation-3.0 disagree on far-field and quiet speech: two far-field meeting
clips failed with "no speech found" while the speaker model heard people in them. `unheard`
gives the stretches the speaker model hears that no word covers; `transcribe_regions` decodes
just those (joined into one stream, so Whisper's fixed cost per 30 s window is paid once, and
the times mapped back), and `reconcile` adds what it finds to the transcript's segments.

When even that finds no word, `last_resort` listens once more where the speaker model gives anyone
a fair chance of speaking (QUIET_SPEECH_PROBABILITY, below its most likely class) and keeps only
what Whisper is sure of (`confident`): AMI trn01, four people at the far end of a meeting room,
had no region the speaker model's most likely class called speech.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from pipeline.transcripts import Segment

if TYPE_CHECKING:
    from pipeline.hearing.speakers.segmentation import Window
    from pipeline.hearing.transcribe import Transcriber

SAMPLE_RATE = 16_000
# Speech the speaker model hears is listened to again when no word of Whisper's lies within it
# for at least this long: shorter stretches are a breath or the edge of a word.
MIN_UNHEARD_SECONDS = 1.0
PAD_SECONDS = 0.2  # each stretch is decoded with this much audio either side
GAP_SECONDS = 0.5  # silence put between stretches when they are joined into one stream
Region = tuple[float, float]

# The last resort (only where nothing else found a word): frames where the segmentation model gives
# speech at least this probability. AMI trn01's "Yeah, you test the battery last time." (18.7-19.7 s)
# peaks at 0.50 while "nobody" stays the likeliest class; music and room noise reach 0.3 too, so
# what Whisper writes there must pass `confident`.
QUIET_SPEECH_PROBABILITY = 0.3
# Whisper's own guards, stricter: it drops a window as silence only when no_speech_prob > 0.6 AND
# avg_logprob < -1.0. Measured on what Whisper wrote in these regions (docs/benchmarks.md, "No speech
# found: the last resort"):
# real far-field speech had no_speech_prob 0.14-0.72 and avg_logprob >= -0.94; its "Thank you." and
# "So that's all I've got about here." on quiet music 0.82-0.87, "propane." in room noise -1.38.
MAX_NO_SPEECH_PROBABILITY = 0.75
MIN_AVG_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4  # Whisper's own: higher is a loop ("yeah yeah yeah ...")
MIN_MEAN_WORD_PROBABILITY = 0.3
# The last resort stops after this many regions in a row (likeliest speech first) give nothing sure:
# it bounds the cost where nobody speaks (AMI trn01 has one region; 5 min of quiet music 37).
GIVE_UP_AFTER = 8


def speech_regions(windows: Iterable[Window]) -> list[Region]:
    """(start, end) seconds where the segmentation model hears anyone, touching runs joined."""
    from pipeline.hearing.speakers.pieces import runs
    from pipeline.hearing.speakers.segmentation import FRAME_STEP, FRAMES, WINDOW, frame_seconds

    regions: list[Region] = []
    for window in windows:
        start = window.start / SAMPLE_RATE
        for first, last in runs(np.asarray(window.active.any(axis=1))):
            # Speech running into the window's edge runs to the edge: the next window goes on.
            a = start if first == 0 else start + frame_seconds(first) - FRAME_STEP / 2
            b = start + WINDOW / SAMPLE_RATE if last == FRAMES else start + frame_seconds(last - 1) + FRAME_STEP / 2
            regions.append((a, b))
    return _joined(sorted(regions), 0.0)


def unheard(regions: list[Region], segments: list[Segment], *, at_least: float = MIN_UNHEARD_SECONDS) -> list[Region]:
    """The parts of `regions`, at least `at_least` seconds long, that no word (or, without word
    timings, no segment) of `segments` overlaps."""
    said = sorted([(w.start, w.end) for s in segments for w in s.words] + [(s.start, s.end) for s in segments if not s.words])
    out: list[Region] = []
    for a, b in regions:
        cursor = a
        for start, end in said:
            if end <= cursor or start >= b:
                continue
            if start > cursor and start - cursor >= at_least:
                out.append((cursor, start))
            cursor = max(cursor, end)
        if b > cursor and b - cursor >= at_least:
            out.append((cursor, b))
    return out


def transcribe_regions(transcriber: Transcriber, samples: np.ndarray, regions: list[Region]) -> list[Segment]:
    """Whisper's segments of just these regions (VAD off: the speaker model already said they hold
    speech), with times in the recording."""
    pad, gap = int(PAD_SECONDS * SAMPLE_RATE), np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    offsets: list[tuple[float, float, float]] = []  # start in the stream, end in it, shift to the recording
    at = 0
    for a, b in _joined(regions, 2 * PAD_SECONDS):
        first, last = max(int(a * SAMPLE_RATE) - pad, 0), min(int(b * SAMPLE_RATE) + pad, len(samples))
        parts += [samples[first:last], gap]
        offsets.append((at / SAMPLE_RATE, (at + last - first) / SAMPLE_RATE, (first - at) / SAMPLE_RATE))
        at += last - first + len(gap)
    if not parts:
        return []
    found, _ = transcriber.transcribe(np.concatenate(parts), vad_filter=False)
    return [s for s in (_moved(segment, offsets) for segment in found) if s is not None]


def reconcile(
    segments: list[Segment], samples: np.ndarray, windows: Iterable[Window], transcriber: Transcriber
) -> tuple[list[Segment], float]:
    """The segments with what Whisper hears in the speaker model's speech that they missed, in time
    order; and the seconds of speech listened to again. With no word at all, every stretch the
    speaker model hears is listened to, however short: a lone far-field "okay" (0.7 s, AMI trn02)
    is then the only speech there is, not a breath between words."""
    said = any(s.text for s in segments)
    missing = unheard(speech_regions(windows), segments, at_least=MIN_UNHEARD_SECONDS if said else 0.0)
    if not missing:
        return segments, 0.0
    found = [s for s in transcribe_regions(transcriber, samples, missing) if s.text]
    return sorted(segments + found, key=lambda s: s.start), sum(b - a for a, b in missing)


def quiet_speech_regions(probabilities: Iterable[tuple[int, np.ndarray]]) -> list[Region]:
    """(start, end) seconds where the segmentation model gives speech at least QUIET_SPEECH_PROBABILITY,
    the likeliest speech first; `probabilities` are (first sample, per-frame probability) per window
    (Segmenter.speech_probability)."""
    from pipeline.hearing.speakers.segmentation import FRAME_STEP, Window

    windows = list(probabilities)
    regions = _joined(
        speech_regions(Window(start, (p >= QUIET_SPEECH_PROBABILITY)[:, None]) for start, p in windows), 2 * PAD_SECONDS
    )

    def peak(region: Region) -> float:
        best = 0.0
        for start, p in windows:
            first, last = ((t - start / SAMPLE_RATE) / FRAME_STEP for t in region)
            if last >= 0 and first < len(p):
                best = max(best, float(p[max(int(first), 0) : max(int(last) + 1, 1)].max(initial=0.0)))
        return best

    return sorted(regions, key=peak, reverse=True)


def confident(*, no_speech_probability: float, avg_logprob: float, compression_ratio: float, words: list[float]) -> bool:
    """Whether Whisper is sure enough of a segment it wrote where no detector was sure of speech
    (`words`: its words' probabilities)."""
    return (
        no_speech_probability <= MAX_NO_SPEECH_PROBABILITY
        and avg_logprob >= MIN_AVG_LOGPROB
        and compression_ratio <= MAX_COMPRESSION_RATIO
        and bool(words)
        and sum(words) / len(words) >= MIN_MEAN_WORD_PROBABILITY
    )


def last_resort(transcriber: Transcriber, samples: np.ndarray, regions: list[Region]) -> list[Segment]:
    """What Whisper writes, and is `confident` of, in each region alone (VAD off), in time order with
    times in the recording. Each region is decoded on its own: joined into one stream, a weak first
    region made Whisper drop the whole 30 s window as silence (AMI trn01's one sentence was lost).
    Regions are tried in the order given (the likeliest speech first) and the search stops after
    GIVE_UP_AFTER in a row with nothing sure: on 5 min of quiet music, 22 s of CPU for 8 of its 37
    regions (45 s for all of them before regions 0.4 s apart were joined; Whisper itself 1.0 s)."""
    pad = int(PAD_SECONDS * SAMPLE_RATE)
    found: list[Segment] = []
    empty = 0
    for a, b in regions:
        first, last = max(int(a * SAMPLE_RATE) - pad, 0), min(int(b * SAMPLE_RATE) + pad, len(samples))
        segments, _ = transcriber.transcribe(samples[first:last], vad_filter=False, confident_only=True)
        offsets = [(0.0, (last - first) / SAMPLE_RATE, first / SAMPLE_RATE)]
        kept = [m for m in (_moved(s, offsets) for s in segments if s.text) if m is not None]
        found += kept
        empty = 0 if kept else empty + 1
        if empty >= GIVE_UP_AFTER:
            break
    return sorted(found, key=lambda s: s.start)


def _moved(segment: Segment, offsets: list[tuple[float, float, float]]) -> Segment | None:
    """The segment with its stream times turned into recording times; words in the silence between
    two regions are dropped (None when nothing is left)."""

    def shift(t: float) -> float | None:
        return next((t + d for a, b, d in offsets if a - 0.05 <= t <= b + 0.05), None)

    words = []
    for word in segment.words:
        start, end = shift(word.start), shift(word.end)
        if start is not None and end is not None:
            words.append(dataclasses.replace(word, start=round(start, 3), end=round(end, 3)))
    if segment.words and not words:
        return None
    start, end = (words[0].start, words[-1].end) if words else (shift(segment.start), shift(segment.end))
    if start is None or end is None:
        return None
    text = "".join(w.text for w in words).strip() if words else segment.text
    return dataclasses.replace(segment, start=round(start, 3), end=round(end, 3), text=text, words=words)


def _joined(regions: list[Region], within: float) -> list[Region]:
    out: list[Region] = []
    for a, b in regions:
        if out and a <= out[-1][1] + within:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
