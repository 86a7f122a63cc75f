"""heard ask with an LLM: what it sends to an OpenAI-compatible endpoint, how it checks what comes
back, and how it fails. Against a real HTTP server on 127.0.0.1 (tests/llm_server.py) that answers
the way models and servers fail. The candidates are hits as search returns them, written here, so
no model loads: every test here runs in make test-fast (the CLI and the page: test_ask.py)."""

from __future__ import annotations

import re
import socket
import time

import pytest
from llm_server import LlmServer

from pipeline.answering.answers import Answer
from pipeline.answering.ask import LlmAnswerer
from pipeline.answering.endpoint import Endpoint, LlmError, announcement
from pipeline.answering.options import AskRequest
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.finding.hits import Answers, Hit

pytestmark = pytest.mark.fast

QUESTION = "why do small teams churn after the renewal price goes up?"
QUOTES = [
    ("The renewal price doubled for our small team, so we left at the end of the year.", "Dana Whitfield", "Acme Logistics"),
    ("Call me on 415-555-0142 or write to dana@acme.example if the renewal goes up again.", "Dana Whitfield", "Acme Logistics"),
    ("Our team of five could not justify paying for seasonal staff all year after the renewal.", "Priya", "Brightside"),
    ("I click Export to CSV and it times out on the large workspace.", "Sam", "Northwind"),
    ("Marcus stayed on the phone with me until the problem was resolved.", "Tom", "Copper Kettle"),
]


def hit(number: int, text: str, speaker: str, company: str) -> Hit:
    return Hit(
        text=text,
        recording=f"/recordings/r{number}.mp3",
        recording_id=f"{number:016x}",
        title=f"Interview {number}",
        start=10.0 * number,
        end=10.0 * number + 6,
        speaker=speaker,
        score=1 - number / 10,
        chunk_id=f"{number:016x}:1",
        role="customer",
        metadata={"company": company, "date": "2026-03-14"},
    )


@pytest.fixture
def candidates() -> Answers:
    return Answers("small teams churn", [hit(n, *q) for n, q in enumerate(QUOTES, 1)], searched=5)


@pytest.fixture
def server():
    with LlmServer() as running:
        yield running


def settings_for(tmp_path, server: LlmServer | None = None, **llm):
    env = {"HEARD_LLM_BASE_URL": server.base_url, "HEARD_LLM_MODEL": "tiny-test-model"} if server else {}
    env |= {f"HEARD_LLM_{k.upper()}": str(v) for k, v in llm.items()}
    return load_settings(data_dir=tmp_path, environ=env)


def answer_with(tmp_path, server: LlmServer, candidates: Answers, **llm) -> Answer:
    settings = settings_for(tmp_path, server, **llm)
    endpoint = Endpoint.configured(settings.llm, environ={})
    return LlmAnswerer(settings, endpoint, AskRequest(QUESTION), candidates).answer(announce=None)


def test_a_well_behaved_model_gives_sentences_that_cite_the_quotes_it_was_sent(tmp_path, server, candidates):
    answer = answer_with(tmp_path, server, candidates)

    assert answer.mode == "llm" and answer.model == "tiny-test-model" and not answer.dropped
    assert answer.claims and all(claim.quotes for claim in answer.claims)
    cited = {h.quote_id for claim in answer.claims for h in claim.quotes}
    assert cited <= {h.quote_id for h in candidates.hits}
    # The judge's step first, then the answer over the quotes it kept: two requests, counted.
    assert [r.kind for r in server.requests] == ["judge", "answer"]
    assert answer.tokens.requests == 2 and answer.tokens.sent > 0 and answer.tokens.received > 0 and not answer.tokens.estimated
    assert answer.candidates == 5 and answer.sent == 5 and 0 < answer.used < 5


def test_the_request_is_openai_chat_completions_json(tmp_path, server, candidates):
    answer_with(tmp_path, server, candidates)

    first = server.requests[0]
    assert first.path == "/v1/chat/completions" and first.headers["content-type"] == "application/json"
    body = first.body
    assert body["model"] == "tiny-test-model" and body["stream"] is False and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    # Each candidate numbered, with who said it, their company and the date; JSON asked for in words too
    # (OpenAI's JSON mode requires it).
    user = body["messages"][1]["content"]
    assert '[3] [PERSON 2] (customer), Brightside, 2026-03-14: "Our team of five' in user
    assert "JSON" in user and "authorization" not in first.headers


