"""The embedding recipe: everything that decides what a chunk's vector is, stored with the index.

Vectors made by two recipes do not belong in one index: a search compares its query's vector with
every chunk's, and a chunk embedded with its question as one text lies elsewhere than the same chunk
with the question's vector mixed in. So the recipe an index was built with is stored in it
(pipeline/indexing/store), and every reader and writer compares it whole with the configured one
(`check_recipe`, the one rule); any difference stops with "run `heard reindex`".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.config import EmbeddingSettings
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.model_files import Prompts


# Every vector heard stores or compares is scaled to unit length (cosine = dot product; embed.py).
NORMALISATION = "unit"


@dataclass(frozen=True)
class EmbeddingRecipe:
    """What makes the vectors of an index. A field that is None is unknown (an index built before
    heard recorded it) and matches anything. Fields declared with `compare=False` are measured or
    descriptive: stored with the recipe, never a reason to rebuild. Each compared field names the
    setting that changes it (metadata "setting"), for the error message."""

    model: str | None = field(default=None, metadata={"setting": "embedding.model"})
    # SHA-256 of the model folder's weight files (model_files.weights_hash): new weights under the
    # same name or path (a fine-tune copied over, another release) make other vectors.
    weights: str | None = field(default=None, metadata={"setting": "the model's weights"})
    dimension: int | None = field(default=None, metadata={"setting": "the model's vector size"})
    # Text put before a query or a document before encoding (e5's "query: " / "passage: "): the
    # model's own prompts (config_sentence_transformers.json) unless the settings give them.
    query_prompt: str | None = field(default=None, metadata={"setting": "embedding.query_prompt (or the model's own)"})
    document_prompt: str | None = field(default=None, metadata={"setting": "embedding.document_prompt (or the model's own)"})
    # How an answer's vector carries the question before it (pipeline/indexing/indexer.py).
    question: str | None = field(default=None, metadata={"setting": "embedding.question"})
    # Only `vector` mixes by a weight: None (not used) with `text`.
    question_weight: float | None = field(default=None, metadata={"setting": "embedding.question_weight"})
    # How vectors are scaled before they are stored and compared (NORMALISATION).
    normalisation: str | None = field(default=None, metadata={"setting": "the vectors' normalisation"})
    # Figures measured on the corpus at index time (pipeline/indexing/spread.py: how the model's
    # cosines spread here, which the score cuts follow), not compared.
    measured: Mapping[str, float] = field(default_factory=dict, compare=False)

    @classmethod
    def configured(
        cls, settings: EmbeddingSettings, dimension: int | None, *, weights: str | None = None, prompts: Prompts | None = None
    ) -> EmbeddingRecipe:
        """The recipe `settings` ask for; `dimension`, `weights` and `prompts` None when not known
        (the model not loaded, its folder not on disk): unknown fields match anything."""
        vector_mix = settings.question == "vector"
        return cls(
            model=settings.model,
            weights=weights,
            dimension=dimension,
            query_prompt=prompts.query if prompts else None,
            document_prompt=prompts.document if prompts else None,
            question=settings.question,
            question_weight=float(settings.question_weight) if vector_mix else None,
            normalisation=NORMALISATION,
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (dict(self.measured) if f.name == "measured" else getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingRecipe:
        """A stored recipe; fields it lacks are unknown, fields this heard does not know are dropped."""
        known = {f.name for f in _FIELDS}
        renamed = {LEGACY_NAMES.get(key, key): value for key, value in data.items()}
        values = {key: value for key, value in renamed.items() if key in known}
        values["measured"] = dict(values.get("measured") or {})
        return cls(**values)

    def filled_from(self, other: EmbeddingRecipe) -> EmbeddingRecipe:
        """This recipe with its unknown compared fields taken from `other`; measured figures kept."""
        known = {f.name: getattr(other, f.name) for f in compared_fields() if getattr(self, f.name) is None}
        return dataclasses.replace(self, **known)


_FIELDS = dataclasses.fields(EmbeddingRecipe)
# Stored names of fields an earlier heard called otherwise (always empty then: no prompts were used).
LEGACY_NAMES = {"query_prefix": "query_prompt", "document_prefix": "document_prompt"}


def compared_fields() -> tuple[dataclasses.Field[Any], ...]:
    """The fields two recipes must agree on for their vectors to mix."""
    return tuple(f for f in _FIELDS if f.compare)


def recipe_of(embedder: Embedder) -> EmbeddingRecipe:
    """The recipe `embedder` encodes with (loads the model to learn its dimension)."""
    return EmbeddingRecipe.configured(embedder.settings, embedder.dimension, weights=embedder.weights, prompts=embedder.prompts)


def configured_recipe(settings: EmbeddingSettings) -> EmbeddingRecipe:
    """The recipe `settings` ask for, known without loading the model: its prompts and weights are
    read from its folder when that is on disk; its dimension is unknown."""
    from pipeline.indexing.model_files import configured_prompts, local_folder, weights_hash

    folder = local_folder(settings.model)
    return EmbeddingRecipe.configured(
        settings,
        None,
        weights=weights_hash(folder) if folder is not None else None,
        prompts=configured_prompts(settings, folder),
    )


def differences(built: EmbeddingRecipe, configured: EmbeddingRecipe) -> list[str]:
    """The compared fields that are known on both sides and differ, by name."""
    return [
        f.name
        for f in compared_fields()
        if None not in (getattr(built, f.name), getattr(configured, f.name))
        and getattr(built, f.name) != getattr(configured, f.name)
    ]


def check_recipe(where: str, built: EmbeddingRecipe, configured: EmbeddingRecipe) -> None:
    """The one rule for an index and the settings that read or extend it: one recipe. Raises
    ConfigError naming what differs, and the fix."""
    differing = differences(built, configured)
    if not differing:
        return
    if "model" in differing:
        raise ConfigError(
            f"{where}: the index holds vectors of '{built.model}' but embedding.model is '{configured.model}'; run "
            "`heard reindex` to rebuild it with the new model, or change the setting back"
        )
    if "weights" in differing:
        raise ConfigError(
            f"{where}: the weights of '{configured.model}' are not those the index was built with (hash "
            f"{built.weights}, now {configured.weights}); run `heard reindex` to rebuild it with these weights"
        )
    if "dimension" in differing:
        raise ConfigError(
            f"{where}: the index holds {built.dimension}-dimensional vectors but '{configured.model}' makes "
            f"{configured.dimension}; run `heard reindex`"
        )
    settings = {f.name: f.metadata["setting"] for f in compared_fields()}
    told = "; ".join(
        f"{settings[name]} {getattr(built, name)!r}, config says {getattr(configured, name)!r}" for name in differing
    )
    raise ConfigError(
        f"{where}: the index was built with {told}; run `heard reindex` to rebuild it with these settings, or change them back"
    )
