"""The voices heard across recordings (`heard speakers`): which person each recording's S1, S2... is.

Kept in `<data dir>/voices.sqlite3`, in three parts:
- speakers: each recording's speakers and their voice vectors, copied from the transcripts'
  `diarization.voices` (transcripts/ stays the source of truth: `refresh` re-reads a transcript
  whenever its file changed, and forgets recordings that left the index);
- decisions: names and roles given to voices, and `pins` (speakers a user put in a voice by naming,
  merging or splitting it), each with a copy of the speaker's vector, so a decision outlives the
  recording it was made on and every later clustering starts from it;
- derived: `members` (every speaker's voice, re-clustered by `refresh`, see voice_clusters.py) and
  `indexed` (the names and roles last written into the index for each recording, so ingest knows
  which recordings a decision changed).

Voice ids (V1, V2, ...) are never reused; a re-clustering keeps each id on the cluster that holds
most of its earlier speakers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.databases import database_error, open_database
from pipeline.errors import ConfigError, HeardError
from pipeline.indexing.voice_clusters import Key, Observation, cluster_observations, match_known, usable
from pipeline.transcripts import Transcript

VOICES_NAME = "voices.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS speakers (
    recording_id TEXT NOT NULL,
    label TEXT NOT NULL,
    seconds REAL NOT NULL,
    embedding BLOB NOT NULL,
    PRIMARY KEY (recording_id, label)
);
CREATE TABLE IF NOT EXISTS seen (
    recording_id TEXT PRIMARY KEY,
    stamp TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS voices (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    name TEXT,
    role TEXT
);
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    voice_id TEXT NOT NULL,
    recording_id TEXT,
    label TEXT,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS pins_by_speaker ON pins (recording_id, label);
CREATE TABLE IF NOT EXISTS members (
    recording_id TEXT NOT NULL,
    label TEXT NOT NULL,
    voice_id TEXT NOT NULL,
    PRIMARY KEY (recording_id, label)
);
CREATE INDEX IF NOT EXISTS members_by_voice ON members (voice_id);
CREATE TABLE IF NOT EXISTS indexed (
    recording_id TEXT PRIMARY KEY,
    identities TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


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


def voices_path(data_dir: Path) -> Path:
    return data_dir / VOICES_NAME


def _blob(vector: Iterable[float]) -> bytes:
    return np.asarray(list(vector), dtype=np.float32).tobytes()


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).astype(np.float64)


def identity_key(identities: dict[str, Identity]) -> str:
    """A comparable text of a recording's identities (what its index entries carry)."""
    return json.dumps(sorted([label, i.voice, i.name, i.role] for label, i in identities.items()))


