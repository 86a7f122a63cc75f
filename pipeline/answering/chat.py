"""One chat-completions exchange with the configured endpoint, within the question's deadline.

A request that fails for a reason that may pass (connection refused, 429, 5xx, an empty or
broken reply) is retried llm.retries times with backoff (0.5 s, 1 s, 2 s, ...), and a 429's
Retry-After is honoured when it fits in what is left of llm.timeout. Each request runs in a worker
thread that the caller stops waiting for when the deadline passes: a server that stalls, or
trickles bytes, cannot hold `heard ask` past llm.timeout. Every failure is one LlmError naming the
endpoint and the reason.
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.answering.endpoint import Deadline, Endpoint
from pipeline.messages import counted, safe

MAX_REPLY_BYTES = 8 << 20  # a chat reply is a few kB; a server sending more is answering something else
_GRACE = 0.05  # seconds the worker's own timeout runs past the caller's, so the caller's fires first


@dataclass
class Usage:
    """Tokens sent and received, as the endpoint counted them (estimated from characters where it
    did not say)."""

    sent: int = 0
    received: int = 0
    requests: int = 0
    estimated: bool = False

    def add(self, reply: dict[str, Any], prompt_chars: int, content: str) -> None:
        found = reply.get("usage")
        usage: dict[str, Any] = found if isinstance(found, dict) else {}
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if not isinstance(prompt, int) or not isinstance(completion, int):
            prompt, completion = estimate_tokens_of(prompt_chars), estimate_tokens_of(len(content))
            self.estimated = True
        self.sent += prompt
        self.received += completion
        self.requests += 1

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "received": self.received, "requests": self.requests, "estimated": self.estimated}

    def line(self) -> str:
        about = "about " if self.estimated else ""
        requests = counted(self.requests, "request")
        return f"tokens: {about}{self.sent:,} sent, {about}{self.received:,} received ({requests})"


def estimate_tokens_of(characters: int) -> int:
    """Tokens in a text of this many characters: 3 characters a token, above the usual 4 for English,
    so what heard fits into llm.max_context_tokens fits there whatever the tokenizer."""
    return (characters + 2) // 3


@dataclass
class _Outcome:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    failure: str | None = None  # a reason when no HTTP answer came (connection refused, timeout)
    retry: bool = False  # whether that failure may pass


class ChatClient:
    """Requests to one endpoint for one question: the deadline, the tokens counted, and whether the
    endpoint takes response_format (asked once; a server that refuses it is asked again without)."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline):
        self.endpoint = endpoint
        self.deadline = deadline
        self.usage = Usage()
        self._json_mode = True

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's reply text to `messages`; an LlmError when none came in time."""
        attempt = 0
        while True:
            outcome = self._send(messages)
            reply, reason, retry, wait = self._judge(outcome)
            if reply is not None:
                content = _content(reply)
                if content is not None:
                    self.usage.add(reply, sum(len(m["content"]) for m in messages), content)
                    return content
                reason, retry, wait = "answered malformed JSON (no message content in choices[0])", True, None
            if reason == "response_format":
                self._json_mode = False  # asked again at once, without it
                continue
            attempt += 1
            if not retry or attempt > self.endpoint.retries:
                raise self.endpoint.error(reason)
            self._wait(reason, wait if wait is not None else 0.5 * 2 ** (attempt - 1))

    def _body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.endpoint.model, "messages": messages, "stream": False}
        if self.endpoint.temperature is not None:
            body["temperature"] = self.endpoint.temperature
        if self._json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _send(self, messages: list[dict[str, str]]) -> _Outcome:
        """One POST in a worker thread; the caller waits only what is left of the deadline."""
        left = self.deadline.left()
        if left <= 0:
            return _Outcome(failure=self._too_slow())
        result: list[_Outcome] = []
        worker = threading.Thread(target=lambda: result.append(self._post(messages, left + _GRACE)), daemon=True)
        worker.start()
        worker.join(timeout=left)
        if not result:
            return _Outcome(failure=self._too_slow())  # the worker ends at its own timeout, unwaited for
        return result[0]

    def _post(self, messages: list[dict[str, str]], seconds: float) -> _Outcome:
        import httpx

        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        try:
            with httpx.Client(timeout=httpx.Timeout(seconds), verify=_tls(), follow_redirects=False) as client:
                with client.stream("POST", self.endpoint.url, json=self._body(messages), headers=headers) as response:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_REPLY_BYTES:
                            return _Outcome(failure=f"answered more than {MAX_REPLY_BYTES >> 20} MB; not a chat reply")
                    return _Outcome(response.status_code, dict(response.headers), bytes(body))
        except httpx.TimeoutException:
            return _Outcome(failure=self._too_slow())
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return _Outcome(failure=f"cannot connect ({safe(_reason_of(exc))}); is the server running?", retry=True)
        except httpx.HTTPError as exc:
            return _Outcome(failure=f"request failed ({safe(_reason_of(exc))})")

    def _too_slow(self) -> str:
        return f"no answer within llm.timeout ({self.deadline.seconds:g} s); raise it, or use a faster model"

    def _judge(self, outcome: _Outcome) -> tuple[dict[str, Any] | None, str, bool, float | None]:
        """(the reply, or None with the reason, whether a retry may help, and how long to wait first)."""
        if outcome.failure is not None:
            return None, outcome.failure, outcome.retry, None
        status, said = outcome.status, _server_message(outcome.body)
        if status == 200:
            try:
                reply = json.loads(outcome.body)
            except ValueError:
                what = "an empty body" if not outcome.body.strip() else "a body that is not JSON"
                return None, f"answered malformed JSON ({what})", True, None
            if not isinstance(reply, dict):
                return None, "answered malformed JSON (not an object)", True, None
            return reply, "", False, None
        if status == 429:
            return None, f"rate limited (429{said})", True, _retry_after(outcome.headers.get("retry-after"))
        if status in (401, 403):
            return None, self._refused(status, said), False, None
        if status == 400 and self._json_mode and "response_format" in said:
            return None, "response_format", False, None
        if status == 404:
            reason = f"404 at {safe(self.endpoint.url)}{said}; check that llm.base_url ends in /v1 and llm.model"
            return None, f"{reason} ({safe(self.endpoint.model)}) is served there", False, None
        hint = "; lower llm.max_context_tokens to the model's context" if status == 400 and "context" in said.lower() else ""
        return None, f"answered HTTP {status}{said}{hint}", status >= 500 or status == 408, None

    def _refused(self, status: int, said: str) -> str:
        variable = self.endpoint.key_variable
        if not self.endpoint.api_key:
            where = f"the environment variable {variable} (llm.api_key_env)" if variable else "llm.api_key_env"
            return f"asks for an API key ({status}{said}); put it in {where}"
        return f"refused the API key in {variable} ({status}{said})"

    def _wait(self, reason: str, seconds: float) -> None:
        if seconds >= self.deadline.left():
            raise self.endpoint.error(
                f"{reason}; waiting {seconds:g} s more before retrying would pass llm.timeout ({self.deadline.seconds:g} s)"
            )
        time.sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The certificates, loaded once per process: loading them took 0.25-0.45 s a request here."""
    import httpx

    return httpx.create_ssl_context()


def _content(reply: dict[str, Any]) -> str | None:
    """choices[0].message.content, the reply text of every OpenAI-compatible server."""
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) and content.strip() else None


def _server_message(body: bytes) -> str:
    """': <the server's own words>' from an error body ({"error": {"message": ...}} or text), short."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
        error = data.get("error") if isinstance(data, dict) else None
        text = str(error.get("message") if isinstance(error, dict) else error or data.get("detail") or "")
    except (ValueError, AttributeError):
        pass
    text = " ".join(text.split())
    return f": {safe(text[:160])}" if text else ""


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason_of(exc: Exception) -> str:
    """The innermost reason ('[Errno 111] Connection refused' rather than httpx's wrapper text)."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    return str(inner) or type(inner).__name__
