"""`heard ask`, POST /api/ask and the Ask page on real ingests of the examples: the extractive answer
without an LLM, and with one (a real OpenAI-compatible server on 127.0.0.1, tests/llm_server.py)
the checked answer, `search --all --judge`, and what happens when it fails."""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest
from llm_server import LlmServer
from test_options import CASES

from pipeline.answering.options import ASK
from pipeline.finding.options import FILTERS

QUESTION = "what problems do customers have with exporting data"
BROAD = "what gets in the way of customers"


@pytest.fixture
def data_dir(indexed_examples, tmp_path):
    """A copy of the ingested examples: heard ask keeps themes and answers in the data dir, and the
    shared one is only read."""
    copy = tmp_path / "data"
    shutil.copytree(indexed_examples[0], copy)
    return copy


@pytest.fixture
def llm(monkeypatch):
    """A loopback OpenAI-compatible server, configured the way a user would: HEARD_LLM_* variables."""
    with LlmServer() as server:
        monkeypatch.setenv("HEARD_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("HEARD_LLM_MODEL", "loopback-test-model")
        yield server


def every_answer(heard, data_dir, question: str) -> tuple[str, set[str]]:
    """search --all's count line and quote ids for `question`: the candidates ask starts from."""
    result = heard(["search", question, "--all", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    return result.stderr.strip().splitlines()[-1], {h["quote_id"] for h in json.loads(result.stdout)}


def test_without_an_llm_the_answer_is_themes_with_their_quotes_and_nothing_is_sent(data_dir, heard):
    result = heard(["ask", QUESTION, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)

    count, candidates = every_answer(heard, data_dir, QUESTION)
    assert answer["mode"] == "extractive" and answer["model"] is None and answer["tokens"]["requests"] == 0
    assert answer["count"] == count and answer["candidates"] == len(candidates)
    assert answer["answer"], "the examples' export complaints make at least one theme"
    for item in answer["answer"]:
        # Each item is a theme: its count line, never a written sentence, and its two most
        # representative quotes, customers' words (the interviewer's are no theme's).
        assert re.fullmatch(r".+: \d+ of 3 recordings?(, \d+ compan(y|ies))?, \d+ quotes?", item["sentence"]), item["sentence"]
        assert item["sentence"].startswith(item["theme"] + ": ")
        assert 1 <= len(item["quotes"]) <= 2
        assert all(q["role"] not in ("interviewer", "host") and q["quote_id"] in candidates for q in item["quotes"])
    assert "llm.base_url" in answer["note"] and "nothing left this machine" in answer["note"]


def test_the_extractive_answer_on_the_terminal(data_dir, heard):
    result = heard(["ask", QUESTION], data_dir)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    count, _ = every_answer(heard, data_dir, QUESTION)
    assert lines[0] == f"“{QUESTION}”" and lines[1] == count
    assert re.search(r"^1\. .+: \d+ of 3 recordings", result.stdout, re.M)
    assert re.search(r"^   “.+", result.stdout, re.M)
    flat = " ".join(result.stdout.split())  # as wide as the terminal is: lines wrap
    assert re.search(r"” — S\d \(customer\), .+ at \d\d:\d\d · [0-9a-f]+-\d+-\d+ ", flat)
    assert "No LLM is configured" in flat and "nothing was sent" in flat


def test_with_an_llm_each_sentence_cites_quotes_heard_sent(data_dir, heard, llm):
    result = heard(["ask", QUESTION, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)

    _, candidates = every_answer(heard, data_dir, QUESTION)
    assert answer["mode"] == "llm" and answer["model"] == "loopback-test-model" and answer["endpoint"] == llm.base_url
    assert answer["answer"] and answer["dropped"] == 0 and answer["error"] is None
    for item in answer["answer"]:
        assert item["sentence"] and item["quotes"]
        assert all(q["quote_id"] in candidates and q["start"] < q["end"] for q in item["quotes"])
    assert answer["tokens"]["requests"] == 2 and answer["tokens"]["sent"] > 0
    assert answer["sent"] == answer["candidates"] == len(candidates) and 0 < answer["used"] <= answer["sent"]
    # The loopback endpoint is on this machine: nothing is announced.
    assert "sending the question" not in result.stderr


def test_the_llm_answer_on_the_terminal_with_a_dropped_sentence(data_dir, heard, llm):
    llm.content = "uncited"
    result = heard(["ask", QUESTION], data_dir)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"^One customer said: .+\. \[1\]$", out, re.M)
    assert "(1 sentence dropped: no quote supports it)" in out
    assert "Everyone agrees" not in out
    assert re.search(r"^\[1\] “.+", out, re.M) and re.search(r"” — S\d \(customer\), .+ at \d\d:\d\d · ", " ".join(out.split()))
    assert re.search(r"loopback-test-model at http://127\.0\.0\.1:\d+/v1: \d+ answering quotes found, \d+ sent, \d+ judged answering, "
                     r"\d+ cited; tokens: [\d,]+ sent, [\d,]+ received \(2 requests\)", " ".join(out.split()))


def test_when_the_llm_is_down_one_line_says_why_then_the_extractive_answer_and_exit_1(data_dir, heard, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HEARD_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("HEARD_LLM_MODEL", "m")
    monkeypatch.setenv("HEARD_LLM_RETRIES", "0")
    result = heard(["ask", QUESTION, "--format", "json"], data_dir)

    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"Error: llm http://127.0.0.1:{port}/v1: cannot connect (")
    assert error[0].endswith("is the server running?; the extractive answer follows")
    answer = json.loads(result.stdout)
    assert answer["mode"] == "extractive" and answer["answer"] and answer["error"] in error[0]

    printed = " ".join(heard(["ask", QUESTION], data_dir).stdout.split())
    assert "nothing was sent" not in printed  # it was addressed to the LLM, which may have read it
    assert f"went to m at http://127.0.0.1:{port}/v1, which gave no answer" in printed


def test_extractive_sends_nothing_even_with_an_llm(data_dir, heard, llm):
    result = heard(["ask", QUESTION, "--extractive", "--format", "json"], data_dir)
    assert result.exit_code == 0 and json.loads(result.stdout)["mode"] == "extractive"
    assert llm.requests == []


def test_ask_takes_the_filters_of_search(data_dir, heard):
    result = heard(["ask", QUESTION, "--company", "no such company", "--format", "json"], data_dir)
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["answer"] == [] and answer["count"].endswith(": 0 of 0 recordings, 0 quotes") and "No quote" in answer["note"]
    assert {o.name for o in FILTERS} <= {o.name for o in ASK}


def test_search_all_judge_keeps_what_the_llm_says_answers(data_dir, heard, llm):
    _, every = every_answer(heard, data_dir, QUESTION)
    result = heard(["search", QUESTION, "--all", "--judge", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    kept = {h["quote_id"] for h in json.loads(result.stdout)}
    assert kept and kept <= every
    assert re.search(rf"loopback-test-model judged {len(kept)} of {len(every)} quotes answering; tokens: ", result.stderr)
    assert [r.kind for r in llm.requests] == ["judge"]


def test_judge_needs_all_and_an_llm(data_dir, heard):
    result = heard(["search", QUESTION, "--judge"], data_dir)
    assert result.exit_code == 2 and "judge: keeps the quotes of --all that answer; add --all" in result.stderr
    result = heard(["search", QUESTION, "--all", "--judge"], data_dir)
    assert result.exit_code == 2 and "judge: needs an LLM; set llm.base_url and llm.model" in result.stderr


# ---- the page and the API ------------------------------------------------------------------------


def post(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("name", sorted({o.name for o in FILTERS}))
def test_a_filter_is_refused_alike_by_ask_the_api_and_the_page(web_server, web_data, test_config, name):
    from conftest import run_heard

    for value in CASES[name][1]:
        value = value.format(recording_id="", recording_path="")
        cli = run_heard(["ask", QUESTION, f"--{name}", value], web_data.data_dir, test_config)
        assert cli.exit_code == 2, (name, value, cli.output)
        said = cli.stderr.strip().splitlines()[-1].removeprefix("Error: ")
        status, body = post(f"{web_server.url}/api/ask", {"q": QUESTION, name: value})
        assert status == 400 and body["detail"] == said, (name, value)
        with urllib.request.urlopen(f"{web_server.url}/ask?{urllib.parse.urlencode({'q': QUESTION, name: value})}", timeout=120) as page:
            errors = re.findall(r'<p class="error" role="alert">(.*?)</p>', page.read().decode(), re.S)
        assert [html.unescape(e) for e in errors] == [said], (name, value)


@pytest.mark.parametrize("name,value", [("role", "Customer"), ("tag", "onboarding,sso"), ("since", "2020-01-01"),
                                        ("recording", "{recording_id}")])
def test_a_filter_is_taken_alike_by_ask_the_api_and_the_page(web_server, web_data, test_config, name, value):
    from conftest import run_heard

    value = value.format(recording_id=web_data.ids["brightside-onboarding.m4a"])
    cli = run_heard(["ask", BROAD, f"--{name}", value, "--format", "json"], web_data.data_dir, test_config)
    assert cli.exit_code == 0, cli.output
    quotes = [q["quote_id"] for item in json.loads(cli.stdout)["answer"] for q in item["quotes"]]
    status, body = post(f"{web_server.url}/api/ask", {"q": BROAD, name: value})
    assert status == 200 and [q["quote_id"] for item in body["answer"] for q in item["quotes"]] == quotes
    with urllib.request.urlopen(f"{web_server.url}/ask?{urllib.parse.urlencode({'q': BROAD, name: value})}", timeout=120) as page:
        assert re.findall(r'data-quote-id="([^"]+)"', page.read().decode()) == quotes
    assert quotes, "each of these filters leaves quotes that answer"


def test_the_api_answers_without_an_llm(web_server):
    status, body = post(f"{web_server.url}/api/ask", {"q": QUESTION, "role": "customer"})
    assert status == 200 and body["mode"] == "extractive" and body["answer"]
    first = body["answer"][0]["quotes"][0]
    assert first["link"].startswith(f"{web_server.url}/recordings/") and first["media"].startswith(f"{web_server.url}/media/")
    # The same request as URL parameters, and as a form.
    status, by_url = post(f"{web_server.url}/api/ask?{urllib.parse.urlencode({'q': QUESTION, 'role': 'customer'})}")
    assert status == 200 and by_url["answer"] == body["answer"]


def test_the_api_refuses_a_missing_question_and_another_sites_page(web_server):
    assert post(f"{web_server.url}/api/ask", {}) == (400, {"detail": 'question: ask a question, e.g. "why do small teams churn?"'})
    status, body = post(f"{web_server.url}/api/ask", {"q": QUESTION}, {"Origin": "https://evil.example"})
    assert status == 403


def test_the_api_page_documents_ask(web_server):
    with urllib.request.urlopen(f"{web_server.url}/openapi.json", timeout=60) as response:
        operation = json.load(response)["paths"]["/api/ask"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {o.url_name for o in ASK}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["q"] and schema["properties"]["role"]["enum"] == ["interviewer", "customer", "host", "guest"]


def test_the_ask_page_answers_at_once_without_an_llm(web_server):
    with urllib.request.urlopen(f"{web_server.url}/ask?{urllib.parse.urlencode({'q': QUESTION})}", timeout=120) as page:
        body = page.read().decode()
    assert 'data-mode="extractive"' in body and 'class="play"' in body and "llm.base_url" in body
    assert '<a href="/ask">Ask</a>' in body


def test_with_an_llm_a_link_to_the_ask_page_sends_nothing_until_asked(llm_web):
    server, llm = llm_web
    before = len(llm.requests)
    with urllib.request.urlopen(f"{server.url}/ask?{urllib.parse.urlencode({'q': QUESTION})}", timeout=120) as page:
        body = page.read().decode()
    assert 'method="post"' in body and 'id="press-ask"' in body and "loopback-test-model" in body
    assert len(llm.requests) == before


def test_with_an_llm_the_api_and_the_page_answer_with_citations(llm_web):
    server, llm = llm_web
    status, body = post(f"{server.url}/api/ask", {"q": QUESTION})
    assert status == 200 and body["mode"] == "llm" and body["answer"][0]["quotes"][0]["link"]
    form = urllib.parse.urlencode({"q": QUESTION}).encode()
    request = urllib.request.Request(f"{server.url}/ask", data=form, method="POST", headers={"Origin": server.url})
    with urllib.request.urlopen(request, timeout=120) as page:
        text = page.read().decode()
    assert 'data-mode="llm"' in text and 'class="cite" href="#quote-1"' in text and 'id="quote-1"' in text
    crossed = urllib.request.Request(f"{server.url}/ask", data=form, method="POST", headers={"Origin": "https://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(crossed, timeout=60)
    assert refused.value.code == 403


def test_with_a_failing_llm_the_api_answers_502_with_the_extractive_answer(llm_web):
    server, llm = llm_web
    llm.http = ["500"] * 10
    try:
        status, body = post(f"{server.url}/api/ask", {"q": QUESTION + " now"})
    finally:
        llm.http = []
    assert status == 502 and body["mode"] == "extractive" and body["answer"]
    assert body["error"] == f"llm {llm.base_url}: answered HTTP 500: model runner crashed"