def test_the_key_comes_from_the_named_environment_variable_and_a_wrong_one_is_named(tmp_path, candidates, monkeypatch):
    with LlmServer(key="sk-right") as server:
        monkeypatch.setenv("TEAM_LLM_KEY", "sk-right")
        settings = settings_for(tmp_path, server, api_key_env="TEAM_LLM_KEY")
        answer = LlmAnswerer(settings, Endpoint.configured(settings.llm), AskRequest(QUESTION), candidates).answer(None)
        assert answer.claims and server.requests[0].headers["authorization"] == "Bearer sk-right"

        monkeypatch.setenv("TEAM_LLM_KEY", "sk-wrong")
        with pytest.raises(LlmError) as refused:
            LlmAnswerer(settings, Endpoint.configured(settings.llm), AskRequest(QUESTION + "?"), candidates).answer(None)
        said = str(refused.value)
        assert said.startswith(f"llm {server.base_url}: refused the API key in TEAM_LLM_KEY (401: Incorrect API key")
        assert "sk-wrong" not in said

        monkeypatch.delenv("TEAM_LLM_KEY")
        with pytest.raises(LlmError, match=r"asks for an API key \(401.*\); put it in the environment variable TEAM_LLM_KEY"):
            LlmAnswerer(settings, Endpoint.configured(settings.llm), AskRequest(QUESTION + "??"), candidates).answer(None)


@pytest.mark.parametrize(
    "fault,reason",
    [
        ("unsent", "it cites quote 999, which heard did not send"),
        ("uncited", "no quote supports it"),
        ("out_of_range", "it cites quote 500, which heard did not send"),
    ],
)
def test_a_sentence_citing_nothing_or_a_quote_never_sent_is_dropped_and_counted(tmp_path, candidates, fault, reason):
    with LlmServer(content=fault) as server:
        answer = answer_with(tmp_path, server, candidates)

    assert [d.reason for d in answer.dropped] == [reason]
    assert answer.dropped_line() == f"1 sentence dropped: {reason}"
    assert answer.claims, "the supported sentences stay"
    sent = {h.quote_id for h in candidates.hits}
    assert all(h.quote_id in sent for claim in answer.claims for h in claim.quotes)
    assert answer.to_dict()["dropped"] == 1


def test_out_of_range_numbers_from_the_judge_are_ignored(tmp_path, candidates):
    with LlmServer(content="out_of_range") as server:
        answer = answer_with(tmp_path, server, candidates)
        answer_request = server.requests[1].prompt

    assert not re.search(r"^\[(0|500)\]", answer_request, re.M)
    assert 0 < answer.used < 5


@pytest.mark.parametrize("fault", ["prose", "inline"])
def test_json_in_a_code_fence_with_trailing_prose_and_inline_citations_are_read(tmp_path, candidates, fault):
    with LlmServer(content=fault) as server:
        answer = answer_with(tmp_path, server, candidates)

    assert answer.claims and not answer.dropped
    assert all("[" not in claim.sentence for claim in answer.claims)


def test_a_reply_without_json_is_one_error_naming_the_endpoint(tmp_path, candidates):
    with LlmServer(content="not_json") as server, pytest.raises(LlmError) as error:
        answer_with(tmp_path, server, candidates)
    assert str(error.value).startswith(f"llm {server.base_url}: answered malformed JSON (the model's reply is not a JSON object")


def test_a_judge_that_keeps_nothing_sends_no_answer_request(tmp_path, candidates):
    with LlmServer(content="none") as server:
        answer = answer_with(tmp_path, server, candidates)
        assert len(server.requests) == 1
    assert answer.claims == [] and "found no quote that answers" in answer.note


@pytest.mark.parametrize("fault", ["500", "empty", "garbage", "no_choices"])
def test_a_failure_that_may_pass_is_retried(tmp_path, candidates, fault):
    with LlmServer(http=[fault]) as server:
        answer = answer_with(tmp_path, server, candidates)
        assert len(server.requests) == 3  # the failed one, then judge and answer
    assert answer.claims


@pytest.mark.parametrize(
    "fault,reason",
    [
        ("500", "answered HTTP 500: model runner crashed"),
        ("empty", "answered malformed JSON (an empty body)"),
        ("garbage", "answered malformed JSON (a body that is not JSON)"),
        ("no_choices", "answered malformed JSON (no message content in choices[0])"),
    ],
)
def test_a_failure_that_lasts_is_one_line_naming_the_endpoint_and_the_reason(tmp_path, candidates, fault, reason):
    with LlmServer(http=[fault] * 2) as server, pytest.raises(LlmError) as error:
        answer_with(tmp_path, server, candidates, retries=1)
    assert str(error.value) == f"llm {server.base_url}: {reason}"
    assert len(server.requests) == 2 and "\n" not in str(error.value)


