"""Fixtures for the web tests: a data dir prepared from the ingested examples, served by uvicorn.

The data dir is a copy of `indexed_examples` whose recordings were moved to a folder of their own
(re-ingested, as a user would after moving files), then, through the product's own paths:
- Brightside's sidecar gains speakers' names, a date, tags and a segment, and the next ingest
  re-indexes it (diarization and inferred roles, then metadata names them);
- one of its customer's lines gets markup in the transcript file, and `heard reindex` rebuilds the
  index from transcripts/;
- Northwind's file is moved away after ingest, so its audio is "moved".
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, run_heard

INJECTED = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
BRIGHTSIDE = {"company": "Brightside Health", "date": "2024-05-02", "tags": ["onboarding", "sso"], "segment": "enterprise"}
SPEAKERS = {"interviewer": "Tom", "customer": "Priya"}


@dataclass
class WebData:
    data_dir: Path
    recordings: Path  # where the examples were moved to
    ids: dict[str, str]  # example file name -> recording id
    moved_away: Path  # where Northwind's file went


def _inject_markup(settings, recording_id: str) -> None:
    """Markup inside a customer's line: it must reach every page as text, never as HTML."""
    from pipeline import transcripts
    from pipeline.indexing.roles import people
    from pipeline.sources.metadata import for_recording

    transcript = transcripts.load_if_exists(settings.transcripts_dir, recording_id)
    names = people(transcript, for_recording(Path(transcript.source)))
    target = next(s for s in transcript.segments
                  if "single sign on" in s.text.lower() and names[s.speaker].name == SPEAKERS["customer"])
    target.text = f"{target.text.rstrip('.')} {INJECTED} was our problem."
    target.words = []
    transcripts.save(transcript, settings.transcripts_dir)


def _forget_first_place(data_dir: Path) -> None:
    """The examples were moved here, not copied: the catalog forgets the repository's copies (the
    rows an ingest of examples/ would drop once they were gone), so each recording's only copy is
    in the moved folder and Northwind's, moved away below, has none (web/media.py serves any copy
    that is still as indexed)."""
    from pipeline.jobs.catalog import Catalog

    catalog = Catalog.open_existing(data_dir)
    try:
        for path in [p for p in catalog.all() if Path(p).parent == EXAMPLES.resolve()]:
            catalog.delete(path)
    finally:
        catalog.close()


@pytest.fixture(scope="session")
def web_data(indexed_examples, tmp_path_factory, test_config) -> WebData:
    from pipeline.config import load_settings
    from pipeline.sources.discovery import identify

    source_dir, _ = indexed_examples
    root = tmp_path_factory.mktemp("web")
    data_dir = root / "data"
    shutil.copytree(source_dir, data_dir)
    recordings = root / "recordings"
    shutil.copytree(EXAMPLES, recordings)
    sidecar = recordings / "brightside-onboarding.yaml"
    meta = yaml.safe_load(sidecar.read_text())
    meta.update(BRIGHTSIDE, speakers=[{"name": name, "role": role} for role, name in SPEAKERS.items()])
    sidecar.write_text(yaml.safe_dump(meta))
    result = run_heard(["ingest", recordings, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    ids = {p.name: identify(p).id for p in recordings.iterdir() if p.suffix != ".yaml"}
    _forget_first_place(data_dir)

    settings = load_settings(test_config, data_dir, environ={})
    _inject_markup(settings, ids["brightside-onboarding.m4a"])
    result = run_heard(["reindex"], data_dir, test_config)
    assert result.exit_code == 0, result.output

    moved_away = root / "elsewhere" / "northwind-pricing.ogg"
    moved_away.parent.mkdir()
    shutil.move(recordings / "northwind-pricing.ogg", moved_away)
    return WebData(data_dir, recordings, ids, moved_away)


class RunningServer:
    """`heard serve`'s app under uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, settings, token: str | None = None):
        from pipeline.web.serve import bind, make_server

        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server(settings, token=token, log_level="warning")
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture(scope="session")
def web_server(web_data, test_config):
    from pipeline.config import load_settings

    with RunningServer(load_settings(test_config, web_data.data_dir, environ={})) as server:
        yield server


@pytest.fixture(scope="module")
def llm_web(web_data, test_config):
    """The examples' page served with an LLM configured: the loopback server (tests/llm_server.py)."""
    from llm_server import LlmServer

    from pipeline.config import load_settings

    with LlmServer() as llm:
        settings = load_settings(test_config, web_data.data_dir, environ={})
        settings.put("llm.base_url", llm.base_url, where="test")
        settings.put("llm.model", "loopback-test-model", where="test")
        with RunningServer(settings) as server:
            yield server, llm
