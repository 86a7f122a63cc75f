"""`search --all`'s cut follows the model: search.all_cutoff is set in all-MiniLM-L6-v2's units, and
each index measures at ingest and reindex which scores keep each share of a question's candidates,
so that the cut stands at the same place in another model's scores (pipeline/finding/all_cut.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_heard

from pipeline.config import SearchSettings
from pipeline.finding.all_cut import MIN_CHUNKS, REFERENCE_LEVELS, SHARES, all_cut, levels_of, measure_levels, search_all_cut
from pipeline.indexing.store import Store


def _measured(levels) -> dict[str, float]:
    """Figures as a recipe stores them, from levels at SHARES."""
    return {f"keep_{share:g}": float(level) for share, level in zip(SHARES, levels)}


@pytest.mark.fast
def test_on_the_reference_the_cut_stays_as_set_and_a_corpus_that_lifts_every_level_alike_leaves_it():
    reference = _measured(REFERENCE_LEVELS)
    for setting in (0.2, 0.35, 0.5):
        assert all_cut(setting, reference).in_use == pytest.approx(setting, abs=1e-4)
    # A smaller corpus lifts every level by the same factor (200 candidates are nearly all its
    # chunks): measured 1.15x on the first dev set, with each model; the cut must not move for it.
    lifted = _measured(np.asarray(REFERENCE_LEVELS) * 1.15)
    assert all_cut(0.35, lifted).in_use == pytest.approx(0.35, abs=1e-4)
    assert all_cut(0.35, reference).share == pytest.approx(0.039, abs=0.002)  # what 0.35 keeps


@pytest.mark.fast
def test_a_model_whose_scores_bunch_near_the_best_cuts_higher_and_one_that_spreads_them_lower():
    reference = np.asarray(REFERENCE_LEVELS)
    # e5-like: below its best candidates its levels stand ever higher against the reference's.
    bunched = reference * np.linspace(1.0, 2.0, len(SHARES))
    spread = reference * np.linspace(1.0, 0.6, len(SHARES))
    setting = 0.35
    share = all_cut(setting, _measured(reference)).share
    high, low = all_cut(setting, _measured(bunched)), all_cut(setting, _measured(spread))
    assert high.in_use > setting > low.in_use
    # It stands where the reference's 0.35 stands, against each one's best candidates.
    factor = float(np.interp(share, SHARES, bunched)) / bunched[0] / (setting / reference[0])
    assert high.in_use == pytest.approx(setting * factor, abs=1e-3)


@pytest.mark.fast
def test_without_levels_or_outside_hybrid_score_fusion_the_cut_is_as_set():
    bunched = _measured(np.asarray(REFERENCE_LEVELS) * np.linspace(1.0, 2.0, len(SHARES)))
    assert all_cut(0.35, {}).in_use == 0.35 and all_cut(0.35, {"keep_0.005": 0.5}).in_use == 0.35  # an older index
    assert all_cut(0.99, bunched).in_use == 0.99 and all_cut(0.01, bunched).in_use == 0.01  # beyond the levels
    options = SearchSettings()
    assert search_all_cut(options, bunched).in_use > 0.35
    for mode in ("dense", "keyword"):  # raw cosines and BM25: not the scores the levels are of
        assert search_all_cut(options, bunched, mode=mode).in_use == 0.35
    assert search_all_cut(SearchSettings(fusion="rrf"), bunched).in_use == 0.35
    assert search_all_cut(options, bunched, setting=0.5).setting == 0.5


@pytest.mark.fast
def test_levels_are_averaged_per_question_not_pooled():
    # One probe with 100 candidates, evenly spread, one with 4, all at 1, and one with none.
    candidates = {"a": np.linspace(1, 0, 100), "b": [1.0] * 4, "none": []}
    levels = levels_of(measure_levels(candidates.__getitem__, ["a", "b", "none"]))
    assert levels is not None and len(levels) == len(SHARES)
    expected = (np.quantile(np.linspace(1, 0, 100), 1 - np.asarray(SHARES)) + 1.0) / 2
    assert np.allclose(levels, expected, atol=1e-5)
    assert measure_levels(lambda probe: [], ["a"]) == {}


def _search_all(data_dir, config, query):
    result = run_heard(["search", query, "--all", "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_measures_the_levels_and_search_all_and_status_cut_where_they_say(indexed_examples, test_config, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(indexed_examples[0], data_dir)
    store = Store(data_dir / "index", "heard", create=False)
    try:
        measured, count = dict(store.recipe().measured), store.count()
    finally:
        store.close()
    # The examples are too few chunks for shares of a question's candidates to mean anything.
    assert count < MIN_CHUNKS and levels_of(measured) is None
    assert "search --all cuts at 0.35 (search.all_cutoff)" in run_heard(["status"], data_dir, test_config).stdout
    as_set = _search_all(data_dir, test_config, "export")
    assert as_set and min(hit["score"] for hit in as_set) >= 0.35
    # Levels of a model whose scores bunch near the best (as e5's do): the same setting cuts higher,
    # keeps fewer quotes, and `heard status` says where.
    store = Store(data_dir / "index", "heard")
    try:
        store.set_measured({**measured, **_measured(np.asarray(REFERENCE_LEVELS) * np.linspace(1.0, 4.0, len(SHARES)))})
    finally:
        store.close()
    status = run_heard(["status"], data_dir, test_config).stdout
    cut = float(status.split("search --all cuts at ")[1].split()[0])
    assert cut > 0.35 and "(search.all_cutoff 0.35 in all-MiniLM-L6-v2's units" in status
    moved = _search_all(data_dir, test_config, "export")
    assert [h for h in as_set if h["score"] >= cut] == moved and len(moved) < len(as_set)


def test_reindex_records_the_levels_with_the_recipe_and_keeps_them_out_of_the_comparison(
    indexed_examples, test_config, tmp_path, monkeypatch
):
    import pipeline.finding.all_cut as all_cut_module

    data_dir = tmp_path / "data"
    shutil.copytree(indexed_examples[0], data_dir)
    monkeypatch.setattr(all_cut_module, "MIN_CHUNKS", 8)  # the examples' 28 chunks, measured as a corpus would be
    assert run_heard(["reindex"], data_dir, test_config).exit_code == 0
    store = Store(data_dir / "index", "heard", create=False)
    try:
        measured = store.recipe().measured
    finally:
        store.close()
    levels = levels_of(measured)
    assert levels is not None and list(levels) == sorted(levels, reverse=True) and 0 < levels[0] <= 1.0
    assert measured["query_top"] > 0  # the spread is kept beside them
    # Measured figures are never a reason to rebuild: the index still searches, cut where status says.
    status = run_heard(["status"], data_dir, test_config).stdout
    cut = float(status.split("search --all cuts at ")[1].split()[0])
    hits = _search_all(data_dir, test_config, "export")
    assert hits and min(hit["score"] for hit in hits) >= cut
