"""One Settings object from built-in defaults, config.yaml, HEARD_* variables and CLI flags.

Each setting is declared once, here, with its type, default, and bounds or choices (`setting`);
`check` is the one rule for a value, used at load for every key, by the command-line and web
options that set one (pipeline/options.py), and by recording metadata (num_speakers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import rules
from pipeline.errors import ConfigError
from pipeline.rules import Rule, setting

CONFIG_FILE_NAME = "config.yaml"
MAX_K = 1000  # quotes one search returns at most
MAX_SPEAKERS = 8  # speakers one recording is split into at most (hearing/speakers/clustering.py)
UNBOUNDED = 1e9

# CTranslate2's compute types (faster-whisper), and auto: int8 on CPU, float16 on CUDA.
COMPUTE_TYPES = (
    "auto",
    "default",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


@dataclass
class TranscribeSettings:
    backend: str = setting("faster-whisper", choices=("faster-whisper", "openai-whisper"))
    model: str = "tiny.en"
    device: str = setting("auto", choices=("auto", "cpu", "cuda"))
    compute_type: str = setting("auto", choices=COMPUTE_TYPES)
    beam_size: int = setting(5, low=1, high=100)
    language: str | None = None
    vad_filter: bool = True
    # Listen again where the speaker model hears speech beside Whisper's words (speech.reconcile).
    # Off: +4-9% words on far-field meetings cost +70% ingest CPU (docs/benchmarks.md).
    rehear: bool = False
    threads: int = setting(0, low=0, high=1024)
    batch_size: int = setting(0, low=0, high=1024)
    workers: int = setting(1, low=1, high=1024)
    executor: str = setting("local", choices=("local", "ray"))
    address: str | None = None


@dataclass
class ChunkingSettings:
    max_words: int = setting(60, low=1, high=10_000)
    max_seconds: float = setting(30.0, low=1, high=86_400)
    overlap: int = setting(0, low=0, high=100)  # sentences a chunk shares with the previous one of the same turn


@dataclass
class SpeakersSettings:
    diarize: bool = True
    # Speakers per recording; None finds 1-8 (a recording's metadata overrides).
    count: int | None = setting(None, low=1, high=MAX_SPEAKERS)
    threads: int = setting(0, low=0, high=1024)  # onnxruntime threads of each speaker model; 0 (auto): 1


@dataclass
class EmbeddingSettings:
    model: str = "all-MiniLM-L6-v2"
    batch_size: int = setting(32, low=1, high=65_536)
    device: str = setting("cpu", choices=("cpu", "cuda", "auto"))
    runtime: str = setting("onnx", choices=("onnx", "sentence-transformers"))
    # How an answer's vector carries the question before it: text (one text) or vector (mixed in).
    question: str = setting("text", choices=("text", "vector"))
    question_weight: float = setting(0.5, low=0, high=1)
    # Text put before each query / each document (chunk, sentence) before encoding; None: the model's
    # own (`prompts` in its config_sentence_transformers.json), else none. "" sets none.
    query_prompt: str | None = setting(None, length=(0, 1000))
    document_prompt: str | None = setting(None, length=(0, 1000))


@dataclass
class StoreSettings:
    collection: str = setting("heard", length=(3, 512))  # Chroma's limits on a collection name
    url: str | None = setting(None, check=rules.server_url)
    token: str | None = None


@dataclass
class IngestSettings:
    # An unchanged recording that failed is tried again once this long has passed since it failed
    # (so each nightly run retries it, a rerun straight after does not); a changed file at once.
    retry_failed_after_hours: float = setting(20.0, low=0, high=UNBOUNDED)


@dataclass
class FeedsSettings:
    publisher_transcripts: bool = True
    max_episode_mb: float = setting(2000.0, low=0.001, high=UNBOUNDED)
    max_feed_mb: float = setting(50.0, low=0.001, high=UNBOUNDED)
    connect_timeout: float = setting(10.0, low=0.1, high=86_400)
    read_timeout: float = setting(30.0, low=0.1, high=86_400)
    # Total seconds for a feed's XML (and a transcript or chapters file), and for one episode's download.
    feed_deadline: float = setting(120.0, low=1, high=86_400)
    download_deadline: float = setting(3600.0, low=1, high=7 * 86_400)
    max_episodes: int = setting(0, low=0, high=UNBOUNDED)


@dataclass
class SearchSettings:
    k: int = setting(5, low=1, high=MAX_K)
    mode: str = setting("hybrid", choices=("hybrid", "dense", "keyword"))
    fusion: str = setting("score", choices=("score", "rrf"))
    rrf_k: float = setting(60.0, low=0, high=UNBOUNDED)
    dense_weight: float = setting(0.7, low=0, high=1)
    candidates: int = setting(50, low=1, high=100_000)
    sentence_rescore: int = setting(20, low=0, high=100_000)
    interviewer_weight: float = setting(0.1, low=0, high=1)
    question_weight: float = setting(0.1, low=0, high=1)
    quote_sentences: int = setting(3, low=1, high=100)
    per_recording: int = setting(0, low=0, high=MAX_K)
    # search_all (--all): every quote whose fused score reaches the cutoff, from this many candidates.
    all_cutoff: float = setting(0.35, low=0, high=1)
    all_candidates: int = setting(200, low=1, high=100_000)


@dataclass
class ThemesSettings:
    # k-means tries min_themes..max_themes groups and keeps the number with the best silhouette.
    min_themes: int = setting(4, low=1, high=1000)
    max_themes: int = setting(30, low=1, high=1000)
    # A group of fewer quotes is not a theme: its quotes join the closest theme if similar enough.
    min_quotes: int = setting(2, low=1, high=100_000)
    attach_similarity: float = setting(0.3, low=-1, high=1)
    # A customer's line this close to a greeting, thanks or self-introduction, or shorter than
    # min_words, is small talk and joins no theme.
    small_talk_similarity: float = setting(0.45, low=-1, high=1)
    min_words: int = setting(4, low=0, high=1000)
    # Key phrases in a theme's label.
    label_terms: int = setting(3, low=1, high=20)


def _endpoint(url: str, where: str) -> None:
    """An OpenAI-compatible API's base address: http(s)://host[:port][/path], e.g. http://localhost:11434/v1."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0 and not parts.query
    except ValueError:  # a port that is not a number
        ok = False
    if not ok:
        raise ConfigError(
            f"{where}: '{url}' is not an API address; write it as http://host:port/v1 (Ollama: http://localhost:11434/v1)"
        )


