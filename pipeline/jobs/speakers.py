"""`heard speakers` and the web page's rename form: list the voices heard across recordings, name,
merge and split them, and re-index the recordings whose names or roles changed.

A decision is saved first (voices.sqlite3), then the recordings it changes are re-indexed at once
from their transcripts (no audio work: chunk, label, embed, replace), under the data dir's lock.
When an ingest or reindex holds the lock, the decision stays saved and the change says so: that
run (for recordings it has not reached yet) or the next ingest of their folders re-indexes them
(ingest compares each recording's names with those its chunks carry), as does `heard reindex`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import transcripts
from pipeline.config import Settings
from pipeline.errors import ConfigError, HeardError, LockHeldError
from pipeline.indexing.voices import Voice, VoiceBook, voices_path
from pipeline.jobs.catalog import INDEXED, MISSING, Catalog
from pipeline.jobs.lock import data_dir_lock

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import Store

EXAMPLES = 3  # recordings shown per voice


@dataclass
class Heard:
    """One recording a voice speaks in, as listings show it."""

    recording_id: str
    label: str
    seconds: float
    title: str
    source: str


@dataclass
class VoiceListing:
    id: str
    name: str | None
    role: str | None
    recordings: int
    seconds: float
    heard: list[Heard]  # every recording, longest speech first

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "recordings": self.recordings,
            "minutes": round(self.seconds / 60, 2),
            "heard": [h.__dict__ for h in self.heard],
        }


@dataclass
class VoiceChange:
    voice: VoiceListing  # after the change (for a split: the new voice)
    changed: list[str] = field(default_factory=list)  # recordings whose names or roles changed
    reindexed: int = 0
    waiting: str | None = None  # why they were not re-indexed now; the next ingest or reindex does it
    failures: list[str] = field(default_factory=list)


# An index to write into: (store, embedder), opened for the call. The web app passes its own.
IndexOpener = Callable[[], contextlib.AbstractContextManager[tuple["Store", "Embedder"]]]


def voice_book(settings: Settings) -> VoiceBook:
    """The data dir's voices, brought up to date with transcripts/ and re-clustered."""
    book = VoiceBook(voices_path(settings.data_dir))
    book.refresh(settings.transcripts_dir, _live(settings))
    return book


def list_voices(settings: Settings) -> list[VoiceListing]:
    """Every voice heard across the corpus: named ones first, then by how much they speak."""
    book = voice_book(settings)
    try:
        return [_listing(book, v) for v in book.voices() if v.speakers or v.named]
    finally:
        book.close()


def name_voice(
    settings: Settings, voice: str, name: str | None, *, role: str | None = None, open_index: IndexOpener | None = None
) -> VoiceChange:
    """Give a voice a name (and a role) in every recording where it speaks, past and future."""
    _check_role(role)

    def decide(book: VoiceBook) -> str:
        book.name(voice, name, role=role)
        return voice

    return _decide(settings, decide, open_index)


def name_speaker(
    settings: Settings,
    recording_id: str,
    label: str,
    name: str | None,
    *,
    role: str | None = None,
    open_index: IndexOpener | None = None,
) -> VoiceChange:
    """Name the voice of one recording's speaker (the web page's form): that voice everywhere."""
    _check_role(role)

    def decide(book: VoiceBook) -> str:
        voice = book.speakers_of(recording_id).get(label)
        if voice is None:
            raise ConfigError(
                f"{label} in {recording_id} has too little speech to be recognised in other recordings; "
                "name it in the recording's metadata (speakers:) instead"
            )
        book.name(voice.id, name, role=role)
        return voice.id

    return _decide(settings, decide, open_index)


def merge_voices(settings: Settings, keep: str, other: str, *, open_index: IndexOpener | None = None) -> VoiceChange:
    """`other` is the same person as `keep`: one voice from now on, with keep's id."""

    def decide(book: VoiceBook) -> str:
        book.merge(keep, other)
        return keep

    return _decide(settings, decide, open_index)


def split_voice(settings: Settings, voice: str, where: str, *, open_index: IndexOpener | None = None) -> VoiceChange:
    """`where` (RECORDING or RECORDING:LABEL; a recording id, its path or file name) is not `voice`:
    that speaker becomes a voice of its own, and stays apart in later clusterings."""

    def decide(book: VoiceBook) -> str:
        recording_id, label = resolve_speaker(book, where)
        return book.split(voice, recording_id, label)

    return _decide(settings, decide, open_index)


