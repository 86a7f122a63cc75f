"""heard search filters: role, speaker, company, segment, tags, dates and recording combine."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import last_json_line

ACME = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Dana Whitfield>How do you export your reports?

00:00:05.000 --> 00:00:11.000
<v Sam Lee>The export of our reports times out every quarter, so I copy rows by hand.
"""
NORTHWIND = """Dana (00:00:01): What do you think of the price of exports and seats?
Priya Shah (00:00:06): The export is fine, but we pay far too much for seats nobody uses.
"""
PODCAST = """1
00:00:02,000 --> 00:00:05,000
Alex: Welcome back to the show. How did your team handle the data export during onboarding?

2
00:00:06,000 --> 00:00:12,000
Jordan: Our onboarding was smooth until the export step, which needed an engineer.
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, test_config):
    from conftest import run_heard

    root = tmp_path_factory.mktemp("corpus")
    calls, shows = root / "calls", root / "shows"
    calls.mkdir()
    shows.mkdir()
    (calls / "acme.vtt").write_text(ACME)
    (calls / "acme.yaml").write_text(
        "title: Acme export\ncompany: Acme Logistics\nsegment: Enterprise\ndate: 2026-01-15\ntags: [export, reporting]\n")
    (calls / "northwind.txt").write_text(NORTHWIND)
    (calls / "manifest.csv").write_text("file,company,segment,date,tags\nnorthwind.txt,Northwind Studio,SMB,2026-03-02,pricing\n")
    (shows / "episode.srt").write_text(PODCAST)
    (shows / "heard.yaml").write_text("kind: podcast\ncompany: Brightside Health\ndate: 2025-11-20\ntags: [onboarding, export]\n")
    data_dir = root / "data"
    result = run_heard(["ingest", root, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    assert last_json_line(result.stdout)["new"] == 3
    return root, data_dir


def _search(heard, data_dir, *args, query="export"):
    result = heard(["search", query, "--format", "json", "-k", "10", *args], data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _speakers(hits):
    return {h["speaker"] for h in hits}


def test_unfiltered_search_sees_every_speaker(corpus, heard):
    _, data_dir = corpus
    assert _speakers(_search(heard, data_dir)) == {"Dana Whitfield", "Sam Lee", "Dana", "Priya Shah", "Alex", "Jordan"}


@pytest.mark.parametrize(
    "args, speakers",
    [
        (["--role", "customer"], {"Sam Lee", "Priya Shah"}),
        (["--role", "Interviewer"], {"Dana Whitfield", "Dana"}),
        (["--role", "guest"], {"Jordan"}),
        (["--role", "host"], {"Alex"}),
        (["--speaker", "sam lee"], {"Sam Lee"}),
        (["--company", "ACME LOGISTICS"], {"Dana Whitfield", "Sam Lee"}),
        (["--segment", "smb"], {"Dana", "Priya Shah"}),
        (["--tag", "export"], {"Dana Whitfield", "Sam Lee", "Alex", "Jordan"}),
        (["--tag", "export", "--tag", "Reporting"], {"Dana Whitfield", "Sam Lee"}),
        (["--since", "2026-01-01"], {"Dana Whitfield", "Sam Lee", "Dana", "Priya Shah"}),
        (["--until", "2025-12-31"], {"Alex", "Jordan"}),
        (["--since", "2026-01-15", "--until", "2026-01-15"], {"Dana Whitfield", "Sam Lee"}),
        (["--role", "customer", "--tag", "export", "--since", "2026-01-01"], {"Sam Lee"}),
        (["--company", "nobody"], set()),
    ],
)
def test_each_filter_narrows_the_hits(corpus, heard, args, speakers):
    _, data_dir = corpus
    assert _speakers(_search(heard, data_dir, *args)) == speakers


def test_recording_filter_takes_a_path_or_an_id(corpus, heard):
    root, data_dir = corpus
    by_path = _search(heard, data_dir, "--recording", root / "shows" / "episode.srt")
    assert _speakers(by_path) == {"Alex", "Jordan"}
    by_id = _search(heard, data_dir, "--recording", by_path[0]["recording_id"])
    assert by_id == by_path


def test_bad_filter_values_are_usage_errors(corpus, heard):
    _, data_dir = corpus
    assert heard(["search", "x", "--since", "March"], data_dir).exit_code == 2
    assert heard(["search", "x", "--role", "boss"], data_dir).exit_code == 2


def test_every_format_carries_speaker_role_and_metadata(corpus, heard):
    _, data_dir = corpus
    args = ["search", "seats nobody uses", "-k", "1", "--role", "customer"]
    hit = json.loads(heard(args + ["--format", "json"], data_dir).stdout)[0]
    assert (hit["speaker"], hit["role"]) == ("Priya Shah", "customer")
    # language: what the transcript's text was detected as (a .txt here), as metadata does not say
    assert hit["metadata"] == {"company": "Northwind Studio", "segment": "SMB", "date": "2026-03-02", "tags": ["pricing"],
                               "language": "en"}
    markdown = heard(args + ["--format", "md"], data_dir).stdout
    assert "Priya Shah (customer)" in markdown and "Northwind Studio" in markdown and "2026-03-02" in markdown
    row = next(csv.DictReader(io.StringIO(heard(args + ["--format", "csv"], data_dir).stdout)))
    assert (row["speaker"], row["role"], row["company"], row["segment"], row["date"], row["tags"]) == (
        "Priya Shah", "customer", "Northwind Studio", "SMB", "2026-03-02", "pricing")
    table = heard(args, data_dir).stdout
    assert "Priya Shah" in table and "customer" in table and "Northwind Studio" in table


def test_answers_rank_above_the_question_about_the_same_topic(corpus, heard):
    _, data_dir = corpus
    hits = _search(heard, data_dir, "--company", "acme logistics", query="how do you export your reports")
    assert [h["role"] for h in hits] == ["customer", "interviewer"]
