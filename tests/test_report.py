"""`heard report`: one self-contained HTML file (or Markdown and a folder of clips) of every answer
to a question, a collection or every theme, honest about what it counts and whose words it holds."""

from __future__ import annotations

import base64
import json
import re

import pytest
from conftest import run_heard
from evidence_helpers import handmade

QUERY = "what do customers say about pricing"


def count_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def pricing_report(indexed_examples, test_config, tmp_path_factory):
    data_dir = indexed_examples[0]
    out = tmp_path_factory.mktemp("report") / "pricing.html"
    result = run_heard(["report", QUERY, "-o", out, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    return data_dir, out, json.loads(result.stdout)


def test_a_reports_count_and_quotes_are_those_of_search_all_with_its_filters_printed(pricing_report, test_config):
    data_dir, out, report = pricing_report
    # Narrowed to the customers' words: exactly what `heard search --all --role customer` finds.
    search = run_heard(["search", QUERY, "--all", "--role", "customer", "--format", "json"], data_dir, test_config)
    hits = json.loads(search.stdout)
    assert report["count"] == count_line(search) and report["count"].startswith("pricing: ")
    assert [q["quote_id"] for q in report["quotes"]] == [h["quote_id"] for h in hits] and hits
    assert {q["role"] for q in report["quotes"]} == {"customer"}
    assert report["filters"] == {"role": "customer"}
    assert report["command"] == "heard search --all 'what do customers say about pricing' --role customer"
    assert report["themes"] and all(set(t["quotes"]) <= set(range(1, len(hits) + 1)) for t in report["themes"])

    page = out.read_text()
    for hit in hits:
        assert hit["text"] in page or hit["text"].replace("'", "&#39;") in page
    assert f'<p class="count" id="count">{report["count"]}</p>' in page
    assert "<li>role: customer</li>" in page and report["command"].replace("'", "&#39;") in page


def test_a_report_is_one_file_that_fetches_nothing_and_carries_every_clip(pricing_report):
    import io

    import av

    _, out, report = pricing_report
    page = out.read_text()
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "url(" not in page
    clips = re.findall(r'<audio controls preload="metadata" src="data:audio/webm;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(clips) == len(report["quotes"]) == report["clips"]
    for data, quote in zip(clips, report["quotes"]):
        with av.open(io.BytesIO(base64.b64decode(data))) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "opus"
            seconds = sum(frame.samples for frame in container.decode(stream)) / stream.codec_context.sample_rate
        assert abs(seconds - (quote["end"] - quote["start"] + 0.4)) < 0.1  # evidence.clip_pad on each side


def test_a_markdown_report_writes_a_folder_of_clips_beside_it(indexed_examples, test_config, tmp_path):
    out = tmp_path / "pricing.md"
    result = run_heard(["report", QUERY, "-o", out], indexed_examples[0], test_config)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    clips = sorted((tmp_path / "pricing-clips").iterdir())
    assert clips and all(c.suffix == ".mp3" and c.stat().st_size > 1000 for c in clips)
    assert [f"(pricing-clips/{c.name})" in text for c in clips] == [True] * len(clips)
    assert text.startswith(f"# {QUERY}\n\n**pricing: ")
    assert "Filters: role customer" in text and "## Themes" in text

    # Written again: a clip it no longer holds goes, a file of someone else's stays.
    (tmp_path / "pricing-clips" / "99-0123456789abcdef-100-200.mp3").write_bytes(b"old")
    (tmp_path / "pricing-clips" / "notes.txt").write_text("mine")
    assert run_heard(["report", QUERY, "-o", out], indexed_examples[0], test_config).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "pricing-clips").iterdir()) == sorted([c.name for c in clips] + ["notes.txt"])


def test_without_clips_the_report_says_so_and_holds_no_audio(indexed_examples, test_config, tmp_path):
    out = tmp_path / "plain.html"
    result = run_heard(["report", QUERY, "-o", out, "--no-clips"], indexed_examples[0], test_config)
    kilobytes = round(out.stat().st_size / 1000)
    assert result.exit_code == 0 and result.stdout.startswith(f"wrote {out} ({kilobytes} KB): pricing: ")
    assert result.stdout.rstrip().endswith(", 0 clips")
    assert "<audio" not in out.read_text() and "Each clip is" not in out.read_text()


def test_a_collection_report_leaves_out_the_interviewers_quotes_and_says_so(indexed_examples, test_config, tmp_path):
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(indexed_examples[0], data_dir)

    def heard(*args):
        return run_heard(list(args), data_dir, test_config)

    asked = json.loads(heard("search", "how did you export the data", "--role", "interviewer", "-k", "1", "--format", "json").stdout)
    said = json.loads(heard("search", "exporting data", "--role", "customer", "-k", "2", "--format", "json").stdout)
    for hit in asked + said:
        assert heard("save", hit["quote_id"], "--to", "Exports", "--note", "keep").exit_code == 0
    result = heard("report", "--collection", "exports", "-o", tmp_path / "exports.html", "--format", "json")
    report = json.loads(result.stdout)
    assert [q["quote_id"] for q in report["quotes"]] == [h["quote_id"] for h in said]
    assert report["count"] == "Exports: 2 quotes from 1 recording"
    assert report["left_out"] == ["1 saved quote by the interviewer or host left out: a report holds the customers' own words"]
    assert all(q["note"] == "keep" for q in report["quotes"])
    page = (tmp_path / "exports.html").read_text()
    assert "1 saved quote by the interviewer or host left out" in page and asked[0]["text"] not in page


def test_a_themes_report_holds_every_theme_with_its_quotes(indexed_examples, test_config):
    result = run_heard(["report", "--themes", "--company", "Acme Logistics", "--format", "json"], indexed_examples[0], test_config)
    report = json.loads(result.stdout)
    themes = json.loads(run_heard(["themes", "--company", "Acme Logistics", "--format", "json"], indexed_examples[0], test_config).stdout)["themes"]
    assert [t["label"] for t in report["themes"]] == [t["label"] for t in themes]
    assert [q["text"] for q in report["quotes"]] == [q["text"] for t in themes for q in t["quotes"]]
    assert report["file"] is None and report["filters"] == {"company": "Acme Logistics"}


@pytest.mark.fast
@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([QUERY, "--role", "interviewer", "-o", "r.html"], "role: a report holds the customers' own words, never the interviewer's"),
        ([QUERY, "--collection", "Exports", "-o", "r.html"], "report: give one of a question"),
        (["-o", "r.html"], "report: give one of a question"),
        (["--collection", "Exports", "--company", "Acme", "-o", "r.html"], "filters narrow a search"),
        ([QUERY, "-o", "r.pdf"], "r.pdf: a report is written as .html"),
        ([QUERY], "give the file to write: -o FILE.html or -o FILE.md"),
        (["--collection", "Nothing here", "-o", "r.html"], "no collection is called 'Nothing here'"),
    ],
)
def test_a_report_that_cannot_be_honest_or_written_is_refused_in_one_line(tmp_path, args, said):
    made = handmade(tmp_path)
    result = run_heard(["report", *args], made.data_dir)
    assert result.exit_code == 2 and said in result.stderr, result.output
    assert not (tmp_path / "r.html").exists()


