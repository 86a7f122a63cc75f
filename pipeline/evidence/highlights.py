"""Highlights: quotes saved into named collections, with a note and tags. What `heard save`, `heard
unsave` and `heard collections` run, and the page's Save buttons and Collections page too."""

from __future__ import annotations

import datetime
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.crash import crash_point
from pipeline.errors import UsageError
from pipeline.evidence.database import CollectionsDatabase
from pipeline.evidence.saved import SavedQuote, shown
from pipeline.evidence.spans import Recordings, cut, no_words
from pipeline.finding.hits import parse_quote_id

if TYPE_CHECKING:
    from pipeline.config import Settings


@dataclass
class Collection:
    name: str
    quotes: int
    recordings: int
    created_at: str
    updated_at: str  # when its last quote was saved ('' when empty)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "quotes": self.quotes,
            "recordings": self.recordings,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class Saved:
    """What a save did: the quote as kept, whether it was new there, and the collection's size."""

    quote: SavedQuote
    new: bool
    collection_quotes: int


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def key(name: str) -> str:
    return name.casefold()


def save(
    settings: Settings,
    quote_id: str,
    collection: str,
    *,
    note: str | None = None,
    tags: tuple[str, ...] | None = None,
    recordings: Recordings | None = None,
) -> Saved:
    """Keep the quote `quote_id` names in `collection` (made when new): its span of the transcript
    with its words, speaker and recording as they are now. Saving it again keeps its words and
    replaces the note or tags given. UsageError when the id names no recording or no words."""
    span = parse_quote_id(quote_id)
    recordings = recordings or Recordings(settings)
    transcript = recordings.transcript(span.recording_id)
    if transcript is None:
        raise UsageError(
            f"{quote_id}: no recording with the id {span.recording_id} in {settings.data_dir}; "
            "copy the quote id from a search of this data dir"
        )
    words = cut(transcript, span)
    if words is None:
        raise no_words(span, recordings.title(transcript))
    person = recordings.people(transcript).get(words.speaker_label or "")
    row = {
        "quote_id": quote_id.strip(),
        "recording_id": span.recording_id,
        "start": span.start,
        "end": span.end,
        "text": words.text,
        "words": json.dumps([[round(s, 3), round(e, 3), t] for s, e, t in words.words], ensure_ascii=False),
        "speaker_label": words.speaker_label,
        "speaker": person.name if person else words.speaker_label,
        "role": person.role if person else None,
        "title": recordings.title(transcript),
        "source": transcript.source,
        "metadata": json.dumps(recordings.fields(transcript, span.start), ensure_ascii=False, default=str),
        "transcript_key": transcript.audio_sha256,
        "note": note or "",
        "tags": json.dumps(list(tags or ()), ensure_ascii=False),
        "saved_at": now(),
    }
    with CollectionsDatabase.of(settings.data_dir) as database:
        with database.transaction() as db:
            collection_id, name = _collection(db, collection, create=True)
            crash_point("evidence-save")  # the kill test: a collection made but its quote not yet saved
            new = _keep(db, collection_id, row, note=note, tags=tags)
        found = _rows(database, collection_id, str(row["quote_id"]))
        count = int(database.query("SELECT COUNT(*) FROM saved WHERE collection_id = ?", (collection_id,))[0][0])
    return Saved(shown(found[0], name, recordings), new, count)


def _keep(db: sqlite3.Connection, collection_id: int, row: dict[str, object], *, note: str | None, tags: object) -> bool:
    """Insert the quote, or update the note and tags given of the one already there; True when new."""
    had = db.execute("SELECT id FROM saved WHERE collection_id = ? AND quote_id = ?", (collection_id, row["quote_id"])).fetchone()
    if had is None:
        columns = ["collection_id", *row]
        db.execute(
            f"INSERT INTO saved ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", [collection_id, *row.values()]
        )
        return True
    if note is not None:
        db.execute("UPDATE saved SET note = ? WHERE id = ?", (note, had["id"]))
    if tags is not None:
        db.execute("UPDATE saved SET tags = ? WHERE id = ?", (row["tags"], had["id"]))
    return False


def _collection(db: sqlite3.Connection, name: str, *, create: bool = False) -> tuple[int, str]:
    """(id, name as first given) of the collection called `name` in any case; made when `create`."""
    found = db.execute("SELECT id, name FROM collections WHERE name_key = ?", (key(name),)).fetchone()
    if found is not None:
        return int(found["id"]), str(found["name"])
    if not create:
        raise UsageError(f"no collection is called {name!r}; `heard collections` lists them")
    cursor = db.execute("INSERT INTO collections (name, name_key, created_at) VALUES (?, ?, ?)", (name, key(name), now()))
    return int(cursor.lastrowid or 0), name


