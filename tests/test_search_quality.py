"""Search quality: fusion, quote trimming, deduplication and question phrasing, on real models.

The example interviews are real speech synthesized from scripts, transcribed by real Whisper and
embedded by the real sentence-transformers model; the true turn times come from the synthesis.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from conftest import EXAMPLES

from pipeline.config import SearchSettings, load_settings
from pipeline.finding.fusion import reciprocal_rank_fusion, score_fusion, speech_weight
from pipeline.finding.query import topic
from pipeline.finding.searcher import Searcher


def search(query, settings, *, store=None, **options):
    """One search through the library's Searcher, over `store` when given."""
    with Searcher(settings, store=store) as searcher:
        return searcher.search(query, **options)


def _turn(truth, name, phrase):
    turns = [t for t in truth[name]["turns"] if phrase.lower() in t["text"].lower()]
    assert len(turns) == 1, phrase
    return turns[0]


def _inside(hit, turn, slack=0.5):
    return turn["start"] - slack <= hit["start"] and hit["end"] <= turn["end"] + slack


@pytest.fixture
def settings_for(test_config):
    def make(data_dir):
        return load_settings(test_config, data_dir, environ={})

    return make


@pytest.fixture
def indexed_copy(indexed_examples, tmp_path):
    """A private copy of the indexed examples, for tests that change the index."""
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(indexed_examples[0], copy)
    return copy


# --- fusion -----------------------------------------------------------------------------------

@pytest.mark.fast
def test_reciprocal_rank_fusion_prefers_what_both_rankings_agree_on():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["d", "b", "a"]])
    assert sorted(fused, key=fused.get, reverse=True)[:2] == ["a", "b"]
    assert set(fused) == {"a", "b", "c", "d"}


@pytest.mark.fast
def test_reciprocal_rank_fusion_weights_tilt_toward_one_ranking():
    fused = reciprocal_rank_fusion([["dense"], ["keyword"]], weights=[0.7, 0.3])
    assert fused["dense"] > fused["keyword"]


@pytest.mark.fast
def test_score_fusion_normalizes_each_ranking_before_adding():
    # BM25 scores are unbounded and cosines lie in [-1, 1]: raw sums would let BM25 decide alone.
    fused = score_fusion([{"a": 0.9, "b": 0.1}, {"b": 40.0, "a": 20.0, "c": 10.0}], weights=[0.7, 0.3])
    assert fused["a"] > fused["b"] > fused["c"] == 0.0


@pytest.mark.fast
@pytest.mark.parametrize("role", ["customer", "guest"])
def test_a_customers_chunk_of_nothing_but_questions_counts_like_a_question(role):
    # "What else?" cut into "What" and "else?", the tail given to the customer: the interviewer's words.
    options = SearchSettings()
    assert speech_weight(role, "else?", options) == options.question_weight
    assert speech_weight(role, "Can it do that? Who set it up?", options) == options.question_weight
    # A customer who asks while answering is answering.
    assert speech_weight(role, "Why would I pay twice? We already have the data.", options) == 1.0
    assert speech_weight("interviewer", "We already have the data.", options) == options.interviewer_weight


def test_hybrid_finds_an_answer_only_keywords_reach(indexed_examples, settings_for, truth):
    """'CSV' is a rare exact word: BM25 finds it; the fused ranking keeps it on top."""
    data_dir, _ = indexed_examples
    settings = settings_for(data_dir)
    keyword = search("CSV", settings, k=3, mode="keyword")
    hybrid = search("CSV", settings, k=3, mode="hybrid")
    answer = _turn(truth, "acme-export.mp3", "export to CSV")
    assert _inside(keyword[0].to_dict(), answer)
    assert _inside(hybrid[0].to_dict(), answer)


# --- question phrasing and interviewer questions -----------------------------------------------

@pytest.mark.fast
@pytest.mark.parametrize("query, subject", [
    ("what do customers say about exporting data", "exporting data"),
    ("What are people's complaints about pricing?", "pricing"),
    ("how do customers feel about onboarding", "onboarding"),
    ("feedback on the mobile app", "the mobile app"),
    ("did anyone mention single sign on", "single sign on"),
    ("the export times out on big workspaces", "the export times out on big workspaces"),
    ("what do customers say?", "what do customers say?"),
])
def test_question_phrasing_is_cut_down_to_its_subject(query, subject):
    assert topic(query) == subject


