"""What the transcripts say, and which voice each speaker is.

`observe` copies one recording's speakers from its transcript and matches new or changed ones to
the voices users confirmed, at once (ingest). `refresh` brings the book up to date with
transcripts/ (only files that changed are read; recordings that left the index are forgotten) and
`recluster` assigns every speaker's voice from scratch, starting from the users' decisions
(clustering.py). Voice ids are never reused; a re-clustering keeps each id on the cluster that holds
most of its earlier speakers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline import transcripts
from pipeline.errors import ConfigError
from pipeline.indexing.identities.clustering import Key, Observation, cluster_observations, keep_ids, match_known, usable
from pipeline.indexing.identities.database import VoiceDatabase, to_blob, to_vector
from pipeline.transcripts import Transcript

# A speaker whose vector moved less than this (per component) is the same speaker as before.
_SAME_VECTOR = 1e-4


def observe(book: VoiceDatabase, transcript: Transcript, *, stamp: str = "") -> bool:
    """Take the recording's speakers from its transcript; new or changed speakers are matched to the
    known voices at once (the same rule a re-clustering applies). True if anything changed."""
    rid = transcript.recording_id
    found = _speakers_in(transcript)
    before = {
        label: (seconds, to_vector(blob))
        for label, seconds, blob in book.db.execute(
            "SELECT label, seconds, embedding FROM speakers WHERE recording_id = ?", (rid,)
        )
    }
    same = before.keys() == found.keys() and all(
        np.allclose(before[label][1], found[label].embedding, atol=_SAME_VECTOR) for label in found
    )
    with book.transaction():
        book.db.execute(
            "INSERT OR REPLACE INTO seen (recording_id, stamp, title, source) VALUES (?, ?, ?, ?)",
            (rid, stamp, transcript.title, transcript.source),
        )
        if same:
            return False
        book.db.execute("DELETE FROM speakers WHERE recording_id = ?", (rid,))
        book.db.executemany(
            "INSERT INTO speakers (recording_id, label, seconds, embedding) VALUES (?, ?, ?, ?)",
            [(rid, o.label, o.seconds, to_blob(o.embedding)) for o in found.values()],
        )
        # Pins on speakers that are no longer the same voice (re-diarized) stay evidence of their
        # voice, but no longer bind that label.
        _unbind_pins(book, rid)
        book.db.execute("DELETE FROM members WHERE recording_id = ?", (rid,))
        matched = match_known([o for o in found.values() if usable(o)], book.confirmed())
        book.db.executemany(
            "INSERT INTO members (recording_id, label, voice_id) VALUES (?, ?, ?)",
            [(rid, label, voice) for label, voice in matched.items()],
        )
    return True


def _speakers_in(transcript: Transcript) -> dict[str, Observation]:
    """The transcript's speakers that have a voice vector, by label."""
    voices = (transcript.diarization or {}).get("voices") or {}
    found = {
        label: Observation(transcript.recording_id, label, float(v.get("seconds") or 0.0), tuple(v.get("embedding") or ()))
        for label, v in voices.items()
    }
    return {label: o for label, o in found.items() if o.embedding}


def _unbind_pins(book: VoiceDatabase, recording_id: str) -> None:
    book.db.execute("UPDATE pins SET recording_id = NULL, label = NULL WHERE recording_id = ?", (recording_id,))


def refresh(book: VoiceDatabase, transcripts_dir: Path, live: set[str] | None) -> None:
    """Bring the speakers up to date with transcripts/ (only files that changed are read) and
    re-cluster. `live`: the recordings in the index (None: every transcript)."""
    stamps = {row[0]: row[1] for row in book.db.execute("SELECT recording_id, stamp FROM seen")}
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
        observe(book, transcript, stamp=stamp)
    gone = set(stamps) - present
    with book.transaction():
        for rid in gone:
            for table in ("speakers", "seen", "members"):
                book.db.execute(f"DELETE FROM {table} WHERE recording_id = ?", (rid,))
            _unbind_pins(book, rid)
    recluster(book)


def recluster(book: VoiceDatabase) -> None:
    """Every speaker's voice from scratch, starting from the users' decisions (clustering.py)."""
    observations = [
        Observation(rid, label, seconds, tuple(to_vector(blob).tolist()))
        for rid, label, seconds, blob in book.db.execute("SELECT recording_id, label, seconds, embedding FROM speakers")
    ]
    pinned: dict[Key, str] = {
        (rid, label): voice
        for rid, label, voice in book.db.execute("SELECT recording_id, label, voice_id FROM pins WHERE recording_id IS NOT NULL")
    }
    assigned = cluster_observations(observations, pinned=pinned, known=book.confirmed())
    previous: dict[Key, str] = {
        (rid, label): voice for rid, label, voice in book.db.execute("SELECT recording_id, label, voice_id FROM members")
    }
    decided = {row[0] for row in book.db.execute("SELECT DISTINCT voice_id FROM pins")}
    clusters: dict[int, list[Key]] = {}
    for key, voice in assigned.items():
        if isinstance(voice, int):
            clusters.setdefault(voice, []).append(key)
    ids = keep_ids(clusters, previous, decided)
    with book.transaction():
        for number in sorted(clusters):
            if number not in ids:
                ids[number] = book.new_voice()
        book.db.execute("DELETE FROM members")
        book.db.executemany(
            "INSERT INTO members (recording_id, label, voice_id) VALUES (?, ?, ?)",
            [(r, label, voice if isinstance(voice, str) else ids[voice]) for (r, label), voice in assigned.items()],
        )
        # Voices nobody decided anything about and that lost every speaker are gone.
        book.db.execute(
            "DELETE FROM voices WHERE id NOT IN (SELECT voice_id FROM members) AND id NOT IN "
            "(SELECT voice_id FROM pins) AND name IS NULL AND role IS NULL"
        )