def _rows(database: CollectionsDatabase, collection_id: int, quote_id: str | None = None) -> list[sqlite3.Row]:
    if quote_id is None:
        return database.query("SELECT * FROM saved WHERE collection_id = ? ORDER BY saved_at, id", (collection_id,))
    return database.query("SELECT * FROM saved WHERE collection_id = ? AND quote_id = ?", (collection_id, quote_id))


def edit(settings: Settings, collection: str, quote_id: str, *, note: str | None, tags: tuple[str, ...] | None) -> SavedQuote:
    """Change a saved quote's note and tags (the given ones), whether or not its recording is still there."""
    with CollectionsDatabase.of(settings.data_dir) as database:
        with database.transaction() as db:
            collection_id, name = _collection(db, collection)
            if not db.execute(
                "SELECT 1 FROM saved WHERE collection_id = ? AND quote_id = ?", (collection_id, quote_id)
            ).fetchone():
                raise UsageError(f"{quote_id} is not saved in {name!r}")
            _keep(db, collection_id, {"quote_id": quote_id, "tags": json.dumps(list(tags or ()))}, note=note, tags=tags)
        row = _rows(database, collection_id, quote_id)[0]
    return shown(row, name, Recordings(settings))


def unsave(settings: Settings, quote_id: str, collection: str | None = None) -> list[str]:
    """Take the quote out of `collection`, or of every collection that holds it; the collections'
    names. UsageError when it is saved in none of them."""
    quote_id = quote_id.strip()
    with CollectionsDatabase.of(settings.data_dir) as database, database.transaction() as db:
        if collection is not None:
            held = [_collection(db, collection)]
        else:
            held = [
                (int(r["id"]), str(r["name"]))
                for r in db.execute(
                    "SELECT DISTINCT c.id, c.name FROM collections c JOIN saved s ON s.collection_id = c.id "
                    "WHERE s.quote_id = ? ORDER BY c.name",
                    (quote_id,),
                )
            ]
        removed = [
            name
            for collection_id, name in held
            if db.execute("DELETE FROM saved WHERE collection_id = ? AND quote_id = ?", (collection_id, quote_id)).rowcount
        ]
    if not removed:
        where = f"in {collection!r}" if collection else "in any collection"
        raise UsageError(f"{quote_id} is not saved {where}; `heard collections show NAME` lists a collection's quotes")
    return removed


def collections(settings: Settings) -> list[Collection]:
    """Every collection with how many quotes and recordings it holds, by name."""
    with CollectionsDatabase.of(settings.data_dir, create=False) as database:
        rows = database.query(
            "SELECT c.name, c.created_at, COUNT(s.id) AS quotes, COUNT(DISTINCT s.recording_id) AS recordings, "
            "COALESCE(MAX(s.saved_at), '') AS updated_at FROM collections c LEFT JOIN saved s ON s.collection_id = c.id "
            "GROUP BY c.id ORDER BY c.name_key"
        )
    return [Collection(r["name"], r["quotes"], r["recordings"], r["created_at"], r["updated_at"]) for r in rows]


def show(settings: Settings, collection: str, *, recordings: Recordings | None = None) -> tuple[str, list[SavedQuote]]:
    """The collection's name and its quotes, in the order they were saved, as they are now."""
    recordings = recordings or Recordings(settings)
    with CollectionsDatabase.of(settings.data_dir, create=False) as database:
        collection_id, name = _collection(database.db, collection)
        rows = _rows(database, collection_id)
    return name, [shown(row, name, recordings) for row in rows]


def rename(settings: Settings, collection: str, new_name: str) -> tuple[str, str]:
    """(old name, new name); refused when another collection already has the new name."""
    with CollectionsDatabase.of(settings.data_dir) as database, database.transaction() as db:
        collection_id, old = _collection(db, collection)
        other = db.execute(
            "SELECT name FROM collections WHERE name_key = ? AND id != ?", (key(new_name), collection_id)
        ).fetchone()
        if other is not None:
            raise UsageError(f"a collection is already called {other['name']!r}; pick another name, or remove that one first")
        db.execute("UPDATE collections SET name = ?, name_key = ? WHERE id = ?", (new_name, key(new_name), collection_id))
    return old, new_name


def remove(settings: Settings, collection: str) -> tuple[str, int]:
    """Delete the collection and the quotes saved in it: (its name, how many quotes it held)."""
    with CollectionsDatabase.of(settings.data_dir) as database, database.transaction() as db:
        collection_id, name = _collection(db, collection)
        count = db.execute("DELETE FROM saved WHERE collection_id = ?", (collection_id,)).rowcount
        db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))
    return name, count
