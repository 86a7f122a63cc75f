"""Every option of search and themes is declared once (pipeline/finding/options.py): `heard search`,
the search page and /api/search accept and refuse exactly the same values, with the same words."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import run_heard

from pipeline.finding.options import SEARCH, THEMES

QUERY = "what do customers say about pricing"
TOO_LONG = "x" * 201

# Each web option with values it takes and values it refuses; a flag's bad values exist only on
# the web (a command-line flag takes no value).
CASES: dict[str, tuple[list[str], list[str]]] = {
    "k": (["3", " 7 "], ["0", "1001", "-5", "three", "2.5"]),
    "per-recording": (["1", "0"], ["-1", "1001", "one"]),
    "all": (["1"], []),
    "role": (["customer", "Customer", "INTERVIEWER"], ["boss", "customers"]),
    "speaker": (["Priya", "priya"], ["Priya\x1b[2J", TOO_LONG]),
    "company": (["Acme Logistics", "Acme\nLogistics"], ["Acme\x00", "Acme\x1b]0;pwned\x07", TOO_LONG]),
    "segment": (["enterprise"], ["seg\x07"]),
    "tag": (["pricing", "pricing,seats"], ["bad\x00tag"]),
    "since": (["2020-01-01"], ["2026-13-01", "yesterday", "01/02/2026"]),
    "until": (["2030-12-31"], ["2026-02-30"]),
    "recording": (["{recording_id}", "{recording_path}"], ["no-such-recording", "0123456789abcdef"]),
    "show": (["Builders"], ["\u202eevil"]),
    "language": (["en", "EN", "en-GB", "English"], ["english!", "e", "x" * 21]),
    "translate": (["1"], []),
}
PAIRS: list[tuple[list[tuple[str, str]], bool]] = [
    ([("since", "2026-05-01"), ("until", "2026-01-01")], False),
    ([("all", "1"), ("k", "3")], False),
    ([("all", "1"), ("per-recording", "2")], False),
    ([("since", "2020-01-01"), ("until", "2030-01-01"), ("role", "customer")], True),
]


def test_every_web_option_is_walked():
    walked = {name for name in CASES}
    declared = {o.name for o in SEARCH if o.web and not o.argument}
    assert walked == declared, "an option was added without cases here"


@pytest.fixture(scope="module")
def surfaces(web_server, web_data, test_config):
    """The three ways to ask: the command line, the page and the API, over one data dir."""
    known = {"recording_id": web_data.ids["northwind-pricing.ogg"], "recording_path": str(web_data.recordings / "acme-export.mp3")}

    def fill(pairs):
        return [(name, value.format(**known)) for name, value in pairs]

    def cli(pairs):
        args = ["search", QUERY, "--format", "json"]
        for name, value in fill(pairs):
            option = next(o for o in SEARCH if o.name == name)
            spelling = (option.flags or (f"--{option.name}",))[-1]
            args += [spelling] if option.kind == "flag" else [spelling, value]
        result = run_heard(args, web_data.data_dir, test_config)
        if result.exit_code == 0:
            return True, [h["quote_id"] for h in json.loads(result.stdout)]
        assert result.exit_code == 2, result.output
        return False, result.stderr.strip().splitlines()[-1].removeprefix("Error: ")

    def api(pairs):
        url = f"{web_server.url}/api/search?{urllib.parse.urlencode([('q', QUERY), *fill(pairs)])}"
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return True, [h["quote_id"] for h in json.load(response)["hits"]]
        except urllib.error.HTTPError as error:
            assert error.code == 400, error.read()
            return False, json.load(error)["detail"]

    def page(pairs):
        url = f"{web_server.url}/?{urllib.parse.urlencode([('q', QUERY), *fill(pairs)])}"
        with urllib.request.urlopen(url, timeout=120) as response:
            body = response.read().decode()
        errors = [html.unescape(e) for e in re.findall(r'<p class="error" role="alert">(.*?)</p>', body, re.S)]
        if errors:
            return False, "; ".join(errors)
        return True, re.findall(r'data-quote-id="([^"]+)"', body)

    return cli, api, page


def _walk(surfaces, pairs):
    cli, api, page = surfaces
    return cli(pairs), api(pairs), page(pairs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_option_is_refused_alike_everywhere(surfaces, name):
    for value in CASES[name][1]:
        (cli_ok, cli_said), (api_ok, api_said), (page_ok, page_said) = _walk(surfaces, [(name, value)])
        if name == "all":
            continue
        assert not cli_ok and not api_ok and not page_ok, (name, value)
        assert cli_said == api_said == page_said, (name, value)
        assert cli_said.startswith(f"{name}: ") or cli_said.startswith("recording: "), cli_said


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_option_is_taken_alike_everywhere_with_the_same_hits(surfaces, name):
    for value in CASES[name][0]:
        (cli_ok, cli_hits), (api_ok, api_hits), (page_ok, page_hits) = _walk(surfaces, [(name, value)])
        assert cli_ok and api_ok and page_ok, (name, value, cli_hits, api_hits, page_hits)
        assert cli_hits == api_hits == page_hits, (name, value)


@pytest.mark.parametrize("pairs,taken", PAIRS)
def test_rules_between_options_hold_everywhere(surfaces, pairs, taken):
    (cli_ok, cli_said), (api_ok, api_said), (page_ok, page_said) = _walk(surfaces, pairs)
    assert cli_ok == api_ok == page_ok == taken
    assert cli_said == api_said == page_said


def test_defaults_come_from_the_config_on_every_surface(surfaces):
    """search.k (5 in the test config's defaults) is the number of hits everywhere when k is not given."""
    (_, cli_hits), (_, api_hits), (_, page_hits) = _walk(surfaces, [])
    assert len(cli_hits) == len(api_hits) == len(page_hits) == 5


def test_an_empty_query_is_refused_by_the_command_line_and_the_api_in_the_same_words(web_server, web_data, test_config):
    result = run_heard(["search", "  "], web_data.data_dir, test_config)
    assert result.exit_code == 2
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{web_server.url}/api/search?q=", timeout=60)
    assert error.value.code == 400
    said = json.load(error.value)["detail"]
    assert said == result.stderr.strip().splitlines()[-1].removeprefix("Error: ") == 'query: say what to look for, e.g. "pricing"'


def test_themes_options_are_refused_alike(web_server, web_data, test_config):
    for value in ("0", "many"):
        result = run_heard(["themes", "--min-recordings", value], web_data.data_dir, test_config)
        assert result.exit_code == 2
        cli_said = result.stderr.strip().splitlines()[-1].removeprefix("Error: ")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{web_server.url}/api/themes?min-recordings={value}", timeout=60)
        assert json.load(error.value)["detail"] == cli_said
        assert cli_said.startswith("min-recordings: ")
    assert {o.name for o in THEMES if o.web} >= {"query", "min-recordings", "role", "since"}


def test_the_api_documents_every_option_with_its_bounds(web_server):
    with urllib.request.urlopen(f"{web_server.url}/openapi.json", timeout=60) as response:
        schema = json.load(response)
    parameters = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert set(parameters) == {o.url_name for o in SEARCH if o.web}
    assert parameters["k"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert parameters["role"]["schema"]["enum"] == ["interviewer", "customer", "host", "guest"]
    assert parameters["q"]["required"] is True
    assert parameters["tag"]["schema"]["type"] == "array"
