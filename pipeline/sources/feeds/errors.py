"""The one error of the feed step: a feed, or an episode's file, cannot be fetched or read."""

from __future__ import annotations

from pipeline.errors import HeardError
from pipeline.messages import safe


class FeedError(HeardError):
    """A feed, or an episode's file, cannot be fetched or read; the run goes on with the others."""

    exit_code = 1

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = safe(reason)  # kept in the feed's state and the summary: one line, no password
        super().__init__(f"{url}: {reason}")