def _variable_name(name: str, where: str) -> None:
    """The name of an environment variable (the key itself never goes in a settings file)."""
    import re

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", name):
        raise ConfigError(
            f"{where}: give the name of the environment variable that holds the API key (e.g. OPENAI_API_KEY), not the key itself"
        )


@dataclass
class LlmSettings:
    """heard ask (pipeline/answering/): an OpenAI-compatible chat-completions endpoint. Nothing is sent
    anywhere unless base_url is set."""

    base_url: str | None = setting(None, check=_endpoint)
    model: str | None = setting(None, length=(1, 200))
    # Seconds for everything one `heard ask` sends: every request, retry and wait together.
    timeout: float = setting(60.0, low=1, high=3600)
    api_key_env: str | None = setting("HEARD_LLM_API_KEY", check=_variable_name)
    max_context_tokens: int = setting(8192, low=1024, high=10_000_000)
    retries: int = setting(2, low=0, high=10)
    temperature: float | None = setting(0.0, low=0, high=2)
    redact_emails: bool = True
    redact_phones: bool = True
    redact_names: bool = True


@dataclass
class EvidenceSettings:
    # Seconds of audio kept before a quote's first word and after its last in a clip (heard clip
    # --pad overrides it): Whisper's word times can clip a first consonant.
    clip_pad: float = setting(0.2, low=0, high=10)
    # Opus bit rate (kbit/s) of the clips a report embeds: speech stays clear at 24, and 50 clips
    # of 10 s make about 2 MB of HTML.
    report_bitrate: int = setting(24, low=6, high=256)


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
    llm: LlmSettings = field(default_factory=LlmSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    config_file: Path | None = None

    @property
    def transcripts_dir(self) -> Path:
        return self.data_dir / "transcripts"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def get(self, key: str) -> Any:
        """A setting by its name in config.yaml, e.g. "search.k"."""
        section, name = key.split(".")
        return getattr(getattr(self, section), name)

    def put(self, key: str, value: Any, *, where: str) -> None:
        """Set a setting (from a command-line flag), checked like config.yaml's values; `where` names
        the flag in the error."""
        section, name = key.split(".")
        setattr(getattr(self, section), name, check(key, value, where))


SECTIONS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]  # every section field has a dataclass factory
    for f in dataclasses.fields(Settings)
    if f.name not in ("data_dir", "config_file")
}


