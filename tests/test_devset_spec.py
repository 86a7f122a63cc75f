"""The hard dev set's spec (scripts/devset_hard/) keeps the promises issue 12 makes about it.

No audio is made here: the generator's --list-turns reads the spec and checks every reference.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "scripts" / "devset_hard"
GENERATOR = REPO / "scripts" / "make_devset.py"


@pytest.fixture(scope="module")
def devset():
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import make_devset
    finally:
        sys.path.remove(str(GENERATOR.parent))
    topics, recordings, queries = make_devset.load_hard_spec(SPEC)
    turns = {t["id"]: t for r in recordings for t in r["turns"] if "id" in t}
    return make_devset, topics, recordings, queries, turns


def list_turns(spec: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GENERATOR), "--spec", str(spec), "--list-turns"],
                          capture_output=True, text=True, timeout=120)


def test_every_customer_turn_is_listed_with_its_id_and_topics(devset):
    _, _, recordings, _, turns = devset
    result = list_turns(SPEC)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n== ") + 1 == len(recordings) >= 32
    assert sum(line.split(" ", 1)[0] in turns for line in result.stdout.splitlines()) == len(turns)


def test_recordings_span_industries_segments_and_both_kinds(devset):
    _, _, recordings, _, _ = devset
    assert len({r["industry"] for r in recordings}) >= 10
    assert {r["segment"] for r in recordings} == {"SMB", "mid-market", "enterprise"}
    assert Counter(r["kind"] for r in recordings)["podcast"] >= 1


def test_queries_are_a_third_of_each_kind_split_in_half(devset):
    _, _, _, queries, _ = devset
    assert len(queries) >= 120
    kinds = Counter(q["kind"] for q in queries)
    assert min(kinds.values()) >= len(queries) // 3 - 2
    for kind in kinds:
        splits = Counter(q["split"] for q in queries if q["kind"] == kind)
        assert abs(splits["tune"] - splits["heldout"]) <= 1, kind


def test_broad_queries_are_answered_by_six_or_more_recordings(devset):
    _, _, _, queries, _ = devset
    for query in queries:
        if query["kind"] == "broad":
            assert len({turn_id.split("/")[0] for turn_id in query["relevant"]}) >= 6, query["id"]


def test_reasoning_queries_share_no_content_words_with_their_answers(devset):
    make_devset, _, _, queries, turns = devset
    assert make_devset.shared_words(queries, turns) == []


def test_a_turn_without_topics_is_a_one_line_error_naming_the_file(tmp_path):
    spec = tmp_path / "spec"
    (spec / "interviews").mkdir(parents=True)
    (spec / "topics.yaml").write_text("topics:\n  pricing: {about: cost, synonyms: [price]}\n")
    (spec / "interviews" / "acme.yaml").write_text(
        "company: Acme\nindustry: retail\nsegment: SMB\ndate: 2026-01-01\nformat: mp3\n"
        "turns:\n- q: Walk me through last Tuesday.\n- a: The bill doubled.\n")
    result = list_turns(spec)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "acme.yaml: turn 2" in result.stderr and "topics" in result.stderr


def test_the_multilingual_set_asks_every_query_in_english_and_natively_with_valid_labels(devset):
    """scripts/devset_multilingual/ (issue 21): Spanish, German and French interviews; each query in
    English and in its interviews' language, labels pointing at customer turns with topics, both
    halves holding needles and broad queries."""
    make_devset = devset[0]
    spec = REPO / "scripts" / "devset_multilingual"
    assert make_devset.is_multilingual(spec) and not make_devset.is_multilingual(SPEC)
    _, recordings = make_devset.load_recordings(spec)
    assert Counter(r["language"] for r in recordings) == {"es": 3, "de": 3, "fr": 3}
    turns = {t["id"]: t for r in recordings for t in r["turns"] if "id" in t}
    queries = make_devset.multilingual_queries(spec, turns, {r["name"]: r["language"] for r in recordings})
    english = [q for q in queries if q["asked"] == "en"]
    native = [q for q in queries if q["asked"] == "native"]
    assert {q["id"] for q in english} == {q["id"] for q in native}
    assert {q["language"] for q in native} == {"es", "de", "fr"}
    assert Counter((q["kind"], q["split"]) for q in english) == {
        ("needle", "tune"): 14, ("needle", "heldout"): 13, ("broad", "tune"): 5, ("broad", "heldout"): 5}
    for query in native:
        if query["kind"] == "needle":  # written for one interview, asked in its language
            assert query["language"] == query["turns"][0].split("-", 1)[0], query