class VoiceBook:
    def __init__(self, path: Path):
        self.path = path
        try:
            self._db = open_database(path, _SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise _error(path, exc) from exc

    @classmethod
    def open_existing(cls, data_dir: Path) -> VoiceBook | None:
        """The data dir's book, or None when nothing was ever recorded (read-only callers)."""
        path = voices_path(data_dir)
        return cls(path) if path.is_file() else None

    def close(self) -> None:
        self._db.close()

    def _transaction(self):
        return _Transaction(self._db, self.path)

    # --- what transcripts say ------------------------------------------------------------------

    def observe(self, transcript: Transcript, *, stamp: str = "") -> bool:
        """Take the recording's speakers from its transcript; new or changed speakers are matched
        to the known voices at once (the same rule a re-clustering applies). True if anything changed."""
        rid = transcript.recording_id
        found = {
            label: (float(v.get("seconds") or 0.0), v.get("embedding") or [])
            for label, v in ((transcript.diarization or {}).get("voices") or {}).items()
        }
        found = {label: (s, e) for label, (s, e) in found.items() if e}
        before = {
            row[0]: (row[1], _vector(row[2]))
            for row in self._db.execute("SELECT label, seconds, embedding FROM speakers WHERE recording_id = ?", (rid,))
        }
        same = before.keys() == found.keys() and all(np.allclose(before[label][1], found[label][1], atol=1e-4) for label in found)
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO seen (recording_id, stamp, title, source) VALUES (?, ?, ?, ?)",
                (rid, stamp, transcript.title, transcript.source),
            )
            if same:
                return False
            self._db.execute("DELETE FROM speakers WHERE recording_id = ?", (rid,))
            self._db.executemany(
                "INSERT INTO speakers (recording_id, label, seconds, embedding) VALUES (?, ?, ?, ?)",
                [(rid, label, s, _blob(e)) for label, (s, e) in found.items()],
            )
            # Pins on speakers that are no longer the same voice (re-diarized) stay evidence of
            # their voice, but no longer bind that label.
            self._db.execute("UPDATE pins SET recording_id = NULL, label = NULL WHERE recording_id = ?", (rid,))
            self._db.execute("DELETE FROM members WHERE recording_id = ?", (rid,))
            speakers = [Observation(rid, label, s, tuple(e)) for label, (s, e) in found.items()]
            matched = match_known([o for o in speakers if usable(o)], self._known())
            self._db.executemany(
                "INSERT INTO members (recording_id, label, voice_id) VALUES (?, ?, ?)",
                [(rid, label, voice) for label, voice in matched.items()],
            )
        return True

    def refresh(self, transcripts_dir: Path, live: set[str] | None) -> None:
        """Bring the speakers up to date with transcripts/ (only files that changed are read) and
        re-cluster. `live`: the recordings in the index (None: every transcript)."""
        from pipeline import transcripts

        stamps = {row[0]: row[1] for row in self._db.execute("SELECT recording_id, stamp FROM seen")}
        present: set[str] = set()
        for path in sorted(transcripts_dir.glob("*.json")) if transcripts_dir.is_dir() else []:
            rid = path.stem
            if live is not None and rid not in live:
                continue
            present.add(rid)
            stamp = transcripts.stamp(transcripts_dir, rid)
            if stamps.get(rid) == stamp:
                continue
            try:
                transcript = transcripts.load(path)
            except ConfigError:
                continue  # a damaged transcript is reported by ingest and reindex
            self.observe(transcript, stamp=stamp)
        gone = set(stamps) - present
        with self._transaction():
            for rid in gone:
                for table in ("speakers", "seen", "members"):
                    self._db.execute(f"DELETE FROM {table} WHERE recording_id = ?", (rid,))
                self._db.execute("UPDATE pins SET recording_id = NULL, label = NULL WHERE recording_id = ?", (rid,))
        self.recluster()

    def recluster(self) -> None:
        """Every speaker's voice from scratch, starting from the users' decisions (voice_clusters.py)."""
        observations = [
            Observation(row[0], row[1], row[2], tuple(_vector(row[3]).tolist()))
            for row in self._db.execute("SELECT recording_id, label, seconds, embedding FROM speakers")
        ]
        pinned = {
            (row[0], row[1]): row[2]
            for row in self._db.execute("SELECT recording_id, label, voice_id FROM pins WHERE recording_id IS NOT NULL")
        }
        assigned = cluster_observations(observations, pinned=pinned, known=self._known())
        previous = {(row[0], row[1]): row[2] for row in self._db.execute("SELECT recording_id, label, voice_id FROM members")}
        decided = {row[0] for row in self._db.execute("SELECT DISTINCT voice_id FROM pins")}
        clusters: dict[int, list[Key]] = {}
        for key, voice in assigned.items():
            if isinstance(voice, int):
                clusters.setdefault(voice, []).append(key)
        # Each cluster keeps the id most of its speakers had, if no user decision holds that id.
        overlaps = sorted(
            (
                (sum(previous.get(k) == old for k in keys), number, old)
                for number, keys in clusters.items()
                for old in {previous[k] for k in keys if k in previous} - decided
            ),
            reverse=True,
        )
        ids: dict[int, str] = {}
        used: set[str] = set()
        for _, number, old in overlaps:
            if number not in ids and old not in used:
                ids[number], used = old, used | {old}
        with self._transaction():
            for number in sorted(clusters):
                if number not in ids:
                    ids[number] = self._new_voice()
            self._db.execute("DELETE FROM members")
            self._db.executemany(
                "INSERT INTO members (recording_id, label, voice_id) VALUES (?, ?, ?)",
                [(r, label, voice if isinstance(voice, str) else ids[voice]) for (r, label), voice in assigned.items()],
            )
            # Voices nobody decided anything about and that lost every speaker are gone.
            self._db.execute(
                "DELETE FROM voices WHERE id NOT IN (SELECT voice_id FROM members) AND id NOT IN "
                "(SELECT voice_id FROM pins) AND name IS NULL AND role IS NULL"
            )

    def _known(self) -> dict[str, np.ndarray]:
        """Voices users decided about -> the mean of the vectors they confirmed."""
        found: dict[str, list[np.ndarray]] = {}
        for voice, blob in self._db.execute("SELECT voice_id, embedding FROM pins"):
            found.setdefault(voice, []).append(_vector(blob))
        return {voice: np.mean(vectors, axis=0) for voice, vectors in found.items()}

    def _new_voice(self) -> str:
        row = self._db.execute("SELECT value FROM counters WHERE name = 'voice'").fetchone()
        number = (row[0] if row else 0) + 1
        self._db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES ('voice', ?)", (number,))
        voice = f"V{number}"
        self._db.execute("INSERT INTO voices (id, number) VALUES (?, ?)", (voice, number))
        return voice

    # --- a user's decisions --------------------------------------------------------------------

    def name(self, voice: str, name: str | None, *, role: str | None = None) -> None:
        """Name a voice (and give it a role); its present speakers become confirmed members."""
        self.voice(voice)  # unknown ids are an error
        with self._transaction():
            self._pin_members(voice, voice)
            self._db.execute("UPDATE voices SET name = ?, role = ? WHERE id = ?", (name or None, role, voice))
        self.recluster()

    def merge(self, keep: str, other: str) -> None:
        """One person heard as two voices: `other`'s speakers and decisions move to `keep`."""
        kept, gone = self.voice(keep), self.voice(other)
        if keep == other:
            raise ConfigError(f"{keep}: give two different voices to merge")
        if kept.name and gone.name and kept.name != gone.name:
            raise ConfigError(
                f"{keep} is {kept.name} and {other} is {gone.name}; rename one of them first "
                f'(`heard speakers name {other} "{kept.name}"`) if they are one person'
            )
        with self._transaction():
            self._pin_members(keep, keep)
            self._pin_members(other, keep)
            self._db.execute("UPDATE pins SET voice_id = ? WHERE voice_id = ?", (keep, other))
            self._db.execute(
                "UPDATE voices SET name = ?, role = ? WHERE id = ?", (kept.name or gone.name, kept.role or gone.role, keep)
            )
            self._db.execute("DELETE FROM voices WHERE id = ?", (other,))
        self.recluster()

    def split(self, voice: str, recording_id: str, label: str | None = None) -> str:
        """One recording's speaker is not this voice: it becomes a voice of its own (returned);
        the voice's other speakers become confirmed members, so they are not joined again."""
        found = self.voice(voice)
        moving = [(r, lab) for r, lab, _ in found.speakers if r == recording_id and (label is None or lab == label)]
        if not moving:
            where = f"{recording_id}:{label}" if label else recording_id
            raise ConfigError(f"{voice} does not speak in {where}; `heard speakers` lists where each voice speaks")
        if len(found.recordings) == 1 and len(moving) == len(found.speakers):
            raise ConfigError(f"{voice} is heard only there; nothing to split it from")
        with self._transaction():
            new = self._new_voice()
            self._pin_members(voice, voice)
            for r, lab in moving:
                self._db.execute("UPDATE pins SET voice_id = ? WHERE recording_id = ? AND label = ?", (new, r, lab))
                self._db.execute("UPDATE members SET voice_id = ? WHERE recording_id = ? AND label = ?", (new, r, lab))
        self.recluster()
        return new

    def _pin_members(self, voice: str, into: str) -> None:
        """Confirm `voice`'s present speakers as members of `into` (each speaker pinned once)."""
        rows = self._db.execute(
            "SELECT m.recording_id, m.label, s.embedding FROM members m JOIN speakers s "
            "ON s.recording_id = m.recording_id AND s.label = m.label WHERE m.voice_id = ?",
            (voice,),
        ).fetchall()
        for recording_id, label, blob in rows:
            self._db.execute("DELETE FROM pins WHERE recording_id = ? AND label = ?", (recording_id, label))
            self._db.execute(
                "INSERT INTO pins (voice_id, recording_id, label, embedding) VALUES (?, ?, ?, ?)",
                (into, recording_id, label, blob),
            )

    # --- reading -------------------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        """Every voice, named ones first, then by how much they speak."""
        found = {row[0]: Voice(row[0], row[1], row[2]) for row in self._db.execute("SELECT id, name, role FROM voices")}
        numbers = dict(self._db.execute("SELECT id, number FROM voices").fetchall())
        for recording_id, label, voice, seconds in self._db.execute(
            "SELECT m.recording_id, m.label, m.voice_id, s.seconds FROM members m JOIN speakers s "
            "ON s.recording_id = m.recording_id AND s.label = m.label ORDER BY m.recording_id, m.label"
        ):
            if voice in found:
                found[voice].speakers.append((recording_id, label, seconds))
        return sorted(found.values(), key=lambda v: (not v.named, -v.seconds, numbers[v.id]))

    def voice(self, voice: str) -> Voice:
        found = next((v for v in self.voices() if v.id.lower() == voice.strip().lower()), None)
        if found is None:
            raise ConfigError(f"no voice {voice}; `heard speakers` lists the voices (V1, V2, ...)")
        return found

    def titles(self) -> dict[str, tuple[str, str]]:
        """recording id -> (title, source) as its transcript gave them when last read."""
        return {row[0]: (row[1], row[2]) for row in self._db.execute("SELECT recording_id, title, source FROM seen")}

    def speakers_of(self, recording_id: str) -> dict[str, Voice]:
        """The recording's labels that belong to a voice -> that voice (with all its speakers)."""
        labels = dict(self._db.execute("SELECT label, voice_id FROM members WHERE recording_id = ?", (recording_id,)).fetchall())
        if not labels:
            return {}
        voices = {v.id: v for v in self.voices() if v.id in labels.values()}
        return {label: voices[voice] for label, voice in labels.items() if voice in voices}

    def identities(self, recording_id: str | None) -> dict[str, Identity]:
        """The recording's speakers that belong to a named voice -> its name and role."""
        if recording_id is None:
            return {}
        rows = self._db.execute(
            "SELECT m.label, v.id, v.name, v.role FROM members m JOIN voices v ON v.id = m.voice_id "
            "WHERE m.recording_id = ? AND (v.name IS NOT NULL OR v.role IS NOT NULL)",
            (recording_id,),
        )
        return {label: Identity(voice, name, role) for label, voice, name, role in rows}

    def all_identities(self) -> dict[str, str]:
        """recording id -> identity_key of every recording a named voice speaks in."""
        found: dict[str, dict[str, Identity]] = {}
        for recording_id, label, voice, name, role in self._db.execute(
            "SELECT m.recording_id, m.label, v.id, v.name, v.role FROM members m JOIN voices v ON v.id = m.voice_id "
            "WHERE v.name IS NOT NULL OR v.role IS NOT NULL"
        ):
            found.setdefault(recording_id, {})[label] = Identity(voice, name, role)
        return {rid: identity_key(ids) for rid, ids in found.items()}

    # --- what the index carries ------------------------------------------------------------------

    def stale(self, recording_id: str | None) -> bool:
        """Whether the recording's names and roles changed since its chunks were last written."""
        if recording_id is None:
            return False
        row = self._db.execute("SELECT identities FROM indexed WHERE recording_id = ?", (recording_id,)).fetchone()
        return (row[0] if row else identity_key({})) != identity_key(self.identities(recording_id))

    def mark_indexed(self, recording_id: str, identities: dict[str, Identity]) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO indexed (recording_id, identities) VALUES (?, ?)",
                (recording_id, identity_key(identities)),
            )

    def stale_recordings(self) -> set[str]:
        """Recordings whose index entries carry other names or roles than their voices now have."""
        now = self.all_identities()
        written = dict(self._db.execute("SELECT recording_id, identities FROM indexed").fetchall())
        empty = identity_key({})
        return {rid for rid in set(now) | set(written) if now.get(rid, empty) != written.get(rid, empty)}


def _error(path: Path, exc: sqlite3.DatabaseError) -> HeardError:
    return database_error(
        path, exc, "voices file", "move it away; `heard speakers` rebuilds it (names, merges and splits are lost)"
    )


class _Transaction:
    """All or nothing; a fault of the file becomes one line naming it (a full disk stops the run)."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self._path = path
        self._outer = False

    def __enter__(self):
        self._outer = not self._db.in_transaction
        if self._outer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _error(self._path, exc) from exc
        return self

    def __exit__(self, kind, exc, tb):
        if not self._outer:
            return False
        try:
            if kind is None:
                self._db.execute("COMMIT")
                return False
            self._db.rollback()
        except sqlite3.DatabaseError as fault:
            raise _error(self._path, fault) from fault
        if isinstance(exc, sqlite3.DatabaseError):
            raise _error(self._path, exc) from exc
        return False
