"""heard search: a paraphrased question finds the customer's own words at the right time."""

from __future__ import annotations

import csv
import io
import json

import pytest

REQUIRED_FIELDS = {"text", "recording", "recording_id", "title", "start", "end", "speaker", "score"}


def _turn_containing(truth, recording_name: str, phrase: str) -> dict:
    turns = [t for t in truth[recording_name]["turns"] if phrase.lower() in t["text"].lower()]
    assert len(turns) == 1, phrase
    return turns[0]


@pytest.mark.parametrize(
    "query, recording_name, phrase",
    [
        # Paraphrased: none of the query's content words is in the answer.
        ("the download of our records kept failing for big accounts", "acme-export.mp3", "times out"),
        ("getting the team set up took ages", "brightside-onboarding.m4a", None),
        ("costs too much money as the company adds people", "northwind-pricing.ogg", None),
    ],
)
def test_paraphrased_query_finds_the_customers_answer_above_the_interviewers_question(
        indexed_examples, heard, truth, query, recording_name, phrase):
    data_dir, _ = indexed_examples
    result = heard(["search", query, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits
    turns = truth[recording_name]["turns"]
    answers = [_turn_containing(truth, recording_name, phrase)] if phrase else [t for t in turns if t["speaker"] == "customer"]
    questions = [t for t in turns if t["speaker"] == "interviewer"]

    def rank(of_turns):
        return next((n for n, hit in enumerate(hits) if hit["recording"].endswith(recording_name)
                     and any(hit["start"] < t["end"] and t["start"] < hit["end"] for t in of_turns)), len(hits))

    # Among the first three (a single paraphrase competes with the other customers' answers; the
    # dev set in docs/benchmarks.md measures ranking at scale), and above the interviewer's questions.
    assert rank(answers) < 3, (hits[:3], answers)
    assert rank(answers) < rank(questions)


def test_search_json_has_the_documented_fields(indexed_examples, heard):
    data_dir, _ = indexed_examples
    hits = json.loads(heard(["search", "exporting data", "--format", "json", "-k", "3"], data_dir).stdout)
    assert len(hits) == 3
    for hit in hits:
        assert REQUIRED_FIELDS <= hit.keys()
        assert isinstance(hit["start"], float) and isinstance(hit["end"], float) and hit["end"] > hit["start"]
        assert hit["recording"].startswith("/") and hit["recording_id"] in hit["chunk_id"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_default_k_is_five(indexed_examples, heard):
    data_dir, _ = indexed_examples
    assert len(json.loads(heard(["search", "problems", "--format", "json"], data_dir).stdout)) == 5


def test_table_shows_quote_title_and_mmss_timestamp(indexed_examples, heard):
    data_dir, _ = indexed_examples
    result = heard(["search", "price per seat", "-k", "2"], data_dir)
    assert result.exit_code == 0
    hits = json.loads(heard(["search", "price per seat", "-k", "2", "--format", "json"], data_dir).stdout)
    minutes, seconds = divmod(int(hits[0]["start"]), 60)
    assert f"{minutes:02d}:{seconds:02d}" in result.stdout
    assert hits[0]["title"] in result.stdout


def test_markdown_and_csv_carry_the_same_hits(indexed_examples, heard):
    data_dir, _ = indexed_examples
    hits = json.loads(heard(["search", "slow search", "-k", "2", "--format", "json"], data_dir).stdout)
    markdown = heard(["search", "slow search", "-k", "2", "--format", "md"], data_dir).stdout
    rows = list(csv.DictReader(io.StringIO(heard(["search", "slow search", "-k", "2", "--format", "csv"], data_dir).stdout)))
    assert [r["text"] for r in rows] == [h["text"] for h in hits]
    assert [float(r["start"]) for r in rows] == [h["start"] for h in hits]
    for hit in hits:
        assert hit["text"] in markdown and hit["title"] in markdown


@pytest.mark.fast
def test_search_without_an_index_says_how_to_make_one(tmp_path, heard):
    result = heard(["search", "anything"], tmp_path / "empty")
    assert result.exit_code == 2
    assert "heard ingest" in result.stderr and "no index" in result.stderr
    assert not (tmp_path / "empty" / "index").exists()


def test_filters_narrow_hits_to_one_recording(indexed_examples, heard):
    from pipeline.config import load_settings
    from pipeline.finding.filters import SearchFilters
    from pipeline.finding.searcher import Searcher

    data_dir, _ = indexed_examples
    with Searcher(load_settings(data_dir=data_dir, environ={})) as searcher:
        everything = searcher.search("problems", k=10)
        recording_id = everything[-1].recording_id
        narrowed = searcher.search("problems", k=10, filters=SearchFilters(recording=recording_id))
    assert narrowed and {h.recording_id for h in narrowed} == {recording_id}
    assert len({h.recording_id for h in everything}) > 1


def test_search_all_lists_every_quote_above_the_cutoff_with_a_count_line(indexed_examples, heard):
    """--all is the ranking cut by score, not by count: the same hits as a long -k list whose score
    reaches search.all_cutoff, in the same JSON schema, counted on stderr."""
    from pipeline.config import SearchSettings

    data_dir, _ = indexed_examples
    query = "what do customers say about pricing"
    every = heard(["search", query, "--all", "--format", "json"], data_dir)
    assert every.exit_code == 0, every.output
    hits = json.loads(every.stdout)
    ranked = json.loads(heard(["search", query, "--format", "json", "-k", "50"], data_dir).stdout)
    cutoff = SearchSettings().all_cutoff
    assert hits, "the pricing interview answers this"
    assert {(h["recording_id"], h["start"]) for h in hits} == {(h["recording_id"], h["start"]) for h in ranked if h["score"] >= cutoff}
    assert all(h["score"] >= cutoff for h in hits) and all(REQUIRED_FIELDS <= h.keys() for h in hits)
    assert {h["recording"].rsplit("/", 1)[-1] for h in hits} >= {"northwind-pricing.ogg"}
    recordings = len({h["recording_id"] for h in hits})
    assert every.stderr.strip() == f"pricing: {recordings} of 3 recordings, {len(hits)} quote{'s' if len(hits) != 1 else ''}"

    grouped = heard(["search", query, "--all", "--group", "--format", "json"], data_dir)
    groups = json.loads(grouped.stdout)
    assert len(groups) == recordings and sum(len(g["hits"]) for g in groups) == len(hits)

    refused = heard(["search", query, "--all", "-k", "3"], data_dir)
    assert refused.exit_code == 2 and "all: lists every answering quote" in refused.output