def resolve_speaker(book: VoiceBook, where: str) -> tuple[str, str | None]:
    """(recording id, label or None) from RECORDING[:LABEL]; RECORDING is an id (or its first 8+
    characters), the recording's path, or its file name."""
    known = book.titles()
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


def _check_role(role: str | None) -> None:
    from pipeline.indexing.role_names import ROLES

    if role is not None and role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(ROLES)}")


def _decide(settings: Settings, decision: Callable[[VoiceBook], str], open_index: IndexOpener | None) -> VoiceChange:
    book = voice_book(settings)
    try:
        voice_id = decision(book)
        change = VoiceChange(_listing(book, book.voice(voice_id)))
        indexed = _indexed(settings) or {}
        change.changed = sorted(rid for rid in book.stale_recordings() if rid in indexed)
        if change.changed:
            relabel(settings, book, change, open_index=open_index)
        return change
    finally:
        book.close()


def relabel(settings: Settings, book: VoiceBook, change: VoiceChange, *, open_index: IndexOpener | None = None) -> None:
    """Re-index the changed recordings from their transcripts, with their voices' names and roles."""
    from pipeline.indexing.indexer import Indexer
    from pipeline.sources.metadata import MetadataReader

    paths = _indexed(settings) or {}
    reader = MetadataReader()
    try:
        with data_dir_lock(settings.data_dir, "speakers"), (open_index or _open_index(settings))() as (store, embedder):
            indexer = Indexer(store, embedder, settings.chunking)
            for recording_id in change.changed:
                try:
                    transcript = transcripts.load_if_exists(settings.transcripts_dir, recording_id)
                    if transcript is None:
                        continue
                    meta = reader.for_recording(Path(paths.get(recording_id) or transcript.source))
                except HeardError as exc:
                    change.failures.append(str(exc))
                    continue
                identities = book.identities(recording_id)
                indexer.index_transcript(transcript, meta=meta, identities=identities)
                book.mark_indexed(recording_id, identities)
                change.reindexed += 1
    except LockHeldError as exc:
        change.waiting = str(exc)


def _open_index(settings: Settings) -> IndexOpener:
    @contextlib.contextmanager
    def opened() -> Iterator[tuple[Store, Embedder]]:
        from pipeline.indexing.embed import Embedder
        from pipeline.indexing.store import open_store_for_writing

        store = open_store_for_writing(settings)
        try:
            yield store, Embedder(settings.embedding)
        finally:
            store.close()

    return opened


def _live(settings: Settings) -> set[str] | None:
    """Recordings the index holds (None when there is no catalog: every transcript counts)."""
    catalog = Catalog.open_existing(settings.data_dir)
    if catalog is None:
        return None
    try:
        return catalog.live_recording_ids() if any(catalog.counts().values()) else None
    finally:
        catalog.close()


def _indexed(settings: Settings) -> dict[str, str] | None:
    """recording id -> a path of it, for recordings whose chunks are in the index (None: no catalog)."""
    catalog = Catalog.open_existing(settings.data_dir)
    if catalog is None:
        return None
    try:
        return {e.recording_id: path for path, e in catalog.all().items() if e.recording_id and e.status in (INDEXED, MISSING)}
    finally:
        catalog.close()


def _listing(book: VoiceBook, voice: Voice) -> VoiceListing:
    from pipeline.sources.metadata import MetadataReader

    titles = book.titles()
    reader = MetadataReader()
    heard: list[Heard] = []
    for recording_id, label, seconds in sorted(voice.speakers, key=lambda s: -s[2]):
        title, source = titles.get(recording_id, ("", ""))
        if len(heard) < EXAMPLES:
            try:
                title = reader.for_recording(Path(source)).get("title") or title
            except HeardError:
                pass  # broken metadata is reported by ingest; the transcript's title will do
        heard.append(Heard(recording_id, label, round(seconds, 1), title, source))
    return VoiceListing(voice.id, voice.name, voice.role, len(voice.recordings), voice.seconds, heard)
