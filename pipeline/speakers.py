"""Who spoke when: offline diarization, words assigned to speakers, and interview/podcast roles.

Diarization: Silero VAD (shipped with faster-whisper) finds speech; resemblyzer's speaker encoder
(weights shipped in its wheel) embeds 1.6 s windows of it; agglomerative clustering on cosine
distance picks the number of speakers (1-6) unless it is given; each 10 ms of speech takes the label
of the nearest window. Whisper's segments straddle speaker changes, so words are assigned one by one
and segments rebuilt so none spans two speakers.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.transcripts import Segment, Transcript, Word

SAMPLE_RATE = 16000
HOP = 160  # samples per mel frame (10 ms), as the encoder was trained
N_FFT = 400  # 25 ms analysis window
MEL_BLOCK_FRAMES = 8192  # about 80 s of audio per block of the mel computation
WINDOW_FRAMES = 160  # 1.6 s windows, the encoder's training length
STEP_FRAMES = 40  # a window every 0.4 s
MAX_WINDOWS = 4000  # about 27 minutes of speech at that step; longer recordings get a longer step
BATCH = 128  # windows per encoder pass: bounds memory on long recordings
MIN_WINDOW_FRAMES = 50  # shorter speech regions are still embedded, as one shorter window
MAX_SPEAKERS = 6
# Cosine distance between cluster averages above which two clusters are two voices. Windows of
# one voice sit about 0.1-0.25 apart, two synthetic voices about 0.6, two people on a phone line
# about 0.33 (the pyannote sample call).
DISTANCE_THRESHOLD = 0.30
# A cluster holding less speech than this is a few transitional windows, not a person.
MIN_SPEAKER_SECONDS = 2.0
MIN_TURN_SECONDS = 0.3  # shorter label flips inside speech are smoothed away
MAX_PAUSE_SECONDS = 1.0  # one speaker's silences shorter than this stay inside the turn
METHOD = "vad+resemblyzer+agglomerative/1"

ROLES = {"interview": ("interviewer", "customer"), "podcast": ("host", "guest")}
ASKER_ROLES = ("interviewer", "host")


@dataclass
class SpeakerTurn:
    start: float
    end: float
    speaker: str


class VoiceEncoder:
    """resemblyzer's speaker encoder, loaded from the wheel's own weights.

    The network is rebuilt here rather than imported: importing the `resemblyzer` package imports
    webrtcvad, which fails with current setuptools (no pkg_resources), and its VAD is not needed.
    """

    def __init__(self, threads: int = 0):
        import torch

        spec = importlib.util.find_spec("resemblyzer")
        if spec is None or spec.origin is None:
            raise ConfigError("resemblyzer is not installed; run: pip install resemblyzer")
        weights = Path(spec.origin).parent / "pretrained.pt"
        if threads > 0:
            torch.set_num_threads(threads)

        class Encoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
                self.linear = torch.nn.Linear(256, 256)

            def forward(self, mels):
                _, (hidden, _) = self.lstm(mels)
                raw = torch.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

        self._torch = torch
        self.model = Encoder()
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self.model.load_state_dict({k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))})
        self.model.eval()

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(windows, frames, 40) mel power frames -> (windows, 256) unit vectors."""
        with self._torch.inference_mode():
            return np.concatenate([
                self.model(self._torch.from_numpy(np.ascontiguousarray(mels[i: i + BATCH], dtype=np.float32))).numpy()
                for i in range(0, len(mels), BATCH)
            ])


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, the encoder's input (not log-scaled: as trained).

    The same numbers as resemblyzer's librosa.feature.melspectrogram(n_fft=400, hop_length=160,
    n_mels=40), computed with numpy: librosa's first call compiles numba code for half a minute.
    """
    # The encoder was trained on speech normalized to -30 dBFS; quieter audio is raised to it.
    rms = _rms(samples)
    padded = np.zeros(len(samples) + 2 * (N_FFT // 2), dtype=np.float32)
    padded[N_FFT // 2 : N_FFT // 2 + len(samples)] = samples
    if 0 < rms < 10 ** (-30 / 20):
        padded *= 10 ** (-30 / 20) / rms
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]  # a view: no copy
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    filterbank = _mel_filterbank().T
    out = np.empty((len(frames), filterbank.shape[1]), dtype=np.float32)
    # A block at a time: the whole recording's windowed frames and their complex spectrum would
    # cost about 30x the audio itself (6.9 GB of peak memory for a 2-hour recording).
    for start in range(0, len(frames), MEL_BLOCK_FRAMES):
        block = frames[start : start + MEL_BLOCK_FRAMES]
        power = np.abs(np.fft.rfft(block * window, axis=1)) ** 2
        out[start : start + len(block)] = power @ filterbank
    return out


def _rms(samples: np.ndarray, block: int = 1 << 20) -> float:
    if not len(samples):
        return 0.0
    total = 0.0
    for start in range(0, len(samples), block):
        piece = samples[start : start + block].astype(np.float64)
        total += float(np.dot(piece, piece))
    return float(np.sqrt(total / len(samples)))


def _hz_to_mel(hz):
    # Slaney's scale: linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    return np.where(hz < 1000, hz / (200 / 3), 15 + np.log(np.maximum(hz, 1e-10) / 1000) / (np.log(6.4) / 27))


def _mel_to_hz(mel):
    return np.where(mel < 15, mel * (200 / 3), 1000 * np.exp((np.log(6.4) / 27) * (mel - 15)))


def _mel_filterbank(n_mels: int = 40) -> np.ndarray:
    """Slaney-normalized triangular filters, as librosa.filters.mel builds by default."""
    fft_hz = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(0), _hz_to_mel(SAMPLE_RATE / 2), n_mels + 2))
    widths = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return weights * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) in mel frames of speech, from the Silero VAD that faster-whisper ships."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Far shorter silences than Whisper's default (2 s) split regions, so even a quick reply (0.15 s
    # gap) starts a region of its own and no window straddles the two voices.
    options = VadOptions(min_silence_duration_ms=100, speech_pad_ms=60, min_speech_duration_ms=150)
    return [(s["start"] // HOP, s["end"] // HOP) for s in get_speech_timestamps(samples, options)]


def diarize(samples: np.ndarray, num_speakers: int | None = None, encoder: VoiceEncoder | None = None) -> list[SpeakerTurn]:
    """Speaker turns of 16 kHz mono audio, speakers named S1, S2, ... in order of first speech."""
    if num_speakers is not None and not 1 <= num_speakers <= MAX_SPEAKERS:
        raise ConfigError(f"number of speakers must be 1 to {MAX_SPEAKERS}, got {num_speakers}")
    regions = speech_regions(samples)
    if not regions:
        return []
    mels = mel_frames(samples)
    centers, vectors = _window_embeddings(mels, regions, encoder or shared_encoder())
    labels = _cluster(vectors, centers, num_speakers)

    frame_labels = np.full(len(mels), -1)
    centers = np.asarray(centers)
    for start, end in regions:
        frames = np.arange(start, min(end, len(mels)))
        # The nearest window centre of each frame: the one at or after it, or the one before.
        after = np.clip(np.searchsorted(centers, frames), 0, len(centers) - 1)
        before = np.clip(after - 1, 0, len(centers) - 1)
        nearest = np.where(np.abs(centers[before] - frames) <= np.abs(centers[after] - frames), before, after)
        frame_labels[frames] = labels[nearest]
    return _turns(frame_labels)


def _window_embeddings(mels: np.ndarray, regions: list[tuple[int, int]], encoder: VoiceEncoder):
    full, full_centers, short = [], [], []
    # Long recordings get sparser windows, so clustering (quadratic in windows) stays affordable.
    speech = sum(min(end, len(mels)) - start for start, end in regions)
    step = max(STEP_FRAMES, speech // MAX_WINDOWS)
    for start, end in regions:
        end = min(end, len(mels))
        length = end - start
        if length >= WINDOW_FRAMES:
            starts = list(range(start, end - WINDOW_FRAMES + 1, step))
            if starts[-1] != end - WINDOW_FRAMES:
                starts.append(end - WINDOW_FRAMES)
            for s in starts:
                full.append(mels[s: s + WINDOW_FRAMES])
                full_centers.append(s + WINDOW_FRAMES // 2)
        elif length >= MIN_WINDOW_FRAMES:
            short.append((start, end))
        else:
            # Too short to judge a voice alone: judged with its surroundings.
            middle = (start + end) // 2
            lo = max(0, min(middle - MIN_WINDOW_FRAMES // 2, len(mels) - MIN_WINDOW_FRAMES))
            short.append((lo, lo + MIN_WINDOW_FRAMES))
    centers, vectors = [], []
    if full:
        vectors.append(encoder.embed(np.stack(full)))
        centers += full_centers
    for start, end in short:
        vectors.append(encoder.embed(mels[None, start:end]))
        centers.append((start + end) // 2)
    order = np.argsort(centers, kind="stable")
    return [centers[i] for i in order], np.concatenate(vectors)[order]


def _cluster(vectors: np.ndarray, centers: list[int], num_speakers: int | None) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) == 1 or num_speakers == 1:
        return np.zeros(len(vectors), dtype=int)
    if num_speakers is not None:
        # Ward on unit vectors: average linkage, asked for a count, splits off single odd windows.
        labels = AgglomerativeClustering(n_clusters=min(num_speakers, len(vectors)), linkage="ward").fit_predict(vectors)
    else:
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
        ).fit_predict(vectors)
        labels = _drop_small_clusters(vectors, labels)
        if len(set(labels)) > MAX_SPEAKERS:
            labels = AgglomerativeClustering(n_clusters=MAX_SPEAKERS, linkage="ward").fit_predict(vectors)
    # One pass of k-means style refinement: each window joins the nearest speaker average, which
    # pulls back windows that average linkage left with the wrong group.
    for _ in range(2):
        means = _means(vectors, labels)
        labels = np.array(sorted(means))[np.argmax(vectors @ np.stack([means[k] for k in sorted(means)]).T, axis=1)]
    # S1 is whoever speaks first.
    order = {old: new for new, old in enumerate(dict.fromkeys(labels[np.argsort(centers, kind="stable")]))}
    return np.array([order[label] for label in labels])


def _means(vectors: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    means = {}
    for label in set(labels.tolist()):
        mean = vectors[labels == label].mean(axis=0)
        means[label] = mean / np.linalg.norm(mean)
    return means


def _drop_small_clusters(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    seconds_per_window = STEP_FRAMES * HOP / SAMPLE_RATE  # at least: long recordings step further
    counts = {label: int((labels == label).sum()) for label in set(labels.tolist())}
    keep = [label for label, count in counts.items() if count * seconds_per_window >= MIN_SPEAKER_SECONDS]
    if not keep:
        return np.zeros(len(labels), dtype=int)
    means = _means(vectors, labels)
    kept = np.stack([means[k] for k in keep])
    return np.array([label if label in keep else keep[int(np.argmax(kept @ vectors[i]))] for i, label in enumerate(labels)])


def _turns(frame_labels: np.ndarray) -> list[SpeakerTurn]:
    """Runs of one label -> turns; flips shorter than MIN_TURN_SECONDS inside speech are absorbed."""
    runs: list[list[int]] = []  # [label, start frame, end frame]
    for i, label in enumerate(frame_labels.tolist()):
        if runs and runs[-1][0] == label and runs[-1][2] == i:
            runs[-1][2] = i + 1
        else:
            runs.append([label, i, i + 1])
    min_frames = MIN_TURN_SECONDS * SAMPLE_RATE / HOP
    speech = [r for r in runs if r[0] >= 0]
    for i, run in enumerate(speech):
        if run[2] - run[1] < min_frames and 0 < i < len(speech) - 1:
            before, after = speech[i - 1], speech[i + 1]
            if before[0] == after[0] and before[2] == run[1] and after[1] == run[2]:
                run[0] = before[0]
    turns: list[SpeakerTurn] = []
    for label, start, end in speech:
        name = f"S{label + 1}"
        # A pause between two sentences of one speaker is part of the turn.
        if turns and turns[-1].speaker == name and start * HOP / SAMPLE_RATE - turns[-1].end < MAX_PAUSE_SECONDS:
            turns[-1].end = end * HOP / SAMPLE_RATE
        else:
            turns.append(SpeakerTurn(start * HOP / SAMPLE_RATE, end * HOP / SAMPLE_RATE, name))
    return [SpeakerTurn(round(t.start, 3), round(t.end, 3), t.speaker) for t in turns]


# --- words to speakers -------------------------------------------------------------------------


def assign(transcript: Transcript, turns: list[SpeakerTurn]) -> Transcript:
    """Give every word the speaker whose turn it overlaps most (else the nearest turn), then split
    segments wherever the speaker changes. Segments without word timings are assigned whole."""
    if not turns:
        return transcript
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            segments.append(Segment(segment.start, segment.end, segment.text, _speaker_at(turns, segment.start, segment.end)))
            continue
        run: list[Word] = []
        speaker = None
        for word in segment.words:
            who = _speaker_at(turns, word.start, word.end)
            if run and who != speaker:
                segments.append(_segment_of(run, speaker))
                run = []
            run.append(word)
            speaker = who
        segments.append(_segment_of(run, speaker))
    transcript.segments = segments
    return transcript


def _speaker_at(turns: list[SpeakerTurn], start: float, end: float) -> str:
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best is not None:
        return best
    middle = (start + end) / 2
    return min(turns, key=lambda t: 0.0 if t.start <= middle <= t.end else min(abs(t.start - middle), abs(t.end - middle))).speaker


def _segment_of(words: list[Word], speaker: str | None) -> Segment:
    return Segment(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), speaker, list(words))


def ensure_diarized(transcript: Transcript, audio_path: Path | None, num_speakers: int | None, threads: int = 0) -> bool:
    """Diarize the transcript's audio unless done with the same requested count; True if it changed.

    Transcripts whose text came with speaker names (imports) keep them. Only the audio is read again:
    the words are never re-transcribed.
    """
    if any(s.speaker for s in transcript.segments) and (transcript.diarization or {}).get("method") in (None, "transcript"):
        if transcript.diarization is None:
            transcript.diarization = {"method": "transcript"}
            return True
        return False
    done = transcript.diarization or {}
    if done.get("method") == METHOD and done.get("num_speakers") == num_speakers:
        return False
    if audio_path is None:
        if done.get("method") == "none":
            return False
        transcript.diarization = {"method": "none", "reason": "no audio"}
        return True
    from pipeline import audio

    from pipeline.errors import HeardError, RecordingError

    started = time.monotonic()
    samples = audio.decode_audio(audio_path)
    try:
        turns = diarize(samples, num_speakers, shared_encoder(threads))
    except HeardError:
        raise
    except Exception as exc:  # odd audio must not stop the other recordings; the transcript is kept
        raise RecordingError(audio_path, f"finding speakers failed ({type(exc).__name__}: {exc})") from exc
    for segment in transcript.segments:
        segment.speaker = None
    assign(transcript, turns)
    transcript.diarization = {
        "method": METHOD,
        "num_speakers": num_speakers,
        "speakers": len({t.speaker for t in turns}),
        "seconds": round(time.monotonic() - started, 3),
    }
    return True


# --- roles -------------------------------------------------------------------------------------


def speaker_order(transcript: Transcript) -> list[str]:
    return list(dict.fromkeys(s.speaker for s in transcript.segments if s.speaker))


def infer_roles(transcript: Transcript, kind: str | None = None) -> dict[str, str]:
    """interviewer/customer (podcast: host/guest) per speaker, from who asks and who talks.

    The asker is the speaker with the highest share of question sentences, less half their share
    of all words: interviewers ask most of the questions and say the least. Everyone else answers.
    """
    from pipeline.chunking import sentences

    asker_role, answer_role = ROLES.get(kind or "interview", ROLES["interview"])
    order = speaker_order(transcript)
    if not order:
        return {}
    if len(order) == 1:
        return {order[0]: answer_role}
    questions = dict.fromkeys(order, 0)
    total = dict.fromkeys(order, 0)
    words = dict.fromkeys(order, 0)
    for sentence in sentences(transcript):
        if sentence.speaker is None:
            continue
        total[sentence.speaker] += 1
        words[sentence.speaker] += len(sentence.text.split())
        questions[sentence.speaker] += sentence.text.rstrip().endswith("?")
    all_words = sum(words.values()) or 1
    all_questions = sum(questions.values()) or 1
    score = {s: questions[s] / all_questions - 0.5 * words[s] / all_words for s in order}
    asker = max(order, key=lambda s: score[s])
    return {s: asker_role if s == asker else answer_role for s in order}


@dataclass
class Person:
    name: str  # what hits show: a given name, or the transcript's label (S1, "Dana" from a .vtt)
    role: str | None


def people(transcript: Transcript, meta: dict[str, Any]) -> dict[str, Person]:
    """Each speaker label in the transcript -> the name and role hits carry.

    Roles are inferred, then metadata `speakers` entries override: an entry keyed by a label or a
    transcript name sets that speaker; an entry that matches no label names the speaker whose role
    it gives (`{name: Dana, role: interviewer}` names the inferred interviewer).
    """
    kind = meta.get("kind")
    inferred = infer_roles(transcript, kind)
    found = {label: Person(label, role) for label, role in inferred.items()}
    explicit_roles: set[str] = set()
    unmatched = []
    for entry in meta.get("speakers", []):
        key = entry.get("label") or entry.get("name")
        label = next((l for l in found if l.lower() == str(key).lower()), None)
        if label is None:
            unmatched.append(entry)
            continue
        if entry.get("name"):
            found[label].name = entry["name"]
        if entry.get("role"):
            found[label].role = entry["role"]
            explicit_roles.add(label)
    for entry in unmatched:
        if not entry.get("role"):
            continue
        for label, person in found.items():
            if person.role == entry["role"] and label not in explicit_roles and person.name == label:
                person.name = entry.get("name") or person.name
                explicit_roles.add(label)
                break
    asker_role, answer_role = ROLES.get(kind or "interview", ROLES["interview"])
    if any(found[l].role == asker_role for l in explicit_roles):
        # Metadata says who asks: every speaker it does not name answers.
        for label, person in found.items():
            if label not in explicit_roles and person.role == asker_role:
                person.role = answer_role
    return found


@functools.lru_cache(maxsize=2)
def shared_encoder(threads: int = 0) -> VoiceEncoder:
    """One encoder per process: loading the weights costs about a second."""
    return VoiceEncoder(threads)


def label_chunks(chunks: list, transcript: Transcript, meta: dict[str, Any]) -> list:
    """Give chunks their speaker's name and role, and the recording's title and metadata."""
    from pipeline.metadata import chunk_fields

    found = people(transcript, meta)
    fields = chunk_fields(meta)
    for chunk in chunks:
        person = found.get(chunk.speaker) if chunk.speaker else None
        if person is not None:
            chunk.speaker, chunk.role = person.name, person.role
        chunk.title = meta.get("title") or chunk.title
        chunk.metadata = dict(fields)
    return chunks


def embedding_texts(chunks: list) -> list[str]:
    """What each chunk is embedded as: its own words, and for an answer the question just before it.

    "Almost three weeks." means nothing without "How long did onboarding take?". The quote shown
    stays the answer alone; only its vector carries the question's topic.
    """
    texts = []
    for i, chunk in enumerate(chunks):
        before = chunks[i - 1] if i else None
        asked = before is not None and before.role in ASKER_ROLES and before.text.rstrip().endswith("?")
        texts.append(f"{before.text} {chunk.text}" if asked and chunk.role not in ASKER_ROLES else chunk.text)
    return texts
