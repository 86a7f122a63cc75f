"""The values the identities book hands out: a voice (one person heard across recordings) and the
identity a named voice gives a recording's speaker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """What a named voice gives a recording's speaker."""

    voice: str
    name: str | None
    role: str | None


@dataclass
class Voice:
    id: str
    name: str | None = None
    role: str | None = None
    # (recording id, label, seconds) of every speaker in this voice
    speakers: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def recordings(self) -> list[str]:
        return list(dict.fromkeys(r for r, _, _ in self.speakers))

    @property
    def seconds(self) -> float:
        return sum(s for _, _, s in self.speakers)

    @property
    def named(self) -> bool:
        return bool(self.name or self.role)


def identity_key(identities: dict[str, Identity]) -> str:
    """A comparable text of a recording's identities (what its index entries carry)."""
    return json.dumps(sorted([label, i.voice, i.name, i.role] for label, i in identities.items()))
