"""The ONNX encoder gives the vectors sentence-transformers gives, and search never needs torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from pipeline.config import EmbeddingSettings
from pipeline.indexing.embed import Embedder
from pipeline.indexing.onnx_encoder import OnnxEncoder, ensure_export, model_folder

TEXTS = [
    "what do customers say about exporting data",
    "pricing",
    "The CSV export times out when a workspace has more than fifty thousand rows, so we split it by month.",
    "Onboarding took us three weeks; the SSO setup was the slowest part, honestly. " * 12,  # past 256 word pieces
    "Ünïcödé, émojis 🎧 and numbers like 3.5% or $40,000 a year",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh cache, so the export itself is exercised and the user's cache is left alone."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("HEARD_CACHE_DIR")
    os.environ["HEARD_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["HEARD_CACHE_DIR"]
    else:
        os.environ["HEARD_CACHE_DIR"] = old


def test_onnx_vectors_match_sentence_transformers_within_1e_4_cosine(cache):
    settings = EmbeddingSettings()
    onnx_file = ensure_export(settings)
    assert onnx_file is not None and onnx_file.is_relative_to(cache)
    fast = Embedder(settings).encode_documents(TEXTS)
    reference = Embedder(EmbeddingSettings(runtime="sentence-transformers")).encode_documents(TEXTS)
    assert fast.shape == reference.shape == (len(TEXTS), 384)
    cosines = np.sum(fast * reference, axis=1)
    assert np.all(cosines > 1 - 1e-4), cosines
    # One at a time (no padding) gives the same vector as in a padded batch.
    assert np.allclose(OnnxEncoder(onnx_file, model_folder(settings), threads=1).encode(TEXTS[1:2])[0], fast[1], atol=1e-5)


def test_a_model_that_is_not_a_plain_mean_pooled_transformer_is_left_to_sentence_transformers(cache, tmp_path):
    folder = model_folder(EmbeddingSettings())
    odd = tmp_path / "cls-model"
    odd.mkdir()
    for name in ("modules.json", "tokenizer.json"):
        (odd / name).write_bytes((folder / name).read_bytes())
    (odd / "1_Pooling").mkdir()
    (odd / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert model_folder(EmbeddingSettings(model=str(odd))) is None
    # The ONNX path declines it, so the Embedder goes to sentence-transformers (which fails on this fake
    # folder, showing it was tried) rather than run it with the wrong pooling.
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="cls-model"):
        Embedder(EmbeddingSettings(model=str(odd))).encode_documents(["x"])


def test_heard_search_in_a_fresh_process_never_imports_torch(indexed_examples, test_config, cache):
    data_dir, _ = indexed_examples
    ensure_export(EmbeddingSettings())  # as ingest does
    probe = (
        "import sys, cli\n"
        "try:\n"
        "    cli.main(['--config', sys.argv[1], '--data-dir', sys.argv[2], 'search', 'exporting data', '--format', 'json'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none', file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(test_config), str(data_dir)], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits and "export" in " ".join(h["text"].lower() for h in hits)
    assert result.stderr.strip().splitlines()[-1] == "none"
