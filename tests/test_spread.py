"""Score cuts that follow the model: the spread of the model's cosines over the corpus is measured
when the index is written, stored with the recipe, and every cut tuned on all-MiniLM-L6-v2 (quotes'
join margin and shared-words weight, themes' similarities) moves with it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_heard

from pipeline.indexing.spread import MIN_CHUNKS, REFERENCE, Scale, Spread, measure, scale_of
from pipeline.indexing.store import Store


@pytest.fixture
def indexed_copy(indexed_examples, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(indexed_examples[0], copy)
    return copy


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.fast
def test_the_spread_of_a_narrow_model_is_narrower_and_its_cuts_move_into_it():
    rng = np.random.default_rng(1)
    chunks, questions = _unit(rng.normal(size=(200, 32))), _unit(rng.normal(size=(24, 32)))
    # The same texts and questions as a model that puts everything in one corner of the space
    # (e5-like): a shared direction added to every vector raises every cosine and squeezes them together.
    corner = 3.0 * _unit(np.ones((1, 32)))
    a, b = measure(chunks, questions), measure(_unit(chunks + corner), _unit(questions + corner))
    assert a is not None and b is not None and a.chunks == b.chunks == 200
    assert abs(a.pair_median) < 0.05 and b.pair_median > 0.8
    assert b.pair_iqr < a.pair_iqr / 4 and b.query_top < a.query_top / 4
    assert b.nearest > a.nearest
    # Moved into the narrow spread: a margin between a query's cosines shrinks with the spread of a
    # query's best matches; a similarity between chunks keeps its place among the pairs' cosines.
    tuned = Scale()
    assert tuned.margin(0.1) == 0.1 and tuned.cosine(0.45) == pytest.approx(0.45)
    moved = Scale(b)
    assert moved.margin(0.1) == pytest.approx(0.1 * b.query_top / REFERENCE.query_top)
    level = (0.45 - REFERENCE.pair_median) / REFERENCE.pair_iqr
    assert (moved.cosine(0.45) - b.pair_median) / b.pair_iqr == pytest.approx(level)


@pytest.mark.fast
def test_too_few_chunks_or_nothing_measured_keeps_the_cuts_as_tuned():
    assert measure(_unit(np.eye(MIN_CHUNKS - 1, 8)), _unit(np.eye(2, 8))) is None
    assert scale_of({}) == Scale() and scale_of({"pair_median": 0.3}) == Scale()
    assert scale_of({"pair_mean": 0.1, "pair_std": 0.1, "nearest": 0.6, "chunks": 50}) == Scale()  # other figures
    stored = Spread(0.05, 0.75, 0.03, 0.9, 120)
    assert scale_of(json.loads(json.dumps(stored.to_measured()))).spread == stored


def test_ingest_and_reindex_store_the_spread_with_the_recipe(indexed_copy, test_config):
    store = Store(indexed_copy / "index", "heard", create=False)
    try:
        measured = store.recipe().measured
        count = store.count()
    finally:
        store.close()
    assert measured["chunks"] == count >= MIN_CHUNKS
    # all-MiniLM-L6-v2 on the examples: unrelated chunks near 0.1-0.3, their nearest neighbour well above.
    assert 0.0 < measured["pair_median"] < measured["nearest"] < 1.0 and 0.03 < measured["pair_iqr"] < 0.3
    # A question's best matches stand out about as far as on the hard dev set, where the cuts were tuned.
    assert 0.5 < measured["query_top"] / REFERENCE.query_top < 2
    # `heard status` shows what made the vectors and how they spread.
    status = run_heard(["status"], indexed_copy, test_config).stdout
    assert "index built with: all-MiniLM-L6-v2 (weights " in status and "prompts '' / ''" in status
    assert f"a question's best matches {measured['query_top']:.3f} above its median" in status
    assert run_heard(["reindex"], indexed_copy, test_config).exit_code == 0
    store = Store(indexed_copy / "index", "heard", create=False)
    try:
        assert store.recipe().measured == measured  # the same vectors, the same figures
    finally:
        store.close()


def _quote_sentences(data_dir, config, queries):
    from pipeline.finding.fusion import sentences_of

    counts = []
    for query in queries:
        result = run_heard(["search", query, "--format", "json", "-k", "5"], data_dir, config)
        assert result.exit_code == 0, result.output
        counts += [len(sentences_of(hit["text"])) for hit in json.loads(result.stdout)]
    return counts


def _set_spread(data_dir, spread: Spread):
    store = Store(data_dir / "index", "heard")
    try:
        store.set_measured(spread.to_measured())
    finally:
        store.close()


def test_a_quotes_join_margin_follows_the_stored_spread(indexed_copy, test_config):
    queries = ["export timed out", "price per seat", "single sign on setup", "what was hard about onboarding"]
    as_measured = _quote_sentences(indexed_copy, test_config, queries)
    # A model whose cosines spread 20x less: the same margin in its units joins far fewer sentences...
    _set_spread(indexed_copy, Spread(REFERENCE.query_top / 20, REFERENCE.pair_median, REFERENCE.pair_iqr, REFERENCE.nearest, 30))
    narrow = _quote_sentences(indexed_copy, test_config, queries)
    # ...and one whose cosines spread 20x more joins every neighbour the quote length allows.
    _set_spread(indexed_copy, Spread(REFERENCE.query_top * 20, REFERENCE.pair_median, REFERENCE.pair_iqr, REFERENCE.nearest, 30))
    wide = _quote_sentences(indexed_copy, test_config, queries)
    assert sum(narrow) < sum(as_measured) < sum(wide), (narrow, as_measured, wide)


def _theme_labels(data_dir, config):
    result = run_heard(["themes", "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    return [theme["label"] for theme in json.loads(result.stdout)["themes"]]


def test_themes_small_talk_cut_follows_the_stored_spread(indexed_copy, test_config):
    store = Store(indexed_copy / "index", "heard", create=False)
    try:
        measured = Spread.from_measured(store.recipe().measured)
    finally:
        store.close()
    assert measured is not None
    as_measured = _theme_labels(indexed_copy, test_config)
    assert as_measured
    # The same cosines read as a model whose unrelated chunks sit 0.6 lower: themes.small_talk_similarity
    # (0.45 in all-MiniLM-L6-v2's units) moves 0.6 lower with them, below every customer line's
    # closeness to a greeting, so every line is small talk and no theme is left.
    lower = Spread(measured.query_top, measured.pair_median - 0.6, measured.pair_iqr, measured.nearest, measured.chunks)
    _set_spread(indexed_copy, lower)
    assert _theme_labels(indexed_copy, test_config) == []
    # Back at the index's own spread, the themes are what they were (not a stale cached answer).
    _set_spread(indexed_copy, measured)
    assert _theme_labels(indexed_copy, test_config) == as_measured
