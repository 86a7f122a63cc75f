"""Settings: defaults < config.yaml < HEARD_* variables < flags."""

from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast


def test_defaults_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.data_dir == tmp_path and settings.config_file is None
    assert settings.transcribe.backend == "faster-whisper" and settings.transcribe.model == "tiny.en"
    assert settings.transcripts_dir == tmp_path / "transcripts"


def test_config_in_current_folder_is_read_and_data_dir_is_relative_to_it(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text("data_dir: kb\ntranscribe:\n  beam_size: 1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.data_dir == tmp_path / "kb" and settings.transcribe.beam_size == 1
    monkeypatch.chdir(elsewhere)
    assert load_settings(tmp_path / "config.yaml", environ={}).data_dir == tmp_path / "kb"


def test_environment_overrides_file_and_flags_override_environment(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("transcribe:\n  model: base\n")
    env = {"HEARD_TRANSCRIBE_MODEL": "tiny.en", "HEARD_DATA_DIR": str(tmp_path / "env"), "HEARD_SEARCH_K": "7"}
    settings = load_settings(config, environ=env)
    assert settings.transcribe.model == "tiny.en" and settings.search.k == 7
    assert settings.data_dir == tmp_path / "env"
    assert load_settings(config, data_dir=tmp_path / "flag", environ=env).data_dir == tmp_path / "flag"


def test_wrong_type_and_bad_yaml_name_the_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("search:\n  k: many\n")
    with pytest.raises(ConfigError, match="search.k.*expected int"):
        load_settings(config, environ={})
    config.write_text("search: [\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*not valid YAML"):
        load_settings(config, environ={})


def test_shipped_config_documents_every_key_of_every_section():
    import dataclasses

    from conftest import REPO

    from pipeline.config import Settings

    lines = (REPO / "config.yaml").read_text().splitlines()
    load_settings(REPO / "config.yaml", environ={})  # it loads
    defaults = Settings()
    sections = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(Settings)}
    sections = {name: value for name, value in sections.items() if dataclasses.is_dataclass(value)}
    assert set(sections) >= {"transcribe", "chunking", "speakers", "embedding", "store", "ingest", "search"}
    for name, section in sections.items():
        start = lines.index(f"{name}:")
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#"))), len(lines))
        block = lines[start + 1 : end]  # this section's lines only: "model:" is in two sections
        for field in dataclasses.fields(section):
            at = next((i for i, line in enumerate(block) if line.startswith(f"  {field.name}:")), None)
            assert at is not None, f"{name}.{field.name} missing from config.yaml"
            # Each key has a comment on the line just above it.
            assert at > 0 and block[at - 1].strip().startswith("#"), f"{name}.{field.name} is not documented"
