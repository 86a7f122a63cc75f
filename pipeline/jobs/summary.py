"""What ingest and reindex summaries share: the exit code they imply and their JSON form."""

from __future__ import annotations

from dataclasses import Field, asdict
from typing import Any, ClassVar

from pipeline.files import JsonObject


class RunSummary:
    """What ingest and reindex summaries share: the exit code they imply and their JSON form.
    Each summary is a dataclass (declared here, so that asdict() accepts every one)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    failed: int

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> JsonObject:
        return asdict(self)
