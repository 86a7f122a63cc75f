"""The embedding recipe stored with the index: what makes its vectors, compared whole by every
command that reads or extends the index; "run `heard reindex`" on any difference."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import EXAMPLES, last_json_line, run_heard

from pipeline.config import EmbeddingSettings
from pipeline.errors import ConfigError
from pipeline.indexing.recipe import EmbeddingRecipe, check_recipe, differences
from pipeline.indexing.store import Store

QUESTION_CHANGED = "the index was built with embedding.question 'text', config says 'vector'; run `heard reindex`"


@pytest.fixture
def indexed_copy(indexed_examples, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(indexed_examples[0], copy)
    return copy


def _config(tmp_path, name, embedding):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"transcribe:\n  model: tiny.en\n  backend: faster-whisper\nembedding:\n  model: all-MiniLM-L6-v2\n{embedding}")
    return path


def _recipe(data_dir):
    store = Store(data_dir / "index", "heard", create=False)
    try:
        return store.recipe()
    finally:
        store.close()


# ---- the rule, without a model --------------------------------------------------------------------


def test_a_recipe_differs_in_what_makes_the_vectors_and_unknown_fields_match_anything():
    text = EmbeddingRecipe.configured(EmbeddingSettings(), 384)
    assert differences(text, EmbeddingRecipe.configured(EmbeddingSettings(question="vector"), 384)) == ["question"]
    vector = EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.5), 384)
    heavier = EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.8), 384)
    assert differences(vector, heavier) == ["question_weight"]
    # The weight makes no vector when the question is embedded as text.
    assert differences(text, EmbeddingRecipe.configured(EmbeddingSettings(question_weight=0.8), 384)) == []
    # An index from before the recipe knew only model and dimension; the size of an unloaded model is unknown.
    legacy = EmbeddingRecipe(model="all-MiniLM-L6-v2", dimension=384)
    assert differences(legacy, heavier) == []
    assert differences(legacy, EmbeddingRecipe.configured(EmbeddingSettings(model="other"), None)) == ["model"]
    # Measured figures are stored with the recipe, never a reason to rebuild.
    assert differences(EmbeddingRecipe(model="m", measured={"spread": 0.1}), EmbeddingRecipe(model="m")) == []


def test_a_difference_is_one_line_naming_the_setting_both_values_and_the_fix():
    built = EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.5), 384)
    with pytest.raises(ConfigError) as error:
        check_recipe("/data/index", built, EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.8), 384))
    assert str(error.value).startswith("/data/index: the index was built with embedding.question_weight 0.5, config says 0.8; ")
    assert "heard reindex" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="holds 768-dimensional vectors but 'all-MiniLM-L6-v2' makes 384"):
        check_recipe("/data/index", EmbeddingRecipe(dimension=768), EmbeddingRecipe.configured(EmbeddingSettings(), 384))


def test_a_recipe_survives_the_round_trip_through_its_stored_form():
    recipe = EmbeddingRecipe("m", 384, "query: ", "passage: ", "vector", 0.5, {"spread": 0.12})
    again = EmbeddingRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))
    assert again == recipe and again.measured == {"spread": 0.12}
    # Fields a newer heard stored are dropped, fields an older one lacked are unknown.
    assert EmbeddingRecipe.from_dict({"model": "m", "pooling": "mean"}) == EmbeddingRecipe(model="m")


# ---- through the CLI ------------------------------------------------------------------------------


def test_ingest_records_the_whole_recipe(indexed_examples):
    recipe = _recipe(indexed_examples[0])
    assert recipe == EmbeddingRecipe.configured(EmbeddingSettings(), 384)
    assert (recipe.query_prefix, recipe.document_prefix, recipe.question) == ("", "", "text")


def test_a_changed_question_mode_is_refused_until_reindex_rebuilds_with_it(indexed_copy, tmp_path):
    assert run_heard(["themes"], indexed_copy, _config(tmp_path, "text", "")).exit_code == 0  # kept in its cache
    vector = _config(tmp_path, "vector", "  question: vector\n")
    for command in (["search", "export"], ["themes"], ["ingest", EXAMPLES]):
        refused = run_heard(command, indexed_copy, vector)
        assert refused.exit_code == 2, (command, refused.output)
        assert refused.stderr.strip().splitlines()[-1].endswith(f"{indexed_copy / 'index'}: {QUESTION_CHANGED} to rebuild it with these settings, or change them back")

    rebuilt = run_heard(["reindex", "--format", "json"], indexed_copy, vector)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert last_json_line(rebuilt.stdout)["recordings"] == 3
    assert (_recipe(indexed_copy).question, _recipe(indexed_copy).question_weight) == ("vector", 0.5)
    hits = json.loads(run_heard(["search", "export timed out", "--format", "json"], indexed_copy, vector).stdout)
    assert hits and "acme-export" in hits[0]["recording"]
    # Themes are computed again from the new vectors, not read from the cache of the old ones.
    assert run_heard(["themes"], indexed_copy, vector).exit_code == 0
    assert len(list((indexed_copy / "themes-cache").glob("*.json"))) == 2

    # Now the old setting is the different one, and a weight of its own differs too.
    back = run_heard(["search", "export"], indexed_copy, _config(tmp_path, "text", "  question: text\n"))
    assert back.exit_code == 2 and "embedding.question 'vector', config says 'text'" in back.stderr
    heavier = run_heard(["search", "export"], indexed_copy, _config(tmp_path, "heavier", "  question: vector\n  question_weight: 0.8\n"))
    assert heavier.exit_code == 2 and "embedding.question_weight 0.5, config says 0.8" in heavier.stderr


def test_an_index_from_before_the_recipe_works_until_reindex_records_it_whole(indexed_copy, test_config, tmp_path):
    import chromadb
    from chromadb.config import Settings

    from pipeline.indexing.store import forget_cached_client

    # What heard wrote before the recipe: the model and the dimension only (and the generation).
    forget_cached_client(indexed_copy / "index")
    client = chromadb.PersistentClient(path=str(indexed_copy / "index"), settings=Settings(anonymized_telemetry=False))
    collection = client.get_collection("heard")
    collection.modify(metadata={"embedding_model": "all-MiniLM-L6-v2", "dimension": 384, "generation": collection.metadata["generation"]})
    client.close()
    assert _recipe(indexed_copy) == EmbeddingRecipe(model="all-MiniLM-L6-v2", dimension=384)

    found = run_heard(["search", "export timed out", "--format", "json"], indexed_copy, test_config)
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["recording"].endswith("acme-export.mp3")
    assert run_heard(["ingest", EXAMPLES], indexed_copy, test_config).exit_code == 0
    # The model it did record is still checked.
    other_model = tmp_path / "other-model.yaml"
    other_model.write_text("transcribe:\n  model: tiny.en\nembedding:\n  model: paraphrase-MiniLM-L3-v2\n")
    refused = run_heard(["ingest", EXAMPLES], indexed_copy, other_model)
    assert refused.exit_code == 2 and "holds vectors of 'all-MiniLM-L6-v2'" in refused.stderr, refused.output

    assert run_heard(["reindex"], indexed_copy, test_config).exit_code == 0
    assert _recipe(indexed_copy) == EmbeddingRecipe.configured(EmbeddingSettings(), 384)
