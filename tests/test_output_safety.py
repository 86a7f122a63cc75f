"""What users typed or recorded is data, never markup, formulas or log lines; user errors are one line
and exit 2 (issue 13). Everything through the real `heard` CLI."""

from __future__ import annotations

import csv
import io
import os
import pty
import re
import shutil
import subprocess
import sys
import threading

import pytest
from conftest import REPO
from hostile_fixtures import FORMULA_STARTS, HOSTILE_TRANSCRIPT


def is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def assert_no_formula_cells(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        for column, cell in row.items():
            assert is_number(cell) or not cell.startswith(FORMULA_STARTS), (column, cell)
    return rows


def test_cli_csv_cells_never_start_a_formula(hostile, heard):
    result = heard(["search", "what did the export write into the cell", "--format", "csv"], hostile)
    assert result.exit_code == 0, result.output
    rows = assert_no_formula_cells(result.stdout)
    assert any("HYPERLINK" in row["text"] for row in rows) and rows[0]["company"] == "'-2+3 Holdings"


def test_cli_markdown_keeps_user_text_as_text(hostile, heard):
    result = heard(["search", "export cell\n# Injected heading", "--format", "md"], hostile)
    assert result.exit_code == 0, result.output
    assert_markdown_is_text(result.stdout)


def assert_markdown_is_text(markdown: str) -> None:
    """No HTML tag, link or heading that the recording's fields or the query put there."""
    assert "\\<img src=x" in markdown and "\\<b\\>bold" in markdown, markdown
    assert not re.search(r"(?<!\\)<", markdown), markdown  # every < escaped: no tag can open
    assert "\\[final\\]" in markdown, markdown
    assert not any(re.match(r"\s*#+ *Injected", line) for line in markdown.splitlines()), markdown  # no heading of its own


@pytest.mark.parametrize("query", ["[/x] export cell", "[red]export[/red] cell", "[bold"])
def test_the_table_prints_queries_as_typed(hostile, heard, query):
    result = heard(["search", query], hostile)
    assert result.exit_code == 0, result.output
    assert query.split(" ")[0] in result.stdout


def test_the_table_prints_titles_as_written(hostile, heard):
    for flags in ([], ["--group"]):
        result = heard(["search", "export cell", *flags], hostile)
        assert result.exit_code == 0, result.output
        assert "Call [final]" in result.stdout and "[red]styled[/red]" in result.stdout, result.stdout
    # --group titles each table with the recording's title too ("Call [final]" printed as "Call ").
    assert "export cell — Call [final] [red]styled[/red]" in result.stdout, result.stdout


def test_no_results_message_prints_the_query_as_typed(hostile, heard):
    result = heard(["search", "[/x] export", "--company", "nobody"], hostile)
    assert result.exit_code == 0 and "[/x] export" in result.stdout, result.output


def run_on_a_terminal(args: list[str], timeout: float = 300) -> tuple[int, str]:
    """`heard` as its own process with stderr on a pseudo-terminal: the progress bar is drawn."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=slave, env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"})
    os.close(slave)
    seen = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    process.stdout.read()
    code = process.wait(timeout=timeout)
    reader.join(timeout=10)
    os.close(master)
    return code, seen.decode("utf-8", "replace")


def test_progress_bar_survives_paths_that_look_like_markup(tmp_path, test_config):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    (folder / "[").mkdir(parents=True)
    (folder / "[" / "x].txt").write_text(HOSTILE_TRANSCRIPT)  # its path holds "[/x]"
    (folder / "y[red]z.txt").write_text("Dana: Hi?\nSam: Our onboarding took three weeks.\n")
    base = ["--config", test_config, "--data-dir", data_dir, "ingest", folder]
    code, shown = run_on_a_terminal(base)
    assert code == 0, shown
    assert "y[red]z.txt" in shown
    moved = folder / "[" / "moved"
    moved.mkdir()
    shutil.move(folder / "[" / "x].txt", moved / "x].txt")  # "same content as .../[/x].txt"
    code, shown = run_on_a_terminal(base)
    assert code == 0 and "MarkupError" not in shown, shown


def test_log_lines_cannot_be_forged_by_file_names(tmp_path, heard):
    folder, data_dir = tmp_path / "recordings", tmp_path / "data"
    folder.mkdir()
    name = "evil\n[9 of 9] forged.txt: indexed 99 chunks\n\x1b[31mred.txt"
    (folder / name).write_text(HOSTILE_TRANSCRIPT)
    result = heard(["ingest", folder], data_dir)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stderr
    lines = result.stderr.splitlines()
    assert not any(line.startswith("[9 of 9] forged") for line in lines), lines
    assert any("forged.txt" in line and "indexed 2 chunks" in line for line in lines), lines


# ---- user errors: one line, exit 2 ---------------------------------------------------------------


def assert_user_error(result, *words):
    """Exit 2 and one line that says what is wrong (click adds its usage lines to usage errors)."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 2, result.output
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    assert all(w in errors[0] for w in words), errors[0]


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_an_empty_query_is_a_usage_error(hostile, heard, query):
    assert_user_error(heard(["search", query], hostile), "query: say what to look for")


def test_an_absurd_k_is_a_usage_error(hostile, heard):
    assert_user_error(heard(["search", "export", "-k", "99999999999999999999"], hostile), "k: 99999999999999999999 is out of range")


def test_convert_model_errors_are_one_line(tmp_path, heard):
    model = tmp_path / "not-a-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.bin").write_bytes(b"\x07\x00")
    assert_user_error(heard(["convert-model", model, tmp_path / "out.pt"], tmp_path), str(model))
    (model / "model.bin").write_bytes(b"\x05\x00\x00\x00" + b"\x00" * 64)
    assert_user_error(heard(["convert-model", model, tmp_path / "out.pt"], tmp_path), str(model))
    assert not (tmp_path / "out.pt").exists()


@pytest.mark.parametrize(
    "variable, value",
    [
        ("HEARD_SPEAKERS_COUNT", "three"),
        ("HEARD_SPEAKERS_COUNT", "9"),
        ("HEARD_STORE_URL", "123"),
        ("HEARD_SEARCH_K", "null"),
        ("HEARD_SEARCH_K", "[1"),
        ("HEARD_TRANSCRIBE_MODEL", "null"),
        ("HEARD_TRANSCRIBE_MODEL", "[tiny.en]"),
        ("HEARD_SEARCH_DENSE_WEIGHT", "lots"),
        ("HEARD_SEARCH_DENSE_WEIGHT", ".nan"),
    ],
)
def test_typed_settings_from_the_environment_are_checked(hostile, heard, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    for command in (["status"], ["search", "export"]):
        assert_user_error(heard(command, hostile), variable)


@pytest.mark.fast
def test_store_credentials_never_appear_in_messages(tmp_path, heard, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HEARD_STORE_URL", f"http://admin:pa55word@127.0.0.1:{port}/")
    monkeypatch.setenv("HEARD_STORE_TOKEN", "t0ken-value")
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "call.txt").write_text(HOSTILE_TRANSCRIPT)
    for command in (["search", "export"], ["ingest", folder], ["status"], ["status", "--format", "json"]):
        result = heard(command, tmp_path / "data")
        assert "pa55word" not in result.output and "t0ken-value" not in result.output, (command, result.output)
        assert f"127.0.0.1:{port}" in result.output or command[0] == "status", (command, result.output)
