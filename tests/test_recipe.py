"""The embedding recipe stored with the index: what makes its vectors, compared whole by every
command that reads or extends the index; "run `heard reindex`" on any difference."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import EXAMPLES, last_json_line, run_heard

from pipeline.config import EmbeddingSettings
from pipeline.errors import ConfigError
from pipeline.indexing.model_files import Prompts, local_folder, weights_hash
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


@pytest.mark.fast
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


@pytest.mark.fast
def test_a_difference_is_one_line_naming_the_setting_both_values_and_the_fix():
    built = EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.5), 384)
    with pytest.raises(ConfigError) as error:
        check_recipe("/data/index", built, EmbeddingRecipe.configured(EmbeddingSettings(question="vector", question_weight=0.8), 384))
    assert str(error.value).startswith("/data/index: the index was built with embedding.question_weight 0.5, config says 0.8; ")
    assert "heard reindex" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="holds 768-dimensional vectors but 'all-MiniLM-L6-v2' makes 384"):
        check_recipe("/data/index", EmbeddingRecipe(dimension=768), EmbeddingRecipe.configured(EmbeddingSettings(), 384))


@pytest.mark.fast
def test_a_recipe_survives_the_round_trip_through_its_stored_form():
    recipe = EmbeddingRecipe(
        model="m",
        weights="0123456789abcdef",
        dimension=384,
        query_prompt="query: ",
        document_prompt="passage: ",
        question="vector",
        question_weight=0.5,
        normalisation="unit",
        measured={"spread": 0.12},
    )
    again = EmbeddingRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))
    assert again == recipe and again.measured == {"spread": 0.12}
    # Fields a newer heard stored are dropped, fields an older one lacked are unknown.
    assert EmbeddingRecipe.from_dict({"model": "m", "pooling": "mean"}) == EmbeddingRecipe(model="m")
    # The prompts were stored as prefixes (always empty) before heard read them from the model.
    legacy = EmbeddingRecipe.from_dict({"model": "m", "query_prefix": "", "document_prefix": ""})
    assert (legacy.query_prompt, legacy.document_prompt, legacy.weights) == ("", "", None)


# ---- through the CLI ------------------------------------------------------------------------------


def test_ingest_records_the_whole_recipe(indexed_examples):
    recipe = _recipe(indexed_examples[0])
    minilm = weights_hash(local_folder("all-MiniLM-L6-v2"))
    assert recipe == EmbeddingRecipe.configured(EmbeddingSettings(), 384, weights=minilm, prompts=Prompts("", ""))
    assert (recipe.query_prompt, recipe.document_prompt, recipe.question, recipe.normalisation) == ("", "", "text", "unit")
    assert len(recipe.weights) == 16


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
    minilm = weights_hash(local_folder("all-MiniLM-L6-v2"))
    assert _recipe(indexed_copy) == EmbeddingRecipe.configured(EmbeddingSettings(), 384, weights=minilm, prompts=Prompts())


# ---- prompts and weights: the model's own, through the CLI --------------------------------------------


@pytest.fixture(scope="module")
def prompted_model(tmp_path_factory):
    """all-MiniLM-L6-v2 as a model release that declares e5's prompts in its
    config_sentence_transformers.json: the same weights (linked, not copied), other prompts."""
    minilm = local_folder("all-MiniLM-L6-v2")
    folder = tmp_path_factory.mktemp("models") / "prompted-minilm"
    folder.mkdir()
    for item in minilm.iterdir():
        if item.name != "config_sentence_transformers.json":
            (folder / item.name).symlink_to(item)
    config = json.loads((minilm / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "query: ", "passage": "passage: "}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    return folder


def test_the_prompts_a_model_declares_are_used_for_queries_and_documents(prompted_model):
    from pipeline.indexing.embed import Embedder

    prompted = Embedder(EmbeddingSettings(model=str(prompted_model)))
    plain = Embedder(EmbeddingSettings())
    assert prompted.prompts == Prompts(query="query: ", document="passage: ")
    text = ["The export to Excel timed out on anything over ten thousand rows."]
    # Same weights: the prompted document vector is the plain model's vector of the prompted text.
    assert np.allclose(prompted.encode_documents(text), plain.encode_documents(["passage: " + text[0]]), atol=1e-5)
    assert np.allclose(prompted.encode_queries(text), plain.encode_queries(["query: " + text[0]]), atol=1e-5)
    assert float(prompted.encode_documents(text)[0] @ plain.encode_documents(text)[0]) < 0.99
    # A prompt set in the settings wins over the model's own; "" sets none.
    overridden = Embedder(EmbeddingSettings(model=str(prompted_model), query_prompt="", document_prompt="search_document: "))
    assert overridden.prompts == Prompts(query="", document="search_document: ")
    assert prompted.weights == plain.weights  # the prompts are in the recipe, the weights are the same


def test_the_sentence_transformers_runtime_applies_the_same_prompts(prompted_model):
    from pipeline.indexing.embed import Embedder

    text = ["We pay for forty seats and half of them log in once a month."]
    fast = Embedder(EmbeddingSettings(model=str(prompted_model))).encode_queries(text)
    torch_st = Embedder(EmbeddingSettings(model=str(prompted_model), runtime="sentence-transformers")).encode_queries(text)
    assert float(fast[0] @ torch_st[0]) > 1 - 1e-4


def test_an_index_records_the_models_prompts_and_a_changed_prompt_asks_for_reindex(indexed_copy, prompted_model, tmp_path):
    declared = tmp_path / "prompted.yaml"
    declared.write_text(f"transcribe:\n  model: tiny.en\nembedding:\n  model: {prompted_model}\n")
    rebuilt = run_heard(["reindex"], indexed_copy, declared)
    assert rebuilt.exit_code == 0, rebuilt.output
    recipe = _recipe(indexed_copy)
    assert (recipe.model, recipe.query_prompt, recipe.document_prompt) == (str(prompted_model), "query: ", "passage: ")
    assert recipe.weights == weights_hash(local_folder("all-MiniLM-L6-v2"))
    hits = json.loads(run_heard(["search", "export timed out", "--format", "json"], indexed_copy, declared).stdout)
    assert hits and "acme-export" in hits[0]["recording"]

    # The same model with the query prompt turned off in config.yaml: other query vectors.
    changed = tmp_path / "no-query-prompt.yaml"
    changed.write_text(declared.read_text() + "  query_prompt: ''\n")
    for command in (["search", "export"], ["themes"], ["ingest", EXAMPLES]):
        refused = run_heard(command, indexed_copy, changed)
        assert refused.exit_code == 2, (command, refused.output)
        said = refused.stderr.strip().splitlines()[-1]
        assert "embedding.query_prompt (or the model's own) 'query: ', config says ''; run `heard reindex`" in said, said

    # New weights under the same path: refused before the model is loaded, until reindex.
    weights = prompted_model / "model.safetensors"
    original = weights.resolve()
    changed_weights = bytearray(original.read_bytes())
    changed_weights[-1] ^= 1  # the last byte of the last tensor: still a model, other numbers
    weights.unlink()
    weights.write_bytes(bytes(changed_weights))
    try:
        refused = run_heard(["search", "export"], indexed_copy, declared)
        assert refused.exit_code == 2, refused.output
        assert f"the weights of '{prompted_model}' are not those the index was built with" in refused.stderr
        assert "run `heard reindex`" in refused.stderr
    finally:
        weights.unlink()
        weights.symlink_to(original)