@pytest.mark.parametrize("query, recording_name", [
    ("what do customers say about exporting data", "acme-export.mp3"),
    ("what are people's complaints about pricing", "northwind-pricing.ogg"),
    ("what are people's complaints about notifications", "northwind-pricing.ogg"),
])
def test_phrased_question_ranks_a_customer_answer_above_the_interviewers_question(
        indexed_examples, heard, truth, query, recording_name):
    data_dir, _ = indexed_examples
    hits = json.loads(heard(["search", query, "--format", "json"], data_dir).stdout)
    top = hits[0]
    customer = [t for t in truth[recording_name]["turns"] if t["speaker"] == "customer"]
    assert top["recording"].endswith(recording_name)
    assert any(_inside(top, t) for t in customer), top
    assert not top["text"].endswith("?")


# --- quotes -------------------------------------------------------------------------------------

def test_quote_is_the_answering_sentences_timed_by_their_words(indexed_examples, heard, truth):
    data_dir, _ = indexed_examples
    hits = json.loads(heard(["search", "export to CSV times out on a large workspace", "--format", "json", "-k", "1"],
                            data_dir).stdout)
    hit = hits[0]
    answer = _turn(truth, "acme-export.mp3", "times out")
    # Quote-sized: the sentence that answers, not the whole turn's chunk nor the next question.
    assert "times out" in hit["text"].lower()
    assert "?" not in hit["text"]
    assert 1 <= hit["text"].count(".") <= 3
    # Its times are those of its own words: inside the answer's turn, shorter than the turn.
    assert _inside(hit, answer, slack=0.3)
    assert hit["end"] - hit["start"] < answer["end"] - answer["start"]
    # The question before it is context, not quote.
    assert hit["context_before"] and hit["context_before"] not in hit["text"]


def test_context_after_follows_the_quote(indexed_examples, settings_for):
    data_dir, _ = indexed_examples
    hit = search("copied the rows by hand into a spreadsheet", settings_for(data_dir), k=1)[0]
    assert "spreadsheet" in hit.text
    # The context is what was said right after the quote, in the transcript's own words.
    transcript = json.loads((data_dir / "transcripts" / f"{hit.recording_id}.json").read_text())
    said = " ".join(" ".join(s["text"] for s in transcript["segments"]).split())
    after = said[said.index(" ".join(hit.text.split())) + len(" ".join(hit.text.split())):].strip()
    assert hit.context_after and after.startswith(" ".join(hit.context_after.split()))


# --- deduplication, per-recording cap, grouping --------------------------------------------------

