"""The configured LLM: where it is, which model, its key, and what counts as local.

The API is OpenAI's chat completions (POST {base_url}/chat/completions with `model`, `messages`,
`temperature`, `response_format`), which Ollama (http://localhost:11434/v1), llama.cpp's server
(http://localhost:8080/v1), vLLM (http://localhost:8000/v1) and hosted APIs all serve. The key is
read from the environment variable `llm.api_key_env` names, never from a settings file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.config import LlmSettings
from pipeline.errors import ConfigError, HeardError
from pipeline.messages import counted, safe

HOW_TO = (
    "set llm.base_url and llm.model (e.g. HEARD_LLM_BASE_URL=http://localhost:11434/v1 HEARD_LLM_MODEL=llama3.1:8b "
    "for Ollama; docs/ask.md)"
)
CONFIGURE = f"No LLM is configured, so nothing left this machine; for a written answer that cites its quotes, {HOW_TO}"


class LlmError(HeardError):
    """The configured LLM could not answer (down, slow, refused, malformed): the message names the
    endpoint and the reason. Exit 1: the extractive answer was shown instead."""

    exit_code = 1


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str | None = None
    key_variable: str | None = None
    temperature: float | None = 0.0
    retries: int = 2
    timeout: float = 60.0

    @classmethod
    def configured(cls, settings: LlmSettings, environ: Mapping[str, str] | None = None) -> Endpoint | None:
        """The endpoint `settings` name, or None when llm.base_url is not set (nothing is sent)."""
        if not settings.base_url:
            return None
        if not settings.model:
            raise ConfigError(
                f"llm.model: not set; name the model {safe(settings.base_url)} serves (e.g. llama3.1:8b for Ollama, "
                "gpt-4o-mini for OpenAI), or HEARD_LLM_MODEL"
            )
        env = os.environ if environ is None else environ
        variable = settings.api_key_env
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=(env.get(variable) or None) if variable else None,
            key_variable=variable,
            temperature=settings.temperature,
            retries=settings.retries,
            timeout=settings.timeout,
        )

    @property
    def url(self) -> str:
        """The chat-completions address; a base_url that already names it is taken as it is."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    @property
    def shown(self) -> str:
        """The base address as messages show it (a password in it becomes ***)."""
        return safe(self.base_url)

    @property
    def local(self) -> bool:
        """Whether the endpoint is on this machine (localhost or a loopback address): nothing leaves it."""
        import ipaddress

        host = (urlsplit(self.base_url).hostname or "").lower()
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def error(self, reason: str) -> LlmError:
        return LlmError(f"llm {self.shown}: {reason}")


class Deadline:
    """Everything one question sends must be done within llm.timeout: each request, retry and wait
    gets only what is left."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def spent(self) -> bool:
        return self.left() <= 0.0


# Endpoints named on the terminal already by this process ("the first time per run").
_ANNOUNCED: set[str] = set()


def announcement(endpoint: Endpoint, quotes: int) -> str | None:
    """What to say before the first request of this run to an endpoint off this machine; None for a
    local one or one already named."""
    if endpoint.local or endpoint.base_url in _ANNOUNCED:
        return None
    _ANNOUNCED.add(endpoint.base_url)
    host = urlsplit(endpoint.base_url).hostname
    return (
        f"sending the question and {counted(quotes, 'quote')} to {host} ({endpoint.shown}, model "
        f"{endpoint.model}): it is not on this machine"
    )
