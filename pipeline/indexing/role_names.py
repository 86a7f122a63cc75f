"""The roles a speaker can have, by kind of recording: a small module of names, so the command line
can offer them in --help without loading the indexing code (roles.py assigns them)."""

from __future__ import annotations

# Roles by kind of recording: (the one who asks, everyone else).
ROLES_BY_KIND = {"interview": ("interviewer", "customer"), "podcast": ("host", "guest")}
ROLES = ("interviewer", "customer", "host", "guest")
ASKER_ROLES = ("interviewer", "host")


def roles_for(kind: str | None) -> tuple[str, str]:
    """(the asker's role, everyone else's) for a kind of recording; interview when unknown."""
    return ROLES_BY_KIND.get(kind or "interview", ROLES_BY_KIND["interview"])