def test_a_report_shows_hostile_values_as_text_in_html_and_markdown(hostile, test_config, tmp_path):
    import shutil

    from test_output_safety import assert_markdown_is_text

    data_dir = tmp_path / "data"
    shutil.copytree(hostile, data_dir)
    hits = json.loads(run_heard(["search", "export cell", "--format", "json"], data_dir, test_config).stdout)
    said = next(h for h in hits if "HYPERLINK" in h["text"])  # by Sam, whose role the sidecar made hostile
    name = "cell\n# Injected heading"
    assert run_heard(["save", said["quote_id"], "--to", name, "--note", "<script>x</script>"], data_dir, test_config).exit_code == 0
    page_path, markdown_path = tmp_path / "r.html", tmp_path / "r.md"
    for out in (page_path, markdown_path):
        result = run_heard(["report", "--collection", name, "-o", out], data_dir, test_config)
        assert result.exit_code == 0, result.output
    page = page_path.read_text()
    assert "HYPERLINK" in page and "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and not re.search(r"<(img|b|script)\b", page)
    assert "No clip: “Call [final]" in page  # an imported transcript: no audio, and why
    assert_markdown_is_text(markdown_path.read_text())


def test_a_report_says_how_many_answering_quotes_it_leaves_out_for_their_speakers_role(hostile, test_config):
    # Sam's role, from the sidecar, is no role heard knows: not the customers' words for certain.
    query = "what did the export write into cell A1"
    every = run_heard(["search", query, "--all", "--format", "json"], hostile, test_config)
    others = [h for h in json.loads(every.stdout) if h["role"] != "customer"]
    assert others, every.output
    report = json.loads(run_heard(["report", query, "--format", "json"], hostile, test_config).stdout)
    assert report["quotes"] == [] and report["count"].endswith("0 quotes")
    assert report["left_out"] == [
        f"{len(others)} answering quote{'s' * (len(others) != 1)} by speakers not known to be customers left out "
        f"(speakers' roles unknown, or another role; heard search --all '{query}' lists them)"
    ]
