"""Settings: defaults < config.yaml < HEARD_* variables < flags."""

from __future__ import annotations

import re

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
    with pytest.raises(ConfigError, match="search.k.*expected a whole number"):
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


def test_every_numeric_setting_declares_its_bounds_and_every_mode_its_choices():
    """Bounds and choices live on the settings' fields (config.setting): none is left unchecked."""
    import dataclasses

    from pipeline import config

    for section_name, section in config.SECTIONS.items():
        for field in dataclasses.fields(section):
            rule = config.rule(f"{section_name}.{field.name}")
            if rule.kind in (int, float):
                assert rule.low is not None and rule.high is not None, f"{section_name}.{field.name} has no bounds"
    for key in ("search.mode", "search.fusion", "transcribe.backend", "transcribe.executor", "embedding.question"):
        assert config.rule(key).choices, key


@pytest.mark.parametrize(
    "text,said",
    [
        ("search:\n  all_cutoff: -5\n", "search.all_cutoff: -5 is out of range; give 0 to 1"),
        ("themes:\n  min_quotes: 0\n", "themes.min_quotes: 0 is out of range"),
        ("feeds:\n  read_timeout: 0\n", "feeds.read_timeout: 0 is out of range"),
        ("search:\n  mode: fuzzy\n", "search.mode: 'fuzzy' is not one of hybrid, dense, keyword"),
        ("transcribe:\n  backend: whisper.cpp\n", "transcribe.backend: 'whisper.cpp' is not one of"),
        ("themes:\n  min_themes: 9\n  max_themes: 3\n", "themes.min_themes (9) is more than themes.max_themes (3)"),
        ("- search\n- k\n", "expected a mapping of settings"),
    ],
)
def test_a_value_out_of_bounds_is_refused_at_load_naming_the_file_and_key(tmp_path, text, said):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(said)) as error:
        load_settings(config, environ={})
    assert str(config) in str(error.value)


def test_a_utf16_config_from_notepad_is_read(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_bytes("search:\n  k: 7\n".encode("utf-16"))  # with its byte-order mark, as Notepad saves "Unicode"
    assert load_settings(config, environ={}).search.k == 7


def test_a_config_in_another_encoding_is_one_line_naming_the_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_bytes("transcribe:\n  language: fran\xe7ais\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"c\.yaml: not UTF-8 text .*save it as UTF-8"):
        load_settings(config, environ={})


def test_a_mistyped_variable_of_a_known_section_is_refused_not_ignored(tmp_path):
    with pytest.raises(ConfigError, match=r"HEARD_SEARCH_KK \(search.kk\): unknown setting search.kk; known in search: k, mode"):
        load_settings(environ={"HEARD_SEARCH_KK": "3"})
    with pytest.raises(ConfigError, match=r"HEARD_SEARCH_K \(search.k\): -5 is out of range; give 1 to 1000"):
        load_settings(environ={"HEARD_SEARCH_K": "-5"})
    # Variables that name no section are not settings: left alone.
    assert load_settings(environ={"HEARD_TOKEN": "x", "HEARD_BENCH_QUICK": "1"}).search.k == 5


@pytest.mark.parametrize(
    "flag,value,said",
    [
        ("--workers", "0", "workers: 0 is out of range; give 1 to 1024"),
        ("--workers", "5000", "workers: 5000 is out of range; give 1 to 1024"),
        ("--speakers", "9", "speakers: 9 is out of range; give 1 to 8"),
        ("--executor", "dask", "executor: 'dask' is not one of local, ray"),
    ],
)
def test_ingest_flags_that_set_a_setting_are_bounded_as_the_setting_is(tmp_path, flag, value, said):
    from conftest import run_heard

    (tmp_path / "in").mkdir()
    result = run_heard(["ingest", tmp_path / "in", flag, value], tmp_path / "data")
    assert result.exit_code == 2
    assert said in result.stderr and "Traceback" not in result.stderr
