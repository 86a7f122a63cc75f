"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for the ask tests: it reads the
request JSON heard sends (model, messages, temperature, response_format), answers in the shape
OpenAI, Ollama, llama.cpp's server and vLLM answer ({"choices": [{"message": {"content": ...}}],
"usage": {...}}), records every request, and fails the way servers and models fail, on demand.

Its "model" is a rule, not weights (none can be had here): the judge keeps the quotes that share a
content word with the question; the answer writes one sentence per kept quote (at most three),
citing it. `content` faults change what that model says; `http` faults what the server does.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from dataclasses import dataclass, field

STOP = set("a an and are as at be but by do does did for from how i in is it of on or so that the their them they this to was we what when where which who why with you your customers customer say said about".split())
QUOTE_LINE = re.compile(r'^\[(\d+)\] [^\n]*?: "(.*)"$', re.M)

# What the model says wrong (content faults):
#   unsent       the answer cites a quote number heard never sent (999) beside a good sentence
#   uncited      one sentence of the answer cites nothing
#   out_of_range the judge names 0 and 500 as well; the answer cites 500 in one sentence
#   prose        JSON followed by trailing prose, inside a code fence
#   inline       citations written into the sentence ("... [2]") with no "quotes" list
#   not_json     prose only, no JSON at all
#   none         the judge keeps nothing
CONTENT_FAULTS = ("unsent", "uncited", "out_of_range", "prose", "inline", "not_json", "none")


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict

    @property
    def prompt(self) -> str:
        return "\n".join(m["content"] for m in self.body.get("messages", []))

    @property
    def kind(self) -> str:
        return "judge" if '"answering"' in self.prompt else "answer"


@dataclass
class LlmServer:
    key: str | None = None  # when set, a request without "Authorization: Bearer <key>" gets 401
    content: str | None = None  # one of CONTENT_FAULTS
    # HTTP faults, one per request, consumed in order, then normal answers: "500", "429" (Retry-After:
    # retry_after), "stall" (sleep stall_seconds, then answer), "empty" (200, no body), "garbage" (200,
    # not JSON), "no_choices" (200, JSON without choices), "format" (400 naming response_format)
    http: list[str] = field(default_factory=list)
    retry_after: str = "1"
    stall_seconds: float = 30.0
    usage: bool = True  # whether replies say how many tokens they counted
    requests: list[Seen] = field(default_factory=list)

    def start(self) -> LlmServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *_args: None  # a client that gave up is what a stall is for
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LlmServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    # ---- the server -----------------------------------------------------------------------------
    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(handler, 400, {"error": {"message": "body is not JSON"}})
        seen = Seen(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        self.requests.append(seen)
        if handler.path != "/v1/chat/completions":
            return self._send(handler, 404, {"error": {"message": f"no route {handler.path}"}})
        if self.key and handler.headers.get("Authorization") != f"Bearer {self.key}":
            return self._send(handler, 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        fault = self.http.pop(0) if self.http else None
        if fault == "500":
            return self._send(handler, 500, {"error": {"message": "model runner crashed"}})
        if fault == "429":
            return self._send(handler, 429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": self.retry_after})
        if fault == "empty":
            return self._raw(handler, 200, b"")
        if fault == "garbage":
            return self._raw(handler, 200, b"<html>Bad gateway</html>")
        if fault == "no_choices":
            return self._send(handler, 200, {"id": "x", "object": "chat.completion", "choices": []})
        if fault == "format" and "response_format" in body:
            return self._send(handler, 400, {"error": {"message": "response_format is not supported by this model"}})
        if fault == "stall":
            time.sleep(self.stall_seconds)
        content = self.reply(seen)
        self._send(handler, 200, self._completion(body, seen.prompt, content))

    def _completion(self, body: dict, prompt: str, content: str) -> dict:
        reply = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
        if self.usage:
            prompt_tokens, completion_tokens = len(prompt) // 4, len(content) // 4
            reply["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        return reply

    def _send(self, handler, status: int, data: dict, headers: dict | None = None) -> None:
        self._raw(handler, status, json.dumps(data).encode(), headers)

    def _raw(self, handler, status: int, payload: bytes, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client stopped waiting

    # ---- the "model" ----------------------------------------------------------------------------
    def reply(self, seen: Seen) -> str:
        question = re.search(r"^Question: (.*)$", seen.prompt, re.M).group(1)
        quotes = {int(n): text for n, text in QUOTE_LINE.findall(seen.prompt)}
        if seen.kind == "judge":
            data = {"answering": self.judge(question, quotes)}
        else:
            data = {"sentences": self.sentences(quotes)}
        return self._dress(data)

    def judge(self, question: str, quotes: dict[int, str]) -> list[int]:
        if self.content == "none":
            return []
        words = {w for w in re.findall(r"[a-z]+", question.lower()) if w not in STOP and len(w) > 2}
        stems = {w[:5] for w in words}
        kept = [n for n, text in quotes.items() if stems & {w[:5] for w in re.findall(r"[a-z]+", text.lower())}]
        kept = kept or sorted(quotes)[:2]
        return kept + ([0, 500] if self.content == "out_of_range" else [])

    def sentences(self, quotes: dict[int, str]) -> list[dict]:
        found = [{"text": f"One customer said: {self._opening(text)}.", "quotes": [n]} for n, text in sorted(quotes.items())[:3]]
        if self.content == "unsent":
            found.append({"text": "Most customers plan to leave next year.", "quotes": [999]})
        if self.content == "uncited":
            found.append({"text": "Everyone agrees that this matters a great deal.", "quotes": []})
        if self.content == "out_of_range":
            found.append({"text": "Churn doubled last quarter.", "quotes": [500]})
        if self.content == "inline":
            found = [{"text": f"{s['text']} [{s['quotes'][0]}]"} for s in found]
        return found

    @staticmethod
    def _opening(text: str) -> str:
        """The quote's first words, lower-cased at the start: 'we were a small team'."""
        words = " ".join(text.split()[:8]).rstrip(",;:.!?")
        return words[:1].lower() + words[1:]

    def _dress(self, data: dict) -> str:
        text = json.dumps(data)
        if self.content == "prose":
            return f"```json\n{text}\n```\n\nI hope this helps! Let me know if you need anything else."
        if self.content == "not_json":
            return "Customers churn because of pricing, mostly."
        return text
