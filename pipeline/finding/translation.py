"""`--translate`: each quote not in English gets Whisper's English translation of its audio span
(pipeline/hearing/translate.py). Quotes in English, and quotes of transcripts imported without
audio, get none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pipeline.config import TranscribeSettings
from pipeline.errors import RecordingError
from pipeline.finding.hits import Hit
from pipeline.hearing import audio
from pipeline.hearing.translate import SpeechTranslator
from pipeline.sources.discovery import AUDIO_EXTENSIONS

# Around the quote's words: word times are Whisper's, and clipping a syllable costs the translation.
MARGIN_SECONDS = 0.3
# Translations kept per translator, keyed by quote id: the page asks again for the same quote.
KEPT = 512


def language_of(hit: Hit) -> str | None:
    found = (hit.metadata or {}).get("language")
    return str(found) if found else None


def needs_translation(hit: Hit) -> bool:
    """A quote in a known language other than English, whose recording is audio heard can read."""
    language = language_of(hit)
    path = Path(hit.recording)
    return language not in (None, "en") and path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file()


class QuoteTranslator:
    """Translates quotes; the Whisper model and each recording's decoded audio load once per call."""

    def __init__(self, settings: TranscribeSettings) -> None:
        self._speech = SpeechTranslator(settings)
        self._done: dict[str, str | None] = {}

    def translate(self, hits: Sequence[Hit], *, files: Mapping[str, str] | None = None) -> None:
        """Sets `translation` on each hit that needs one (None where the audio cannot be read).
        `files`: the file to read for a recording id instead of the hit's path (the web server's
        file checked as indexed, read through its descriptor)."""
        decoded: dict[str, np.ndarray | None] = {}
        for hit in hits:
            if not needs_translation(hit):
                continue
            if hit.quote_id not in self._done:
                if hit.recording not in decoded:
                    decoded[hit.recording] = _decoded((files or {}).get(hit.recording_id, hit.recording))
                samples = decoded[hit.recording]
                self._remember(hit.quote_id, None if samples is None else self._translate_span(samples, hit))
            hit.translation = self._done[hit.quote_id]

    def _translate_span(self, samples: np.ndarray, hit: Hit) -> str:
        rate = audio.SAMPLE_RATE
        first = max(0, int((hit.start - MARGIN_SECONDS) * rate))
        last = min(len(samples), int((hit.end + MARGIN_SECONDS) * rate))
        return self._speech.translate(samples[first:last], language_of(hit))

    def _remember(self, quote_id: str, translation: str | None) -> None:
        if len(self._done) >= KEPT:
            self._done.pop(next(iter(self._done)))
        self._done[quote_id] = translation


def _decoded(recording: str) -> np.ndarray | None:
    try:
        return audio.decode_audio(recording)
    except (RecordingError, OSError):
        return None  # moved or damaged since it was indexed: no translation, the quote still shows
