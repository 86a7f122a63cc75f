"""Reading the identities book: the voices and where they speak, a recording's speakers' voices and
the names and roles they give it (what roles.people applies to chunks), and a speaker named on the
command line (RECORDING[:LABEL])."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.indexing.identities.database import VoiceDatabase
from pipeline.indexing.identities.model import Identity, Voice, identity_key

_NAMED = "(v.name IS NOT NULL OR v.role IS NOT NULL)"


def voices(book: VoiceDatabase) -> list[Voice]:
    """Every voice, named ones first, then by how much they speak."""
    found = {vid: Voice(vid, name, role) for vid, name, role in book.db.execute("SELECT id, name, role FROM voices")}
    numbers: dict[str, int] = dict(book.db.execute("SELECT id, number FROM voices").fetchall())
    for recording_id, label, voice, seconds in book.db.execute(
        "SELECT m.recording_id, m.label, m.voice_id, s.seconds FROM members m JOIN speakers s "
        "ON s.recording_id = m.recording_id AND s.label = m.label ORDER BY m.recording_id, m.label"
    ):
        if voice in found:
            found[voice].speakers.append((recording_id, label, seconds))
    return sorted(found.values(), key=lambda v: (not v.named, -v.seconds, numbers[v.id]))


def voice(book: VoiceDatabase, voice_id: str) -> Voice:
    """One voice by its id (V3, v3); ConfigError naming the way to list them if there is none."""
    found = next((v for v in voices(book) if v.id.lower() == voice_id.strip().lower()), None)
    if found is None:
        raise ConfigError(f"no voice {voice_id}; `heard speakers` lists the voices (V1, V2, ...)")
    return found


def titles(book: VoiceDatabase) -> dict[str, tuple[str, str]]:
    """recording id -> (title, source) as its transcript gave them when last read."""
    return {rid: (title, source) for rid, title, source in book.db.execute("SELECT recording_id, title, source FROM seen")}


def speakers_of(book: VoiceDatabase, recording_id: str) -> dict[str, Voice]:
    """The recording's labels that belong to a voice -> that voice (with all its speakers)."""
    labels: dict[str, str] = dict(
        book.db.execute("SELECT label, voice_id FROM members WHERE recording_id = ?", (recording_id,)).fetchall()
    )
    if not labels:
        return {}
    found = {v.id: v for v in voices(book) if v.id in labels.values()}
    return {label: found[voice_id] for label, voice_id in labels.items() if voice_id in found}


def voice_of(book: VoiceDatabase, recording_id: str, label: str) -> Voice:
    """The voice of one recording's speaker; ConfigError when it has none (too little speech)."""
    found = speakers_of(book, recording_id).get(label)
    if found is None:
        raise ConfigError(
            f"{label} in {recording_id} has too little speech to be recognised in other recordings; "
            "name it in the recording's metadata (speakers:) instead"
        )
    return found


def identities(book: VoiceDatabase, recording_id: str | None) -> dict[str, Identity]:
    """The recording's speakers that belong to a named voice -> its name and role."""
    if recording_id is None:
        return {}
    rows = book.db.execute(
        f"SELECT m.label, v.id, v.name, v.role FROM members m JOIN voices v ON v.id = m.voice_id "
        f"WHERE m.recording_id = ? AND {_NAMED}",
        (recording_id,),
    )
    return {label: Identity(voice_id, name, role) for label, voice_id, name, role in rows}


def all_identities(book: VoiceDatabase) -> dict[str, str]:
    """recording id -> identity_key of every recording a named voice speaks in."""
    found: dict[str, dict[str, Identity]] = {}
    for recording_id, label, voice_id, name, role in book.db.execute(
        f"SELECT m.recording_id, m.label, v.id, v.name, v.role FROM members m JOIN voices v ON v.id = m.voice_id WHERE {_NAMED}"
    ):
        found.setdefault(recording_id, {})[label] = Identity(voice_id, name, role)
    return {rid: identity_key(ids) for rid, ids in found.items()}


def resolve_speaker(book: VoiceDatabase, where: str) -> tuple[str, str | None]:
    """(recording id, label or None) from RECORDING[:LABEL]; RECORDING is an id (or its first 8+
    characters), the recording's path, or its file name."""
    known = titles(book)
    text, label = where, None
    head, sep, tail = where.rpartition(":")
    if sep and head and "/" not in tail:
        text, label = head, tail
    if text in known:
        return text, label
    matches = [rid for rid in known if len(text) >= 8 and rid.startswith(text)]
    if not matches:
        target = Path(text).expanduser()
        resolved = str(target.resolve()) if target.exists() else None
        matches = [rid for rid, (_, source) in known.items() if source in (text, resolved)]
        if not matches:
            matches = [rid for rid, (_, source) in known.items() if Path(source).name == target.name]
    if len(matches) == 1:
        return matches[0], label
    if not matches:
        raise ConfigError(f"{text}: no such recording among those heard; give its id, path or file name")
    raise ConfigError(f"{text}: {len(matches)} recordings match; give the recording id instead")
