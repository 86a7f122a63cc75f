"""Fixtures for the web tests: a data dir prepared from the ingested examples, served by uvicorn.

The data dir is a copy of `indexed_examples` whose recordings were moved to a folder of their own
(re-ingested, as a user would after moving files), then:
- Brightside's transcript gets speakers and roles from the true turns, its recording metadata
  (company, date, tags) and a line containing markup, and is re-indexed with the real chunker,
  embedder and store, as ingest does once speakers and metadata are known;
- Northwind's file is moved away after ingest, so its audio is "moved".
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def _reindex_with_speakers(settings, recording_id: str, truth: dict) -> None:
    from pipeline import chunking, transcripts
    from pipeline.embed import Embedder
    from pipeline.store import Store

    transcript = transcripts.load_if_exists(settings.transcripts_dir, recording_id)
    for segment in transcript.segments:
        middle = (segment.start + segment.end) / 2
        turn = min(truth["turns"], key=lambda t: 0 if t["start"] <= middle <= t["end"] else min(abs(t["start"] - middle), abs(t["end"] - middle)))
        segment.speaker = SPEAKERS[turn["speaker"]]
    # Markup inside a customer's line: it must reach every page as text, never as HTML.
    target = next(s for s in transcript.segments if "single sign on" in s.text.lower() and s.speaker == "Priya")
    target.text = f"{target.text.rstrip('.')} {INJECTED} was our problem."
    target.words = []
    transcripts.save(transcript, settings.transcripts_dir)
    chunks = chunking.chunk_transcript(transcript, settings.chunking)
    roles = {name: role for role, name in SPEAKERS.items()}
    for chunk in chunks:
        chunk.role = roles.get(chunk.speaker)
        chunk.metadata = dict(BRIGHTSIDE)
    store = Store(settings.index_dir, settings.store.collection)
    store.replace_recording(recording_id, chunks, Embedder(settings.embedding).encode([c.text for c in chunks]))


@pytest.fixture(scope="session")
def web_data(indexed_examples, tmp_path_factory, test_config, truth) -> WebData:
    from pipeline.config import load_settings
    from pipeline.sources import identify

    source_dir, _ = indexed_examples
    root = tmp_path_factory.mktemp("web")
    data_dir = root / "data"
    shutil.copytree(source_dir, data_dir)
    recordings = root / "recordings"
    shutil.copytree(EXAMPLES, recordings)
    result = run_heard(["ingest", recordings, "--format", "json"], data_dir, test_config)
    assert result.exit_code == 0, result.output
    ids = {p.name: identify(p).id for p in recordings.iterdir() if p.suffix != ".yaml"}

    settings = load_settings(test_config, data_dir, environ={})
    _reindex_with_speakers(settings, ids["brightside-onboarding.m4a"], truth["brightside-onboarding.m4a"])

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
