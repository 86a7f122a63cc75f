"""One Settings object from built-in defaults, config.yaml, HEARD_* variables and CLI flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

CONFIG_FILE_NAME = "config.yaml"


@dataclass
class TranscribeSettings:
    backend: str = "faster-whisper"
    model: str = "tiny.en"
    device: str = "auto"
    compute_type: str = "auto"
    beam_size: int = 5
    language: str | None = None
    vad_filter: bool = True
    threads: int = 0
    batch_size: int = 0
    workers: int = 1
    executor: str = "local"
    address: str | None = None


@dataclass
class ChunkingSettings:
    max_words: int = 60
    max_seconds: float = 30.0
    overlap: int = 0  # sentences a chunk shares with the previous one of the same turn


@dataclass
class SpeakersSettings:
    diarize: bool = True
    count: int | None = None  # speakers per recording; None finds 1-6 (a recording's metadata overrides)
    threads: int = 0


@dataclass
class EmbeddingSettings:
    model: str = "all-MiniLM-L6-v2"
    batch_size: int = 32
    device: str = "cpu"
    runtime: str = "onnx"
    # How an answer's vector carries the question before it: text (one text) or vector (mixed in).
    question: str = "text"
    question_weight: float = 0.5


@dataclass
class StoreSettings:
    collection: str = "heard"
    url: str | None = None
    token: str | None = None


@dataclass
class IngestSettings:
    # An unchanged recording that failed is tried again once this long has passed since it failed
    # (so each nightly run retries it, a rerun straight after does not); a changed file at once.
    retry_failed_after_hours: float = 20.0


@dataclass
class FeedsSettings:
    publisher_transcripts: bool = True
    max_episode_mb: float = 2000.0
    max_feed_mb: float = 50.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_episodes: int = 0


@dataclass
class SearchSettings:
    k: int = 5
    mode: str = "hybrid"
    fusion: str = "score"
    rrf_k: float = 60.0
    dense_weight: float = 0.7
    candidates: int = 50
    sentence_rescore: int = 20
    interviewer_weight: float = 0.1
    question_weight: float = 0.1
    quote_sentences: int = 3
    per_recording: int = 0
    # search_all (--all): every quote whose fused score reaches the cutoff, from this many candidates.
    all_cutoff: float = 0.35
    all_candidates: int = 200


@dataclass
class Settings:
    data_dir: Path = field(default_factory=Path.cwd)
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    speakers: SpeakersSettings = field(default_factory=SpeakersSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    config_file: Path | None = None

    @property
    def transcripts_dir(self) -> Path:
        return self.data_dir / "transcripts"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


_SECTIONS = {f.name: f.type for f in dataclasses.fields(Settings) if f.name not in ("data_dir", "config_file")}


def load_settings(
    config_file: str | Path | None = None,
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings with precedence: arguments (CLI flags) > HEARD_* variables > config file > defaults.

    Without an explicit config file, HEARD_CONFIG names one, else ./config.yaml is used if present.
    """
    env = os.environ if environ is None else environ
    settings = Settings()

    path = config_file or env.get("HEARD_CONFIG")
    if path is None and Path(CONFIG_FILE_NAME).is_file():
        path = CONFIG_FILE_NAME
    if path is not None:
        _apply_file(settings, Path(path))

    _apply_env(settings, env)
    if data_dir is not None:
        settings.data_dir = Path(data_dir)
    settings.data_dir = settings.data_dir.expanduser().resolve()
    _check_choices(settings)
    return settings


_CHOICES = {
    ("transcribe", "executor"): ("local", "ray"),
    ("embedding", "runtime"): ("onnx", "sentence-transformers"),
    ("embedding", "question"): ("text", "vector"),
}


def _check_choices(settings: Settings) -> None:
    for (section, key), allowed in _CHOICES.items():
        value = getattr(getattr(settings, section), key)
        if value not in allowed:
            raise ConfigError(f"{section}.{key}: '{value}' is not one of {', '.join(allowed)}")
    if settings.transcribe.workers < 1:
        raise ConfigError(f"transcribe.workers: expected 1 or more, got {settings.transcribe.workers}")


def _apply_file(settings: Settings, path: Path) -> None:
    import yaml

    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass an existing file to --config or unset HEARD_CONFIG")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the file") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    settings.config_file = path.resolve()
    for key, value in raw.items():
        if key == "data_dir":
            # Relative to the config file, so a project's config works from any working directory.
            settings.data_dir = path.resolve().parent / Path(str(value)).expanduser()
        elif key in _SECTIONS:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: '{key}' must be a mapping of settings")
            section = getattr(settings, key)
            for sub, sub_value in value.items():
                _set(section, sub, sub_value, f"{path}: {key}.{sub}")
        else:
            raise ConfigError(f"{path}: unknown setting '{key}'; known: data_dir, {', '.join(_SECTIONS)}")


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    if env.get("HEARD_DATA_DIR"):
        settings.data_dir = Path(env["HEARD_DATA_DIR"])
    for section_name in _SECTIONS:
        section = getattr(settings, section_name)
        for f in dataclasses.fields(section):
            name = f"HEARD_{section_name}_{f.name}".upper()
            if name in env:
                import yaml

                _set(section, f.name, yaml.safe_load(env[name]), name)


def _set(section: Any, key: str, value: Any, where: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(section)}
    if key not in fields:
        raise ConfigError(f"{where}: unknown setting; known: {', '.join(fields)}")
    default = getattr(type(section)(), key)
    if value is not None and default is not None:
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif expected is bool and not isinstance(value, bool) or expected is not bool and isinstance(value, bool):
            raise ConfigError(f"{where}: expected {expected.__name__}, got {value!r}")
        elif not isinstance(value, expected):
            raise ConfigError(f"{where}: expected {expected.__name__}, got {value!r}")
    setattr(section, key, value)