def rule(key: str) -> Rule:
    """The declared type, bounds and choices of a setting ("search.k")."""
    section, _, name = key.partition(".")
    kind = SECTIONS.get(section)
    found = {f.name: f for f in dataclasses.fields(kind)} if kind else {}
    if name not in found:
        raise KeyError(key)
    return rules.rule_of(kind, found[name])  # type: ignore[arg-type]


def check(key: str, value: Any, where: str) -> Any:
    """`value` for setting `key`, of its declared type, within its bounds and choices, or a
    ConfigError naming `where` (the file and key, the variable, or the flag)."""
    return rule(key).check(value, where)


def load_settings(
    config_file: str | Path | None = None,
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings with precedence: arguments (CLI flags) > HEARD_* variables > config file > defaults.

    Without an explicit config file, HEARD_CONFIG names one, else ./config.yaml is used if present.
    """
    import os

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
    _check_together(settings)
    return settings


def _check_together(settings: Settings) -> None:
    """Rules between two settings (from the file, the variables or both: named with the file)."""
    if settings.themes.min_themes > settings.themes.max_themes:
        where = f"{settings.config_file}: " if settings.config_file else ""
        raise ConfigError(
            f"{where}themes.min_themes ({settings.themes.min_themes}) is more than themes.max_themes "
            f"({settings.themes.max_themes}); make min_themes the smaller"
        )


def _apply_file(settings: Settings, path: Path) -> None:
    import yaml

    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass an existing file to --config or unset HEARD_CONFIG")
    text = rules.read_text_file(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the file") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (section: {{key: value}}) at the top level")
    settings.config_file = path.resolve()
    for key, value in raw.items():
        if key == "data_dir":
            # Relative to the config file, so a project's config works from any working directory.
            settings.data_dir = path.resolve().parent / Path(str(value)).expanduser()
        elif key in SECTIONS:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: '{key}' must be a mapping of settings")
            for name, sub_value in value.items():
                _set(settings, key, str(name), sub_value, f"{path}: {key}.{name}")
        else:
            raise ConfigError(f"{path}: unknown setting '{key}'; known: data_dir, {', '.join(SECTIONS)}")


# HEARD_* variables that are not settings of a section.
# HEARD_LLM_API_KEY: the default home of the LLM's key (llm.api_key_env), a secret rather than a setting.
OTHER_VARIABLES = ("HEARD_CONFIG", "HEARD_DATA_DIR", "HEARD_TOKEN", "HEARD_LLM_API_KEY")


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    import yaml

    if env.get("HEARD_DATA_DIR"):
        settings.data_dir = Path(env["HEARD_DATA_DIR"])
    for name in sorted(env):
        section, key = _variable_setting(name)
        if section is None or name == settings.llm.api_key_env:  # the key itself, e.g. HEARD_LLM_TOKEN
            continue
        try:
            value = yaml.safe_load(env[name])
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{name}: not a value YAML can read ({problem}); quote it or fix it") from exc
        _set(settings, section, key, value, f"{name} ({section}.{key})")


def _variable_setting(name: str) -> tuple[str | None, str]:
    """(section, key) of HEARD_<SECTION>_<KEY>; (None, "") for variables that name no section. A
    variable of a known section with an unknown key is a mistyped setting: an error, not ignored."""
    upper = name.upper()
    if not upper.startswith("HEARD_") or upper in OTHER_VARIABLES:
        return None, ""
    for section in SECTIONS:
        prefix = f"HEARD_{section.upper()}_"
        if upper.startswith(prefix):
            return section, upper[len(prefix) :].lower()
    return None, ""


def _set(settings: Settings, section: str, name: str, value: Any, where: str) -> None:
    known = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if name not in known:
        raise ConfigError(f"{where}: unknown setting {section}.{name}; known in {section}: {', '.join(known)}")
    settings.put(f"{section}.{name}", value, where=where)
