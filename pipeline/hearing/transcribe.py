"""Speech to timestamped text: the Transcriber protocol and its two Whisper backends."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pipeline import model_cache, threads
from pipeline.config import TranscribeSettings
from pipeline.errors import ConfigError, RecordingError
from pipeline.files import JsonObject
from pipeline.hearing import audio, weights
from pipeline.hearing.speech import confident, last_resort, quiet_speech_regions, reconcile
from pipeline.sources.discovery import Recording
from pipeline.transcripts import Segment, Transcript, Word

if TYPE_CHECKING:
    from pipeline.hearing.speakers.segmentation import Window

Progress = Callable[[float, float], None]  # seconds of audio done, seconds in all
SecondsDone = Callable[[float], None]  # seconds of audio done
WordTiming = tuple[float, float, str, float | None]  # start, end, text, probability
BACKENDS = ("faster-whisper", "openai-whisper")


class Transcriber(Protocol):
    def describe(self) -> JsonObject:
        """Backend, model and the settings that change the text, stored with each transcript."""

    def transcribe(
        self,
        samples: np.ndarray,
        on_progress: SecondsDone | None = None,
        *,
        vad_filter: bool | None = None,
        confident_only: bool = False,
    ) -> tuple[list[Segment], str | None]:
        """Segments with word timings, and the language spoken; `vad_filter` overrides the setting;
        `confident_only` keeps only the segments that pass speech.confident (Whisper's guards)."""


def describe(settings: TranscribeSettings) -> JsonObject:
    """What a transcript made with these settings records, without loading a model."""
    options: dict[str, str | int | bool | None] = {
        "beam_size": settings.beam_size,
        "language": settings.language,
        "vad_filter": settings.vad_filter if settings.backend == "faster-whisper" else False,
    }
    if settings.batch_size > 1 and settings.backend == "faster-whisper":
        options["batch_size"] = settings.batch_size  # batching changes the text a little
    return {"backend": settings.backend, "model": settings.model, "settings": options}


def make_transcriber(settings: TranscribeSettings) -> Transcriber:
    if settings.backend == "faster-whisper":
        return FasterWhisperTranscriber(settings)
    if settings.backend == "openai-whisper":
        return OpenAIWhisperTranscriber(settings)
    raise ConfigError(f"transcribe.backend: unknown backend '{settings.backend}'; use one of {', '.join(BACKENDS)}")


def transcribe_recording(
    recording: Recording,
    transcriber: Transcriber,
    *,
    samples: np.ndarray | None = None,
    on_progress: Progress | None = None,
    speech: Callable[[np.ndarray], Iterable[Window]] | None = None,
    rehear: bool = False,
) -> Transcript:
    """The recording's transcript (`hear`'s segments); `samples` are its decoded audio when the
    caller has them already. A recording fails for "no speech" only when neither Whisper nor the
    speaker model hears anyone."""
    if samples is None:
        samples = audio.decode_audio(recording.path)
    duration = len(samples) / audio.SAMPLE_RATE
    report = (lambda done: on_progress(min(done, duration), duration)) if on_progress else None
    if report:
        report(0.0)
    try:
        segments, language = hear(transcriber, samples, on_progress=report, speech=speech, rehear=rehear)
    except (ConfigError, RecordingError):
        raise
    except Exception as exc:  # a decoder fault on odd audio must not stop the other recordings
        raise RecordingError(recording.path, f"transcription failed ({type(exc).__name__}: {exc})") from exc
    if not any(s.text for s in segments):
        raise RecordingError(recording.path, f"no speech found in {duration:.0f} s of audio (by Whisper nor the speaker model)")
    return Transcript(
        recording_id=recording.id,
        audio_sha256=recording.sha256,
        source=str(recording.path),
        title=recording.title,
        duration=round(duration, 3),
        language=language,
        transcriber=transcriber.describe(),
        segments=segments,
    )


def hear(
    transcriber: Transcriber,
    samples: np.ndarray,
    *,
    on_progress: SecondsDone | None = None,
    speech: Callable[[np.ndarray], Iterable[Window]] | None = None,
    rehear: bool = False,
    quiet_speech: bool = True,
) -> tuple[list[Segment], str | None]:
    """Whisper's segments of the samples and the language spoken, with what the speaker model hears.

    Speech the speaker model hears (`speech`: the segmentation windows of the samples, computed
    here when not given) where Whisper wrote nothing is listened to again without the VAD
    (speech.reconcile): when Whisper found no word at all, and beside Whisper's words too with
    `rehear` (transcribe.rehear). Only when that still finds no word (and `quiet_speech`),
    speech.last_resort listens where the speaker model gives anyone a fair chance of speaking and
    keeps what Whisper is sure of: nothing here costs anything on a recording where Whisper found
    words."""
    segments, language = transcribe_in_windows(transcriber, samples, on_progress)
    if (rehear and speech is not None) or not any(s.text for s in segments):
        segments, _ = reconcile(segments, samples, (speech or _speaker_model_speech)(samples), transcriber)
    if quiet_speech and not any(s.text for s in segments):
        segments = last_resort(transcriber, samples, quiet_speech_regions(_speaker_model_probability(samples)))
    return segments, language


def _speaker_model_speech(samples: np.ndarray) -> Iterable[Window]:
    """segmentation-3.0's windows of the samples (the speaker models load on first use)."""
    from pipeline.hearing.speakers.diarize import speech_windows

    return speech_windows(samples)


def _speaker_model_probability(samples: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """segmentation-3.0's per-frame probability that anyone speaks, per window."""
    from pipeline.hearing.speakers.diarize import speech_probability

    return speech_probability(samples)


# Whisper's feature extraction holds a spectrogram of all the audio it is given at once (several
# GB for 2 hours; about 470 MB above the model for 10 minutes, measured), so long recordings go in
# windows of about this length, cut at a quiet moment. Whisper itself decodes 30 s at a time.
WINDOW_SECONDS = 180.0
CUT_SEARCH_SECONDS = 20.0  # how far before a window's end to look for the quietest point


def transcribe_in_windows(
    transcriber: Transcriber, samples: np.ndarray, on_progress: SecondsDone | None = None
) -> tuple[list[Segment], str | None]:
    """Segments of the whole recording with times from its start; memory bounded by the window size."""
    segments: list[Segment] = []
    language = None
    for start, end in windows(samples):
        offset = start / audio.SAMPLE_RATE
        report = functools.partial(_shifted_progress, on_progress, offset) if on_progress else None
        found, detected = transcriber.transcribe(samples[start:end], report)
        language = language or detected
        segments += [_shifted(segment, offset) for segment in found]
    return segments, language


def windows(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most WINDOW_SECONDS, each cut at the quietest 0.1 s near its end."""
    rate = audio.SAMPLE_RATE
    size, search, frame = int(WINDOW_SECONDS * rate), int(CUT_SEARCH_SECONDS * rate), rate // 10
    spans, start = [], 0
    while len(samples) - start > size:
        region = samples[start + size - search : start + size]
        energy = np.square(region[: len(region) // frame * frame].reshape(-1, frame)).mean(axis=1)
        cut = start + size - search + int(np.argmin(energy)) * frame + frame // 2
        spans.append((start, cut))
        start = cut
    spans.append((start, len(samples)))
    return spans


def _shifted_progress(on_progress: SecondsDone, offset: float, done: float) -> None:
    on_progress(offset + done)


def _shifted(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    return dataclasses.replace(
        segment,
        start=round(segment.start + offset, 3),
        end=round(segment.end + offset, 3),
        words=[dataclasses.replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3)) for w in segment.words],
    )


class _LazyTranscriber:
    """What both backends share: the settings, a model loaded on first use, and describe()."""

    def __init__(self, settings: TranscribeSettings) -> None:
        self.settings = settings
        # faster_whisper's WhisperModel (or BatchedInferencePipeline) or openai-whisper's Whisper:
        # neither library ships types, so the model is Any here.
        self._model: Any = None

    def describe(self) -> JsonObject:
        return describe(self.settings)


class FasterWhisperTranscriber(_LazyTranscriber):
    """CTranslate2 Whisper: int8 on CPU, float16 on CUDA, Silero VAD to skip silence."""

    def _load(self) -> Any:
        if self._model is None:
            threads.wait_passively()  # before CTranslate2 loads its OpenMP runtime
            import ctranslate2
            from faster_whisper import WhisperModel

            device = self.settings.device
            if device == "auto":
                device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
            compute_type = self.settings.compute_type
            if compute_type == "auto":
                compute_type = "float16" if device == "cuda" else "int8"
            source = weights.resolve_whisper_ct2(self.settings.model)
            try:
                self._model = WhisperModel(
                    source, device=device, compute_type=compute_type, cpu_threads=threads.transcribe_threads(self.settings)
                )
            except Exception as exc:  # hub, file and CTranslate2 errors have no common base
                raise _model_error(self.settings.model, exc) from exc
            self._batch_size = batch_size_for(self.settings, device)
            if self._batch_size > 1:
                from faster_whisper import BatchedInferencePipeline

                self._model = BatchedInferencePipeline(self._model)
        return self._model

    def transcribe(
        self,
        samples: np.ndarray,
        on_progress: SecondsDone | None = None,
        *,
        vad_filter: bool | None = None,
        confident_only: bool = False,
    ) -> tuple[list[Segment], str | None]:
        model = self._load()
        batched = {"batch_size": self._batch_size} if self._batch_size > 1 else {}
        pieces, info = model.transcribe(
            samples,
            beam_size=self.settings.beam_size,
            language=self.settings.language,
            vad_filter=self.settings.vad_filter if vad_filter is None else vad_filter,
            word_timestamps=True,
            **batched,
        )
        segments: list[Segment] = []
        for piece in pieces:
            words = [(w.start, w.end, w.word, w.probability) for w in piece.words or []]
            if not confident_only or _confident(piece.no_speech_prob, piece.avg_logprob, piece.compression_ratio, words):
                segments.append(_segment(piece.start, piece.end, piece.text, words))
            if on_progress:
                on_progress(piece.end)
        language: str | None = info.language
        return segments, language


def batch_size_for(settings: TranscribeSettings, device: str) -> int:
    """Windows decoded at once by faster-whisper's batched pipeline; 1 is the sequential decoder.

    0 (auto) batches on CUDA only: on CPU the batched pipeline is faster but was seen to drop words
    and loop on hard audio (docs/benchmarks.md), so there it is opt-in.
    """
    if settings.batch_size:
        return settings.batch_size
    return 16 if device == "cuda" else 1


class OpenAIWhisperTranscriber(_LazyTranscriber):
    """openai-whisper (PyTorch). Offline, its checkpoint is converted from the bundled CTranslate2 weights."""

    def _load(self) -> Any:
        if self._model is None:
            threads.wait_passively()  # before torch loads its OpenMP runtime
            try:
                import whisper
            except ImportError as exc:
                raise ConfigError("openai-whisper is not installed; run: pip install 'heard[openai]'") from exc
            import torch

            threads.limit_torch(threads.transcribe_threads(self.settings))
            device = self.settings.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self._device = device
            try:
                source = openai_whisper_source(self.settings.model)
                if Path(source).is_file():
                    from pipeline.hearing.convert import load_openai_whisper

                    # Unlike whisper.load_model, this applies the checkpoint's alignment heads,
                    # which word timestamps depend on.
                    self._model = load_openai_whisper(source, device=device)
                else:
                    self._model = whisper.load_model(source, device=device)
            except Exception as exc:
                raise _model_error(self.settings.model, exc) from exc
        return self._model

    def transcribe(
        self,
        samples: np.ndarray,
        on_progress: SecondsDone | None = None,
        *,
        vad_filter: bool | None = None,
        confident_only: bool = False,
    ) -> tuple[list[Segment], str | None]:
        import whisper  # no VAD in openai-whisper: vad_filter changes nothing

        model = self._load()
        result = whisper.transcribe(
            model,
            samples,
            language=self.settings.language or ("en" if not model.is_multilingual else None),
            beam_size=self.settings.beam_size if self.settings.beam_size > 1 else None,
            best_of=5,
            fp16=self._device == "cuda",
            word_timestamps=True,
            verbose=None,
        )
        segments: list[Segment] = []
        for piece in result["segments"]:
            words = [(w["start"], w["end"], w["word"], w.get("probability")) for w in piece.get("words", [])]
            guards = (piece["no_speech_prob"], piece["avg_logprob"], piece["compression_ratio"])
            if not confident_only or _confident(*guards, words):
                segments.append(_segment(piece["start"], piece["end"], piece["text"], words))
            if on_progress:
                on_progress(piece["end"])
        language: str | None = result.get("language")
        return segments, language


def openai_whisper_source(model: str) -> str:
    """A checkpoint path or model name for whisper.load_model; CTranslate2 weights are converted once."""
    from pipeline.hearing.convert import openai_whisper_checkpoint

    path = Path(model).expanduser()
    if path.is_file():
        return str(path)
    ct2 = path if weights.is_ct2_folder(path) else weights.bundled_whisper_ct2(model)
    if ct2 is not None:
        return str(openai_whisper_checkpoint(ct2, model_cache.cache_dir() / "openai-whisper"))
    return model


def _segment(start: float, end: float, text: str, words: Iterable[WordTiming]) -> Segment:
    return Segment(
        start=round(float(start), 3),
        end=round(float(end), 3),
        text=text.strip(),
        words=[
            # Whisper's word text carries its leading space (" 50", ",000"): kept, so joining is exact.
            Word(start=round(float(s), 3), end=round(float(e), 3), text=t, probability=None if p is None else round(float(p), 4))
            for s, e, t, p in words
            if t.strip()
        ],
    )


def _confident(no_speech: float, avg_logprob: float, compression_ratio: float, words: list[WordTiming]) -> bool:
    probabilities = [float(p) for *_, p in words if p is not None]
    return confident(
        no_speech_probability=no_speech, avg_logprob=avg_logprob, compression_ratio=compression_ratio, words=probabilities
    )


def _model_error(model: str, exc: Exception) -> ConfigError:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ConfigError(
        f"transcribe.model '{model}': cannot load ({first_line}); offline, use tiny.en or base, "
        "or give the path of a model folder"
    )
