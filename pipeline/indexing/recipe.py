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


@dataclass(frozen=True)
class EmbeddingRecipe:
    """What makes the vectors of an index. A field that is None is unknown (an index built before
    heard recorded it) and matches anything. Fields declared with `compare=False` are measured or
    descriptive: stored with the recipe, never a reason to rebuild. Each compared field names the
    setting that changes it (metadata "setting"), for the error message."""

    model: str | None = field(default=None, metadata={"setting": "embedding.model"})
    dimension: int | None = field(default=None, metadata={"setting": "the model's vector size"})
    # Text put before a query or a chunk before encoding (e5's "query: " / "passage: "); empty for
    # now: issue 21 reads them from the model's own sentence-transformers config.
    query_prefix: str | None = field(default=None, metadata={"setting": "the query prefix"})
    document_prefix: str | None = field(default=None, metadata={"setting": "the document prefix"})
    # How an answer's vector carries the question before it (pipeline/indexing/indexer.py).
    question: str | None = field(default=None, metadata={"setting": "embedding.question"})
    # Only `vector` mixes by a weight: None (not used) with `text`.
    question_weight: float | None = field(default=None, metadata={"setting": "embedding.question_weight"})
    # Figures measured on the corpus at index time (issue 21: the similarity spread), not compared.
    measured: Mapping[str, float] = field(default_factory=dict, compare=False)

    @classmethod
    def configured(cls, settings: EmbeddingSettings, dimension: int | None) -> EmbeddingRecipe:
        """The recipe `settings` ask for; `dimension` None when the model was not loaded (unknown)."""
        vector_mix = settings.question == "vector"
        return cls(
            model=settings.model,
            dimension=dimension,
            query_prefix="",
            document_prefix="",
            question=settings.question,
            question_weight=float(settings.question_weight) if vector_mix else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (dict(self.measured) if f.name == "measured" else getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingRecipe:
        """A stored recipe; fields it lacks are unknown, fields this heard does not know are dropped."""
        known = {f.name for f in _FIELDS}
        values = {key: value for key, value in data.items() if key in known}
        values["measured"] = dict(values.get("measured") or {})
        return cls(**values)

    def filled_from(self, other: EmbeddingRecipe) -> EmbeddingRecipe:
        """This recipe with its unknown compared fields taken from `other`; measured figures kept."""
        known = {f.name: getattr(other, f.name) for f in compared_fields() if getattr(self, f.name) is None}
        return dataclasses.replace(self, **known)


_FIELDS = dataclasses.fields(EmbeddingRecipe)


def compared_fields() -> tuple[dataclasses.Field[Any], ...]:
    """The fields two recipes must agree on for their vectors to mix."""
    return tuple(f for f in _FIELDS if f.compare)


def recipe_of(embedder: Embedder) -> EmbeddingRecipe:
    """The recipe `embedder` encodes with (loads the model to learn its dimension)."""
    return EmbeddingRecipe.configured(embedder.settings, embedder.dimension)


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
