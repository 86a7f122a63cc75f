"""heard themes: what customers talk about, their quotes grouped across the example interviews."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

THEME_KEYS = {"label", "recordings", "companies", "quotes"}
EXAMPLE_FILES = ("acme-export.mp3", "brightside-onboarding.m4a", "northwind-pricing.ogg")


def themes_of(heard, data_dir, *args) -> list[dict]:
    result = heard(["themes", *args, "--format", "json"], data_dir)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert set(found) == {"themes"}
    return found["themes"]


def overlaps(quote: dict, turn: dict) -> bool:
    return quote["start"] < turn["end"] and turn["start"] < quote["end"]


def shape(themes: list[dict]) -> list[tuple]:
    """What must not depend on ingest order: labels, counts and which quotes, in order."""
    return [(t["label"], t["recordings"], t["companies"], [q["chunk_id"] for q in t["quotes"]]) for t in themes]


def test_every_customer_answer_lands_in_one_theme_and_no_interviewer_line_does(indexed_examples, heard, truth):
    data_dir, _ = indexed_examples
    themes = themes_of(heard, data_dir)
    quotes = [q for t in themes for q in t["quotes"]]
    assert {q["role"] for q in quotes} == {"customer"}
    assert len({q["chunk_id"] for q in quotes}) == len(quotes)  # each quote in one theme
    for name, data in truth.items():
        for turn in data["turns"]:
            mine = [q for q in quotes if Path(q["recording"]).name == name and overlaps(q, turn)]
            if turn["speaker"] == "customer":
                assert mine, f"{name}: no theme holds {turn['text']!r}"
            else:
                assert not mine, f"{name}: an interviewer's question is in a theme: {turn['text']!r}"


def test_json_themes_carry_search_hits_counts_and_labels_from_their_quotes(indexed_examples, heard):
    data_dir, _ = indexed_examples
    themes = themes_of(heard, data_dir)
    search = heard(["search", "exporting data", "--format", "json"], data_dir)
    hit_keys = set(json.loads(search.stdout)[0])
    assert len(themes) >= 3
    for theme in themes:
        assert set(theme) == THEME_KEYS
        assert all(set(q) == hit_keys for q in theme["quotes"])
        assert theme["recordings"] == len({q["recording_id"] for q in theme["quotes"]})
        assert theme["companies"] == len({q["metadata"]["company"] for q in theme["quotes"]})
        # Every key phrase of the label is said in the theme's quotes.
        said = " ".join(q["text"] for q in theme["quotes"]).lower()
        for phrase in theme["label"].split(", "):
            assert all(re.search(rf"\b{word}\b", said) for word in phrase.split()), (phrase, said)
        # Most representative first: closeness to the theme's centre, descending.
        assert [q["score"] for q in theme["quotes"]] == sorted((q["score"] for q in theme["quotes"]), reverse=True)
    ranks = [(t["recordings"], len(t["quotes"])) for t in themes]
    assert ranks == sorted(ranks, reverse=True)


def test_answers_on_the_same_subject_share_a_theme_named_after_it(indexed_examples, heard):
    data_dir, _ = indexed_examples
    themes = themes_of(heard, data_dir)

    def theme_saying(phrase: str) -> dict:
        return next(t for t in themes if any(phrase in q["text"].lower() for q in t["quotes"]))

    seats = theme_saying("per seat price")
    assert theme_saying("usage tiers") is seats and theme_saying("full price for every seat") is seats
    assert re.search(r"\b(price|pay|seats?)\b", seats["label"])
    export = theme_saying("times out")
    assert theme_saying("schedule the export overnight") is export
    assert "export" in export["label"]


def test_same_index_gives_the_same_themes_whatever_the_order_of_ingest(indexed_examples, heard, tmp_path):
    data_dir, _ = indexed_examples
    expected = themes_of(heard, data_dir)
    folder = tmp_path / "recordings"
    folder.mkdir()
    other = tmp_path / "data"
    for name in reversed(EXAMPLE_FILES):  # one at a time, last first
        shutil.copy(EXAMPLES / name, folder / name)
        shutil.copy((EXAMPLES / name).with_suffix(".yaml"), folder / Path(name).with_suffix(".yaml").name)
        assert heard(["ingest", folder / name], other).exit_code == 0
    assert shape(themes_of(heard, other)) == shape(expected)

    # Kept in the data dir: a second call reads it back.
    cached = list((other / "themes-cache").glob("*.json"))
    assert len(cached) == 1
    assert shape(themes_of(heard, other)) == shape(expected)

    # A change to the index (here a recording's metadata) is seen at once, not an old result.
    sidecar = folder / "acme-export.yaml"
    sidecar.write_text(yaml.safe_dump({**yaml.safe_load(sidecar.read_text()), "company": "Acme Freight"}))
    assert heard(["ingest", folder], other).exit_code == 0
    companies = {q["metadata"].get("company") for t in themes_of(heard, other) for q in t["quotes"]}
    assert "Acme Freight" in companies and "Acme Logistics" not in companies


def test_a_question_narrows_themes_to_the_quotes_that_answer_it(indexed_examples, heard):
    data_dir, _ = indexed_examples
    everything = {q["chunk_id"] for t in themes_of(heard, data_dir) for q in t["quotes"]}
    answering = [q for t in themes_of(heard, data_dir, "what do customers say about the price per seat") for q in t["quotes"]]
    assert answering and {q["chunk_id"] for q in answering} < everything
    assert any("per seat" in q["text"].lower() for q in answering)
    assert not any("times out" in q["text"] for q in answering)


def test_filters_and_min_recordings(indexed_examples, heard):
    data_dir, _ = indexed_examples
    acme = themes_of(heard, data_dir, "--company", "acme logistics")
    assert acme and {q["metadata"]["company"] for t in acme for q in t["quotes"]} == {"Acme Logistics"}
    everything = themes_of(heard, data_dir)
    wide = themes_of(heard, data_dir, "--min-recordings", "2")
    assert all(t["recordings"] >= 2 for t in wide)
    assert [t for t in everything if t["recordings"] >= 2] == wide


def test_table_markdown_and_csv_show_the_same_themes(indexed_examples, heard):
    data_dir, _ = indexed_examples
    themes = themes_of(heard, data_dir)
    table = heard(["themes"], data_dir)
    assert table.exit_code == 0 and "Themes across all recordings" in table.stdout
    assert all(t["label"].split(", ")[0] in table.stdout for t in themes)

    md = heard(["themes", "--format", "md", "--quotes", "1"], data_dir).stdout
    assert [line[4:].split(". ", 1)[1] for line in md.splitlines() if line.startswith("### ")] == [t["label"] for t in themes]
    assert md.count("\n- > ") == len(themes)  # one quote each

    rows = list(csv.DictReader(io.StringIO(heard(["themes", "--format", "csv"], data_dir).stdout)))
    assert [(r["theme"], r["text"]) for r in rows] == [(t["label"], q["text"]) for t in themes for q in t["quotes"]]
    assert {"theme", "theme_recordings", "rank", "timestamp", "speaker", "company", "recording"} <= rows[0].keys()


@pytest.mark.fast
def test_without_an_index_themes_says_what_to_do(heard, tmp_path):
    result = heard(["themes"], tmp_path / "empty")
    assert result.exit_code == 2
    assert "heard ingest" in result.output


def test_no_themes_is_said_in_plain_words(indexed_examples, heard):
    data_dir, _ = indexed_examples
    result = heard(["themes", "--since", "2099-01-01"], data_dir)
    assert result.exit_code == 0, result.output
    assert "No themes across all recordings." in result.stdout and "for Themes" not in result.stdout
    asked = heard(["themes", "pricing", "--since", "2099-01-01"], data_dir)
    assert "No themes in the answers to “pricing”." in asked.stdout
