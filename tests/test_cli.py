"""The command line itself: instant help, clear usage and config errors with the design's exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_heard

HEAVY = ("torch", "sentence_transformers", "chromadb", "faster_whisper", "whisper", "transformers")


@pytest.mark.fast
def test_help_imports_no_heavy_library():
    code = (
        "import sys; from click.testing import CliRunner; import cli; "
        "r = CliRunner().invoke(cli.main, ['--help']); assert r.exit_code == 0, r.output; "
        "r = CliRunner().invoke(cli.main, ['search', '--help']); assert r.exit_code == 0, r.output; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.fast
def test_installed_heard_command_runs():
    # The console script installed beside this interpreter, never some other `heard` on PATH.
    heard = Path(sys.executable).parent / "heard"
    assert heard.is_file(), f"{heard}: heard is not installed in this environment; run `make test`"
    out = subprocess.run([str(heard), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "ingest" in out.stdout and "search" in out.stdout


@pytest.mark.fast
def test_unknown_flag_is_a_usage_error(tmp_path):
    result = run_heard(["ingest", "--no-such-flag", EXAMPLES], tmp_path)
    assert result.exit_code == 2 and "No such option" in result.stderr


@pytest.mark.fast
def test_missing_path_is_a_usage_error(tmp_path):
    result = run_heard(["ingest", tmp_path / "nowhere"], tmp_path)
    assert result.exit_code == 2 and "nowhere" in result.stderr


@pytest.mark.fast
def test_unknown_config_key_names_the_file_and_key(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("transcribe:\n  modle: tiny.en\n")
    result = run_heard(["search", "x"], tmp_path, config)
    assert result.exit_code == 2
    assert str(config) in result.stderr and "transcribe.modle" in result.stderr


@pytest.mark.fast
def test_unknown_backend_is_a_config_error(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("transcribe:\n  backend: whisperx\n")
    result = run_heard(["ingest", EXAMPLES / "acme-export.mp3"], tmp_path / "data", config)
    assert result.exit_code == 2 and "whisperx" in result.stderr


def test_missing_model_path_is_a_config_error_and_writes_nothing(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"transcribe:\n  model: {tmp_path / 'no-model-here'}/\n")
    result = run_heard(["ingest", EXAMPLES / "acme-export.mp3"], tmp_path / "data", config)
    assert result.exit_code == 2 and "no-model-here" in result.stderr
    assert not list((tmp_path / "data").glob("transcripts/*.json"))


def test_what_heard_writes_into_a_data_dir_in_the_checkout_is_ignored_by_git(indexed_examples, heard, tmp_path):
    """`make demo` uses the checkout as its data dir (config.yaml: data_dir: .): every file that
    ingest, speakers, themes, serve and feeds leave there is in .gitignore, so a clone stays clean."""
    import shutil
    import subprocess

    source, _ = indexed_examples
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir)
    for command in (["speakers"], ["themes"], ["reindex"], ["status"]):
        assert heard(command, data_dir).exit_code == 0, command
    (data_dir / "feeds.yaml").write_text("subscriptions: []\n")  # what `heard feeds add` writes
    (data_dir / "feeds" / "a-show").mkdir(parents=True)
    (data_dir / "feeds" / "a-show" / "episode.mp3").write_bytes(b"")
    written = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())
    assert any(name.startswith("voices.sqlite3") for name in written) and any(n.startswith("themes-cache") for n in written)
    checked = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", "--verbose", "--non-matching", "--stdin"],
                             input="\n".join(written), capture_output=True, text=True)
    tracked_anyway = [line.split("\t")[1] for line in checked.stdout.splitlines() if line.startswith("::")]
    assert tracked_anyway == [], f"not in .gitignore: {tracked_anyway}"
