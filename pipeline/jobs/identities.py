"""`heard speakers` and the web page's rename form: list the voices heard across recordings, name,
merge and split them, and re-index the recordings whose names or roles changed.

The voices and the decisions live in pipeline/indexing/identities/; this is the job around them. A
decision is saved first (voices.sqlite3), then the recordings it changes are re-indexed at once from
their transcripts (from_transcript.py; no audio work: chunk, label, embed, replace), under the data
dir's lock.
When an ingest or reindex holds the lock, the decision stays saved and the change says so: that
run (for recordings it has not reached yet) or the next ingest of their folders re-indexes them
(ingest compares each recording's names with those its chunks carry), as does `heard reindex`.
When the re-index fails (an index built with another embedding recipe, a full disk), the decision is
taken back: a command that fails saves nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import transcripts
from pipeline.config import Settings
from pipeline.errors import HeardError, LockHeldError
from pipeline.indexing.identities import VoiceBook, VoiceListing, voices_path
from pipeline.indexing.identities.decisions import check_role
from pipeline.jobs.catalog import INDEXED, MISSING, Catalog
from pipeline.jobs.from_transcript import Written, index_recordings, load_saved
from pipeline.jobs.lock import data_dir_lock
from pipeline.sources.metadata import MetadataReader

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.store import Store


@dataclass
class VoiceChange:
    voice: VoiceListing  # after the change (for a split: the new voice)
    changed: list[str] = field(default_factory=list)  # recordings whose names or roles changed
    reindexed: int = 0
    waiting: str | None = None  # why they were not re-indexed now; the next ingest or reindex does it
    failures: list[str] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)  # what was re-indexed, with the names it carries


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
        return [book.listing(v) for v in book.voices() if v.speakers or v.named]
    finally:
        book.close()


def name_voice(
    settings: Settings, voice: str, name: str | None, *, role: str | None = None, open_index: IndexOpener | None = None
) -> VoiceChange:
    """Give a voice a name (and a role) in every recording where it speaks, past and future. A name
    follows the one rule for names (messages.name_problem); None leaves the voice unnamed."""
    check_role(role)

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
    check_role(role)

    def decide(book: VoiceBook) -> str:
        voice = book.voice_of(recording_id, label)
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
        recording_id, label = book.resolve_speaker(where)
        return book.split(voice, recording_id, label)

    return _decide(settings, decide, open_index)


def _decide(settings: Settings, decision: Callable[[VoiceBook], str], open_index: IndexOpener | None) -> VoiceChange:
    """Make the decision and re-index what it changed; all or nothing (see the module's note)."""
    book = voice_book(settings)
    try:
        before = book.remember()
        voice_id = decision(book)
        change = VoiceChange(book.listing(book.voice(voice_id)))
        indexed = _indexed(settings) or {}
        change.changed = sorted(rid for rid in book.stale_recordings() if rid in indexed)
        if change.changed:
            try:
                relabel(settings, book, change, open_index=open_index)
            except HeardError:
                book.undo(before)
                # Recordings re-indexed before the fault carry the new names: noted, so the next
                # ingest or reindex writes them again with the names as they are now.
                for done in change.written:
                    book.mark_indexed(done.recording_id, done.identities)
                raise
        return change
    finally:
        book.close()


def relabel(settings: Settings, book: VoiceBook, change: VoiceChange, *, open_index: IndexOpener | None = None) -> None:
    """Re-index the changed recordings from their transcripts, with their voices' names and roles.
    A recording without a transcript is left alone; one whose transcript or metadata cannot be read
    is listed in `change.failures`; a fault of the index (a changed embedding model) stops here."""
    from pipeline.indexing.indexer import Indexer

    paths = _indexed(settings) or {}
    reader = MetadataReader()
    try:
        with data_dir_lock(settings.data_dir, "speakers"), (open_index or _open_index(settings))() as (store, embedder):
            indexer = Indexer(store, embedder, settings.chunking)
            indexer.check_model()  # an index of another embedding recipe refuses before anything is written
            for recording_id in change.changed:
                path = transcripts.json_path(settings.transcripts_dir, recording_id)
                if not path.is_file():
                    continue
                known = paths.get(recording_id)
                try:
                    saved = load_saved(path, reader, source=Path(known) if known else None)
                except HeardError as exc:
                    change.failures.append(str(exc))
                    continue
                for done in index_recordings(indexer, book, [saved]):
                    change.written.append(done)
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
