"""What the index carries: the names and roles last written into each recording's chunks, so ingest
and `heard speakers` know which recordings a decision changed."""

from __future__ import annotations

from pipeline.indexing.identities.database import VoiceDatabase
from pipeline.indexing.identities.lookups import all_identities, identities
from pipeline.indexing.identities.model import Identity, identity_key


def stale(book: VoiceDatabase, recording_id: str | None) -> bool:
    """Whether the recording's names and roles changed since its chunks were last written."""
    if recording_id is None:
        return False
    row = book.db.execute("SELECT identities FROM indexed WHERE recording_id = ?", (recording_id,)).fetchone()
    written = str(row[0]) if row else identity_key({})
    return written != identity_key(identities(book, recording_id))


def mark_indexed(book: VoiceDatabase, recording_id: str, given: dict[str, Identity]) -> None:
    """The recording's chunks now carry the names and roles `given`."""
    with book.transaction():
        book.db.execute(
            "INSERT OR REPLACE INTO indexed (recording_id, identities) VALUES (?, ?)",
            (recording_id, identity_key(given)),
        )


def stale_recordings(book: VoiceDatabase) -> set[str]:
    """Recordings whose index entries carry other names or roles than their voices now have."""
    now = all_identities(book)
    written: dict[str, str] = dict(book.db.execute("SELECT recording_id, identities FROM indexed").fetchall())
    empty = identity_key({})
    return {rid for rid in set(now) | set(written) if now.get(rid, empty) != written.get(rid, empty)}
