"""Speech in another language to English text: Whisper's own translation (`task="translate"`), with
the multilingual model the transcripts use (English-only models such as tiny.en cannot translate:
Whisper base, whose weights ship offline, does it for them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline import threads
from pipeline.config import TranscribeSettings
from pipeline.hearing import weights

# The model that translates when transcribe.model hears English only.
MULTILINGUAL_FALLBACK = "base"


def translation_model(settings: TranscribeSettings) -> str:
    """transcribe.model when it is multilingual, else Whisper base."""
    name = settings.model.rstrip("/")
    return MULTILINGUAL_FALLBACK if name.endswith(".en") else settings.model


class SpeechTranslator:
    """faster-whisper with task=translate; the model loads on first use and stays loaded."""

    def __init__(self, settings: TranscribeSettings) -> None:
        self.settings = settings
        self.model_name = translation_model(settings)
        self._model: Any = None  # faster_whisper.WhisperModel (untyped)

    def _load(self) -> Any:
        if self._model is None:
            threads.wait_passively()  # before CTranslate2 loads its OpenMP runtime
            from faster_whisper import WhisperModel

            source = weights.resolve_whisper_ct2(self.model_name)
            self._model = WhisperModel(
                source, device="cpu", compute_type="int8", cpu_threads=threads.transcribe_threads(self.settings)
            )
        return self._model

    def translate(self, samples: np.ndarray, language: str | None) -> str:
        """The English of what is said in `samples` (16 kHz mono), spoken in `language` (None: detect)."""
        pieces, _info = self._load().transcribe(
            samples,
            task="translate",
            language=language,
            beam_size=self.settings.beam_size,
            vad_filter=False,  # the span is a quote: all of it is speech
            condition_on_previous_text=False,
        )
        return " ".join(piece.text.strip() for piece in pieces).strip()
