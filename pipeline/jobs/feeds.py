"""Ingest's feed step: the subscribed or given feeds are synced into the data dir first, and their
episodes join the run as ordinary recordings (pipeline/sources/feeds/sync.py says how)."""

from __future__ import annotations

from pathlib import Path

from pipeline.hearing.audio import probe_seconds
from pipeline.jobs.progress import Reporter
from pipeline.jobs.run_state import RunState
from pipeline.messages import redact
from pipeline.sources import discovery
from pipeline.sources.feeds.sync import sync_feeds


class _FeedLog:
    """The feed step's lines on ingest's reporter: failures always, the rest unless --quiet."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter
        self.quiet = getattr(reporter, "quiet", False)  # LogReporter's --quiet; the live bar is never quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            self.reporter.note(message)

    def failure(self, message: str) -> None:
        self.reporter.note(message)


def add_feed_episodes(
    state: RunState, feeds: list[tuple[str, str | None]], files: list[Path], roots: list[Path]
) -> tuple[list[Path], list[Path]]:
    """Sync `feeds` ((url, show name) pairs), count them and their failures in the run's summary,
    and return `files` and `roots` with the feed folders' recordings added."""
    settings, summary = state.settings, state.summary
    result = sync_feeds(feeds, settings, _FeedLog(state.reporter), audio_seconds=probe_seconds)
    summary.feeds_checked, summary.feeds_unchanged = result.checked, result.unchanged
    summary.episodes_downloaded = result.downloaded
    for failure in result.failures:
        summary.failed += 1
        # A feed address may carry a password (https://user:secret@host/feed): never in the summary.
        summary.failures.append(
            {"path": redact(failure.feed), "episode": failure.episode, "reason": redact(failure.reason), "retried": False}
        )
    folders: list[str | Path] = list(result.folders)
    found = discovery.discover(folders, exclude=(settings.transcripts_dir, settings.index_dir)) if folders else []
    return sorted(set(files) | set(found)), roots + [folder.resolve() for folder in result.folders]
