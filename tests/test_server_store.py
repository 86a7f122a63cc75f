"""`heard status` and `heard eval` look at the index `store.url` names, as search and ingest do (issue 13)."""

from __future__ import annotations

import json

from conftest import EXAMPLES, last_json_line, run_heard
from test_scale import chroma_server, copy_transcripts, server_config  # noqa: F401 - the fixture


def test_status_and_eval_read_the_servers_index(chroma_server, indexed_examples, tmp_path):  # noqa: F811
    config = server_config(tmp_path, chroma_server, "status-and-eval")
    data_dir = tmp_path / "data"
    copy_transcripts(indexed_examples, data_dir)
    result = run_heard(["ingest", EXAMPLES, "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    written = last_json_line(result.stdout)["chunks_written"]

    found = run_heard(["status", "--format", "json"], data_dir, config)
    assert found.exit_code == 0, found.output
    status = json.loads(found.stdout)
    assert status["chunks"] == written and status["index"]["error"] is None
    assert "not-checked-by-a-local-server" not in found.output

    queries = tmp_path / "queries.yaml"
    queries.write_text(
        "queries:\n"
        "  - query: exporting data to CSV times out\n"
        "    relevant: [{recording: acme-export.mp3, start: 5.0, end: 15.0}]\n"
    )
    evaluated = run_heard(["eval", queries, "--format", "json"], tmp_path / "elsewhere", config)
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)[0]
    assert report["queries"] == 1 and report["success@5"] == 1.0