def test_a_429_waits_for_its_retry_after_then_asks_again(tmp_path, candidates):
    with LlmServer(http=["429"], retry_after="1") as server:
        started = time.monotonic()
        answer = answer_with(tmp_path, server, candidates)
        assert time.monotonic() - started >= 1.0
    assert answer.claims


def test_a_429_asking_for_more_than_the_deadline_leaves_fails_at_once(tmp_path, candidates):
    with LlmServer(http=["429"], retry_after="120") as server:
        started = time.monotonic()
        with pytest.raises(LlmError, match=r"rate limited \(429: Rate limit reached\); waiting 120 s more .* pass llm.timeout \(10 s\)"):
            answer_with(tmp_path, server, candidates, timeout=10)
        assert time.monotonic() - started < 5


def test_a_stalled_server_never_holds_ask_past_llm_timeout(tmp_path, candidates):
    with LlmServer(http=["stall"], stall_seconds=20) as server:
        started = time.monotonic()
        with pytest.raises(LlmError) as error:
            answer_with(tmp_path, server, candidates, timeout=1)
        took = time.monotonic() - started
    assert took < 3, f"blocked {took:.1f} s"  # 1 s and the time a busy machine takes to notice, not the 20 s stall
    assert str(error.value) == f"llm {server.base_url}: no answer within llm.timeout (1 s); raise it, or use a faster model"


def test_the_timeout_covers_every_request_and_retry_together(tmp_path, candidates):
    """A 500 and its backoff, then a stall: the stall gets only what is left of the 1.5 s, not 1.5 s more."""
    with LlmServer(http=["500", "stall"], stall_seconds=5) as server:
        started = time.monotonic()
        with pytest.raises(LlmError, match="no answer within llm.timeout"):
            answer_with(tmp_path, server, candidates, timeout=1.5, retries=5)
        assert time.monotonic() - started < 3, "not 1.5 s and then the 5 s stall"


