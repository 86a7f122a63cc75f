"""A user's decisions about voices: name (and role), merge, split; and taking one back.

Each decision pins speakers to a voice (the `pins` table, with a copy of each speaker's vector), so
it outlives the recording it was made on and every later clustering starts from it; each ends with
a re-clustering (observe.recluster). A decision whose re-index fails is taken back whole (`remember`
before it, `undo` after), so a command that fails leaves no name behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.indexing.identities.database import VoiceDatabase
from pipeline.indexing.identities.lookups import titles, voice
from pipeline.indexing.identities.observe import recluster
from pipeline.indexing.role_names import ROLES
from pipeline.messages import name_problem

# The tables a decision writes; members (and indexed) are derived from them and the transcripts.
_DECIDED = ("voices", "pins", "counters")


def check_role(role: str | None) -> None:
    """A voice's role is one of roles.ROLES (or none)."""
    if role is not None and role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(ROLES)}")


def name(book: VoiceDatabase, voice_id: str, given: str | None, *, role: str | None = None) -> None:
    """Name a voice (None: no name) and give it a role; its present speakers become confirmed
    members. A name follows the one rule for names (messages.name_problem), stored trimmed."""
    check_role(role)
    problem = name_problem(given) if given is not None else None
    if problem:
        raise ConfigError(f"name: {problem}")
    voice(book, voice_id)  # unknown ids are an error
    with book.transaction():
        _pin_members(book, voice_id, voice_id)
        stored = given.strip() if given is not None else None
        book.db.execute("UPDATE voices SET name = ?, role = ? WHERE id = ?", (stored, role, voice_id))
    recluster(book)


def merge(book: VoiceDatabase, keep: str, other: str) -> None:
    """One person heard as two voices: `other`'s speakers and decisions move to `keep`."""
    kept, gone = voice(book, keep), voice(book, other)
    if keep == other:
        raise ConfigError(f"{keep}: give two different voices to merge")
    together = [r for r in kept.recordings if r in set(gone.recordings)]
    if together:
        # Two speakers of one recording are two people (the diarizer told them apart): the
        # interviewer merged into the customer would make every question a customer's quote.
        raise ConfigError(
            f"{keep} and {other} both speak in {_recordings(book, together)}: two speakers of one recording are "
            "never one voice; `heard speakers split` separates a speaker put in the wrong voice"
        )
    if kept.name and gone.name and kept.name != gone.name:
        raise ConfigError(
            f"{keep} is {kept.name} and {other} is {gone.name}; rename one of them first "
            f'(`heard speakers name {other} "{kept.name}"`) if they are one person'
        )
    with book.transaction():
        _pin_members(book, keep, keep)
        _pin_members(book, other, keep)
        book.db.execute("UPDATE pins SET voice_id = ? WHERE voice_id = ?", (keep, other))
        book.db.execute(
            "UPDATE voices SET name = ?, role = ? WHERE id = ?", (kept.name or gone.name, kept.role or gone.role, keep)
        )
        book.db.execute("DELETE FROM voices WHERE id = ?", (other,))
    recluster(book)


def split(book: VoiceDatabase, voice_id: str, recording_id: str, label: str | None = None) -> str:
    """One recording's speaker is not this voice: it becomes a voice of its own (returned); the
    voice's other speakers become confirmed members, so they are not joined again."""
    found = voice(book, voice_id)
    moving = [(r, lab) for r, lab, _ in found.speakers if r == recording_id and (label is None or lab == label)]
    if not moving:
        where = f"{recording_id}:{label}" if label else recording_id
        raise ConfigError(f"{voice_id} does not speak in {where}; `heard speakers` lists where each voice speaks")
    if len(found.recordings) == 1 and len(moving) == len(found.speakers):
        raise ConfigError(f"{voice_id} is heard only there; nothing to split it from")
    with book.transaction():
        new = book.new_voice()
        _pin_members(book, voice_id, voice_id)
        for r, lab in moving:
            book.db.execute("UPDATE pins SET voice_id = ? WHERE recording_id = ? AND label = ?", (new, r, lab))
            book.db.execute("UPDATE members SET voice_id = ? WHERE recording_id = ? AND label = ?", (new, r, lab))
    recluster(book)
    return new


def _pin_members(book: VoiceDatabase, voice_id: str, into: str) -> None:
    """Confirm `voice_id`'s present speakers as members of `into` (each speaker pinned once)."""
    rows = book.db.execute(
        "SELECT m.recording_id, m.label, s.embedding FROM members m JOIN speakers s "
        "ON s.recording_id = m.recording_id AND s.label = m.label WHERE m.voice_id = ?",
        (voice_id,),
    ).fetchall()
    for recording_id, label, blob in rows:
        book.db.execute("DELETE FROM pins WHERE recording_id = ? AND label = ?", (recording_id, label))
        book.db.execute(
            "INSERT INTO pins (voice_id, recording_id, label, embedding) VALUES (?, ?, ?, ?)",
            (into, recording_id, label, blob),
        )


def _recordings(book: VoiceDatabase, recording_ids: list[str], shown: int = 3) -> str:
    """'acme-export.mp3, northwind-pricing.ogg and 2 more': recordings by file name."""
    known = titles(book)
    names = [Path(known[r][1]).name if r in known and known[r][1] else r for r in recording_ids]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


@dataclass(frozen=True)
class Remembered:
    """The decided tables as they were before a decision."""

    rows: dict[str, list[tuple[object, ...]]]


def remember(book: VoiceDatabase) -> Remembered:
    return Remembered({table: list(book.db.execute(f"SELECT * FROM {table}")) for table in _DECIDED})


def undo(book: VoiceDatabase, before: Remembered) -> None:
    """Put the decisions back as they were `before`, and re-cluster from them."""
    with book.transaction():
        for table, rows in before.rows.items():
            book.db.execute(f"DELETE FROM {table}")
            if rows:
                book.db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    recluster(book)
