"""A data dir whose one recording has a hostile value in every field a person or a spreadsheet reads:
a quote that is a formula, a title that is rich markup and HTML, a company that starts like a formula,
a role that is both. Shared by the CLI and web tests of output escaping."""

from __future__ import annotations

import pytest

HOSTILE_TRANSCRIPT = (
    "Dana: What did the export give you?\n"
    "Sam: =HYPERLINK(\"http://evil.example\",\"invoice\") is what the export wrote into cell A1.\n"
)
HOSTILE_SIDECAR = (
    "title: Call [final] [red]styled[/red] <b>bold</b>\n"
    "company: \"-2+3 Holdings\"\n"
    "speakers:\n  Sam: \"@sum(1+1) <img src=x onerror=alert(1)>\"\n"
)
# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="session")
def hostile(tmp_path_factory, test_config):
    """A data dir holding one ingested recording whose every field is hostile."""
    from conftest import run_heard

    root = tmp_path_factory.mktemp("hostile")
    folder = root / "[red]recordings [bold]"  # markup in the path too
    folder.mkdir()
    (folder / "call.txt").write_text(HOSTILE_TRANSCRIPT)
    (folder / "call.yaml").write_text(HOSTILE_SIDECAR)
    data_dir = root / "data"
    result = run_heard(["ingest", folder, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    return data_dir
