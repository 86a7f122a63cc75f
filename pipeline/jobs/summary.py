"""What ingest and reindex summaries share: the exit code they imply and their JSON form."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any


class RunSummary:
    """What ingest and reindex summaries share: the exit code they imply and their JSON form."""

    failed: int

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]  # every summary is a dataclass