@pytest.fixture(scope="module")
def overlapping_index(tmp_path_factory, test_config):
    """The examples chunked into small overlapping windows: neighbouring chunks share sentences."""
    from tests.conftest import EXAMPLES, run_heard

    config = tmp_path_factory.mktemp("overlap") / "config.yaml"
    config.write_text(test_config.read_text() + "chunking:\n  max_words: 12\n  overlap: 1\n")
    data_dir = tmp_path_factory.mktemp("overlap-data")
    result = run_heard(["ingest", EXAMPLES, "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    return data_dir, config


def test_overlapping_chunks_give_no_duplicate_quotes(overlapping_index):
    from tests.conftest import run_heard

    data_dir, config = overlapping_index
    for query in ("export to CSV timing out", "per seat price", "invitations went to spam"):
        hits = json.loads(run_heard(["search", query, "--format", "json", "-k", "8"], data_dir, config).stdout)
        for i, a in enumerate(hits):
            for b in hits[i + 1:]:
                if a["recording_id"] == b["recording_id"]:
                    assert a["end"] <= b["start"] or b["end"] <= a["start"], (query, a, b)
                    assert a["text"] not in b["text"] and b["text"] not in a["text"]


def test_per_recording_caps_hits_from_one_recording(indexed_examples, heard):
    data_dir, _ = indexed_examples
    uncapped = json.loads(heard(["search", "problems", "--format", "json", "-k", "6"], data_dir).stdout)
    capped = json.loads(heard(["search", "problems", "--format", "json", "-k", "6", "--per-recording", "1"],
                              data_dir).stdout)
    def per(hits):
        return max(sum(h["recording_id"] == r for h in hits) for r in {h["recording_id"] for h in hits})
    assert per(uncapped) > 1
    assert per(capped) == 1 and len(capped) == 3


def test_group_puts_each_recordings_hits_together(indexed_examples, heard):
    data_dir, _ = indexed_examples
    flat = json.loads(heard(["search", "problems", "--format", "json", "-k", "6"], data_dir).stdout)
    groups = json.loads(heard(["search", "problems", "--format", "json", "-k", "6", "--group"], data_dir).stdout)
    assert [g["recording_id"] for g in groups] == list(dict.fromkeys(h["recording_id"] for h in flat))
    assert sorted(h["chunk_id"] for g in groups for h in g["hits"]) == sorted(h["chunk_id"] for h in flat)
    assert all(h["recording_id"] == g["recording_id"] for g in groups for h in g["hits"])
    table = heard(["search", "problems", "-k", "6", "--group"], data_dir)
    assert table.exit_code == 0 and all(g["title"] in table.stdout for g in groups)


# --- evaluation ----------------------------------------------------------------------------------

def _labeled_queries(truth, path):
    def span(name, phrase):
        turn = _turn(truth, name, phrase)
        return {"recording": name, "start": turn["start"], "end": turn["end"]}

    queries = [
        {"query": "the download of our records kept failing for big accounts", "relevant": [span("acme-export.mp3", "times out")]},
        {"query": "we paid for people who barely log in", "relevant": [span("northwind-pricing.ogg", "once a month")]},
        {"query": "what do customers say about the phone app", "relevant": [span("brightside-onboarding.m4a", "crashing")]},
    ]
    path.write_text(yaml.safe_dump({"queries": queries}))
    return queries


def test_eval_reports_metrics_for_labeled_queries_without_ingesting(indexed_examples, heard, truth, tmp_path):
    data_dir, _ = indexed_examples
    queries = _labeled_queries(truth, tmp_path / "queries.yaml")
    before = sorted(p.name for p in (data_dir / "transcripts").iterdir())
    result = heard(["eval", tmp_path / "queries.yaml", "--mode", "all", "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["mode"] for r in reports] == ["dense", "keyword", "hybrid"]
    hybrid = reports[-1]
    # The same figures from `heard search` itself: a hit answers when half of it lies in the span.
    ranks = []
    for query in queries:
        hits = json.loads(heard(["search", query["query"], "--format", "json", "-k", "10"], data_dir).stdout)
        span = query["relevant"][0]
        answers = [h["recording"].endswith(span["recording"])
                   and min(h["end"], span["end"]) - max(h["start"], span["start"]) >= (h["end"] - h["start"]) / 2
                   for h in hits]
        ranks.append(answers.index(True) + 1 if True in answers else None)
    assert hybrid["mrr"] == pytest.approx(sum(1 / r for r in ranks if r) / len(ranks))
    assert hybrid["success@5"] == hybrid["recall@5"] == sum(bool(r and r <= 5) for r in ranks) / len(ranks) == 1.0
    assert sorted(p.name for p in (data_dir / "transcripts").iterdir()) == before
    text = heard(["eval", tmp_path / "queries.yaml"], data_dir).stdout
    assert "recall@5" in text and "MRR" in text and "nDCG@5" in text
    # Any cut-off, measured as asked: -k 7 (not one of the usual 1/3/5/10) and -k 1 (one column, once).
    seven = heard(["eval", tmp_path / "queries.yaml", "-k", "7"], data_dir)
    assert seven.exit_code == 0 and "| success@7 | recall@7 |" in seven.stdout, seven.output
    header = heard(["eval", tmp_path / "queries.yaml", "-k", "1"], data_dir).stdout.splitlines()[0]
    assert header.count("success@1") == 1, header


def test_eval_lists_a_miss_with_the_span_it_missed(indexed_examples, heard, tmp_path):
    data_dir, _ = indexed_examples
    (tmp_path / "q.yaml").write_text(yaml.safe_dump({"queries": [
        {"query": "exporting data", "relevant": [{"recording": "nowhere.mp3", "start": 0, "end": 5, "text": "never said"}]}]}))
    result = heard(["eval", tmp_path / "q.yaml", "--mode", "dense"], data_dir)
    assert result.exit_code == 0
    assert "1 of 1 queries missed" in result.stdout and "nowhere.mp3" in result.stdout and "never said" in result.stdout


@pytest.mark.fast
def test_relevance_is_time_overlap_so_chunking_does_not_matter():
    from pipeline.finding.eval import LabeledQuery, Span, judge
    from pipeline.finding.hits import Hit

    def hit(start, end, rec="/data/a.mp3"):
        return Hit("t", rec, "id", "T", start, end, None, 1.0, "id:0")

    query = LabeledQuery("q", [Span("a.mp3", 10.0, 20.0), Span("a.mp3", 30.0, 40.0)])
    result = judge(query, [hit(0, 9), hit(12, 25), hit(15, 19), hit(31, 33, "/data/b.mp3"), hit(29, 35)])
    # Mostly inside the first span; a second hit on that span earns nothing; another file never counts.
    assert result.found == [None, 0, None, None, 1]
    metrics = result.metrics(ks=(5,))
    assert metrics["recall@5"] == 1.0 and metrics["mrr"] == 0.5


@pytest.mark.fast
def test_eval_rejects_a_malformed_queries_file(heard, tmp_path):
    (tmp_path / "bad.yaml").write_text("queries:\n  - query: no spans\n")
    result = heard(["eval", tmp_path / "bad.yaml"], tmp_path)
    assert result.exit_code == 2 and "bad.yaml" in result.stderr and "relevant" in result.stderr


# --- keyword index upkeep and model changes -----------------------------------------------------

def test_keyword_index_follows_recording_writes_and_removals(indexed_copy, settings_for):
    from pipeline.indexing.store import Store

    copy = indexed_copy
    settings = settings_for(copy)
    store = Store(settings.index_dir, settings.store.collection)
    assert store.keyword_problem() is None
    hit = store.keywords.query("spreadsheet", 5)
    recording_id = hit[0].chunk_id.split(":")[0]
    store.remove_recording(recording_id)
    assert not [h for h in store.keywords.query("spreadsheet", 5) if h.chunk_id.startswith(recording_id)]
    assert store.keywords.count() == store.count() and store.keyword_problem() is None
    assert all(not h.recording_id == recording_id for h in search("spreadsheet", settings, k=5))


def test_a_missing_keyword_index_is_rebuilt_by_ingest_not_by_search(indexed_copy, settings_for, heard):
    from pipeline.errors import IndexDamagedError

    copy = indexed_copy
    keywords = copy / "index" / "keywords.sqlite3"
    keywords.unlink()
    with pytest.raises(IndexDamagedError, match="heard reindex"):
        search("CSV", settings_for(copy), k=1, mode="keyword")
    assert not keywords.exists()  # a search writes nothing, even to heal
    result = heard(["ingest", EXAMPLES], copy)
    assert result.exit_code == 0 and "keyword index did not match" in result.stderr, result.output
    hits = search("CSV", settings_for(copy), k=1, mode="keyword")
    assert hits and "CSV" in hits[0].text


def test_index_of_another_dimension_says_to_reindex(indexed_copy, settings_for):
    from pipeline.errors import ConfigError
    from pipeline.indexing.store import Store

    copy = indexed_copy
    settings = settings_for(copy)
    store = Store(settings.index_dir, settings.store.collection, create=False)
    # Provoke what a stronger model's index looks like to this model: vectors of another size.
    store.set_recipe(dataclasses.replace(store.recipe(), dimension=768))
    with pytest.raises(ConfigError, match="heard reindex") as error:
        search("pricing", settings, store=store)
    assert "768" in str(error.value)