def test_an_endpoint_that_is_down_is_named_with_the_reason(tmp_path, candidates):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    settings = load_settings(
        data_dir=tmp_path, environ={"HEARD_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "HEARD_LLM_MODEL": "m", "HEARD_LLM_RETRIES": "1"}
    )
    with pytest.raises(LlmError) as error:
        LlmAnswerer(settings, Endpoint.configured(settings.llm), AskRequest(QUESTION), candidates).answer(None)
    assert re.fullmatch(rf"llm http://127\.0\.0\.1:{port}/v1: cannot connect \(.*refused.*\); is the server running\?", str(error.value))


def test_a_server_that_refuses_response_format_is_asked_again_without_it(tmp_path, candidates):
    with LlmServer(http=["format"]) as server:
        answer = answer_with(tmp_path, server, candidates)
        bodies = [r.body for r in server.requests]
    assert answer.claims
    assert "response_format" in bodies[0] and all("response_format" not in b for b in bodies[1:])


def test_temperature_null_leaves_it_out(tmp_path, server, candidates):
    answer_with(tmp_path, server, candidates, temperature="null")
    assert "temperature" not in server.requests[0].body


def test_names_emails_and_phone_numbers_are_not_sent_and_come_back_in_the_answer(tmp_path, server, candidates):
    answer = answer_with(tmp_path, server, candidates)

    sent = "\n".join(r.prompt for r in server.requests)
    for private in ("Dana", "Whitfield", "Priya", "415-555-0142", "dana@acme.example"):
        assert private not in sent, private
    assert "Marcus" in sent, "a name heard does not know (no speaker, no voice, no metadata) is sent as it is"
    assert "[PERSON 1]" in sent and "[EMAIL 1]" in sent and "[PHONE 1]" in sent and "Acme Logistics" in sent
    assert answer.redacted >= 5
    # The model's sentences quote the redacted text; the reader gets it back.
    written = " ".join(claim.sentence for claim in answer.claims)
    assert "[PERSON" not in written and "[EMAIL" not in written


def test_redaction_can_be_turned_off(tmp_path, server, candidates):
    answer_with(tmp_path, server, candidates, redact_names="false", redact_emails="false", redact_phones="false")
    assert "dana@acme.example" in server.requests[0].prompt and "Dana Whitfield" in server.requests[0].prompt


def test_an_answer_is_kept_by_question_quotes_and_model(tmp_path, server, candidates):
    first = answer_with(tmp_path, server, candidates)
    again = answer_with(tmp_path, server, candidates)

    assert len(server.requests) == 2, "the second answer came from the cache"
    assert again.cached and again.tokens.requests == 0
    assert [c.sentence for c in again.claims] == [c.sentence for c in first.claims]
    assert list((tmp_path / "answers-cache").glob("*.json"))
    answer_with(tmp_path, server, candidates, model="another-model")
    assert len(server.requests) == 4, "another model is asked again"
    fewer = Answers(candidates.subject, candidates.hits[:3], candidates.searched)
    answer_with(tmp_path, server, fewer)
    assert len(server.requests) == 6, "other quotes are asked again"


def test_only_as_many_quotes_as_fit_the_context_are_sent(tmp_path, server):
    long = [hit(n, ("renewal price went up for our team " * 40).strip(), "S2", "Acme") for n in range(1, 41)]
    answer = answer_with(tmp_path, server, Answers("x", long, 40), max_context_tokens=4096)

    assert 0 < answer.sent < 40 and answer.candidates == 40
    judged = server.requests[0].prompt
    assert len(judged) // 3 <= 4096 and f"[{answer.sent}] " in judged and f"[{answer.sent + 1}] " not in judged


def test_an_endpoint_off_this_machine_is_named_once_per_run():
    remote = Endpoint("https://llm.example.com/v1", "big-model")
    assert announcement(remote, 12) == (
        "sending the question and 12 quotes to llm.example.com (https://llm.example.com/v1, model big-model): "
        "it is not on this machine"
    )
    assert announcement(remote, 12) is None
    assert announcement(Endpoint("http://localhost:11434/v1", "m"), 3) is None
    assert announcement(Endpoint("http://127.0.0.1:8080/v1", "m"), 3) is None


def test_nothing_is_configured_by_default_and_settings_come_from_the_environment(tmp_path):
    settings = load_settings(data_dir=tmp_path, environ={})
    assert settings.llm.base_url is None and Endpoint.configured(settings.llm) is None
    env = {"HEARD_LLM_BASE_URL": "http://localhost:11434/v1", "HEARD_LLM_MODEL": "llama3.1:8b", "HEARD_LLM_TIMEOUT": "30",
           "HEARD_LLM_API_KEY": "sk-secret"}
    endpoint = Endpoint.configured(load_settings(data_dir=tmp_path, environ=env).llm, environ=env)
    assert endpoint.url == "http://localhost:11434/v1/chat/completions" and endpoint.model == "llama3.1:8b"
    assert endpoint.timeout == 30 and endpoint.api_key == "sk-secret" and endpoint.local


@pytest.mark.parametrize(
    "env,said",
    [
        ({"HEARD_LLM_BASE_URL": "localhost:11434"}, "is not an API address; write it as http://host:port/v1"),
        ({"HEARD_LLM_TIMEOUT": "0"}, "HEARD_LLM_TIMEOUT (llm.timeout): 0 is out of range; give 1 to 3600"),
        ({"HEARD_LLM_API_KEY_ENV": "sk-proj-abc123"}, "give the name of the environment variable that holds the API key"),
        ({"HEARD_LLM_MAX_CONTEXT_TOKENS": "100"}, "100 is out of range; give 1024 to 10000000"),
    ],
)
def test_llm_settings_are_checked_at_load(env, said):
    with pytest.raises(ConfigError, match=re.escape(said)):
        load_settings(environ=env)


def test_a_base_url_without_a_model_is_one_line_saying_what_to_set(tmp_path):
    settings = load_settings(data_dir=tmp_path, environ={"HEARD_LLM_BASE_URL": "http://localhost:11434/v1"})
    with pytest.raises(ConfigError, match=r"llm.model: not set; name the model http://localhost:11434/v1 serves"):
        Endpoint.configured(settings.llm)


def test_a_reasoning_models_thinking_before_the_json_is_skipped():
    from pipeline.answering.replies import checked_answer

    reply = '<think>Maybe {"sentences": []} would do? No: quote 2 answers.</think>\n{"sentences": [{"text": "Renewals hurt.", "quotes": [2]}]}'
    checked = checked_answer(reply, {1, 2})
    assert [(s.text, s.numbers) for s in checked.sentences] == [("Renewals hurt.", [2])]
