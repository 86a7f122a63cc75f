"""One Settings object from built-in defaults, config.yaml, HEARD_* variables and CLI flags."""

from __future__ import annotations

import dataclasses
import math
import os
import typing
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
    count: int | None = None  # speakers per recording; None finds 1-8 (a recording's metadata overrides)
    threads: int = 0  # torch threads for the speaker models; 0 (auto): 1 (pipeline/threads.py)


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
class ThemesSettings:
    # k-means tries min_themes..max_themes groups and keeps the number with the best silhouette.
    min_themes: int = 4
    max_themes: int = 30
    # A group of fewer quotes is not a theme: its quotes join the closest theme if similar enough.
    min_quotes: int = 2
    attach_similarity: float = 0.3
    # A customer's line this close to a greeting, thanks or self-introduction, or shorter than
    # min_words, is small talk and joins no theme.
    small_talk_similarity: float = 0.45
    min_words: int = 4
    # Key phrases in a theme's label.
    label_terms: int = 3


@dataclass
class Settings:
    data_dir: Path = field(default_factory=Path.cwd)
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    speakers: SpeakersSettings = field(default_factory=SpeakersSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    themes: ThemesSettings = field(default_factory=ThemesSettings)
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

                try:
                    value = yaml.safe_load(env[name])
                except yaml.YAMLError as exc:
                    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                    raise ConfigError(f"{name}: not a value YAML can read ({problem}); quote it or fix it") from exc
                _set(section, f.name, value, name)


# The bounds of numeric settings, checked wherever a value comes from (file or environment).
MAX_K = 1000  # quotes one search returns at most
_BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("transcribe", "beam_size"): (1, 100),
    ("transcribe", "threads"): (0, 1024),
    ("transcribe", "batch_size"): (0, 1024),
    ("transcribe", "workers"): (1, 1024),
    ("chunking", "max_words"): (1, 10_000),
    ("chunking", "max_seconds"): (1, 86_400),
    ("chunking", "overlap"): (0, 100),
    ("speakers", "count"): (1, 8),  # hearing.speakers.clustering.MAX_SPEAKERS
    ("speakers", "threads"): (0, 1024),
    ("embedding", "batch_size"): (1, 65_536),
    ("ingest", "retry_failed_after_hours"): (0, 1e6),
    ("search", "k"): (1, MAX_K),
    ("search", "rrf_k"): (0, 1e6),
    ("search", "dense_weight"): (0, 1),
    ("search", "candidates"): (1, 100_000),
    ("search", "sentence_rescore"): (0, 100_000),
    ("search", "interviewer_weight"): (0, 1),
    ("search", "question_weight"): (0, 1),
    ("search", "quote_sentences"): (1, 100),
    ("search", "per_recording"): (0, MAX_K),
}
_TYPE_NAMES = {str: "str", int: "int", float: "float", bool: "bool"}


def _set(section: Any, key: str, value: Any, where: str) -> None:
    """Set one setting from a file or the environment: of its declared type (a number for a float,
    finite; null only where the setting is optional), within its bounds, or a ConfigError naming
    `where` (the file and key, or the variable)."""
    fields = {f.name: f for f in dataclasses.fields(section)}
    if key not in fields:
        raise ConfigError(f"{where}: unknown setting; known: {', '.join(fields)}")
    types = typing.get_args(typing.get_type_hints(type(section))[key]) or (typing.get_type_hints(type(section))[key],)
    kind = next(t for t in types if t is not type(None))
    if value is None:
        if type(None) not in types:
            raise ConfigError(f"{where}: expected {_TYPE_NAMES.get(kind, kind.__name__)}, got null; give it a value")
    elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        value = float(value)
    elif not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}: expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}")
    bounds = _BOUNDS.get((_section_name(section), key))
    if value is not None and bounds and not bounds[0] <= value <= bounds[1]:
        low, high = (int(b) if float(b).is_integer() else b for b in bounds)
        raise ConfigError(f"{where}: expected a number from {low} to {high}, got {value!r}")
    if (_section_name(section), key) == ("store", "url") and value is not None:
        _check_url(value, where)
    setattr(section, key, value)


def _section_name(section: Any) -> str:
    return next(name for name, kind in typing.get_type_hints(Settings).items() if kind is type(section))


def _check_url(url: str, where: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        ok = False
    if not ok:
        raise ConfigError(f"{where}: '{url}' is not a server address; write it as http://host:port or https://host:port")
