"""The speaker encoder's input: a mel power spectrogram of 16 kHz audio, computed a block at a time."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
HOP = 160  # samples per mel frame (10 ms), as the encoder was trained
N_FFT = 400  # 25 ms analysis window
MEL_BLOCK_FRAMES = 8192  # about 80 s of audio per block of the mel computation


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
