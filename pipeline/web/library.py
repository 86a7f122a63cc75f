"""What the web app reads: search over one long-lived Embedder and Store, transcripts, media files.

Request values never become file paths here: a recording id must look like one and name a
transcript that exists; the media file is a path the catalog holds for that recording, served only
while it is the file that was indexed (web/media.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from pipeline import transcripts
from pipeline.config import Settings
from pipeline.errors import HeardError, IndexMissingError
from pipeline.evidence.spans import metadata_of, people_now
from pipeline.finding.hits import Answers, Hit
from pipeline.finding.options import SearchRequest, ThemesRequest
from pipeline.indexing.roles import Person, people, speaker_order
from pipeline.jobs.catalog import Entry
from pipeline.transcripts import Transcript
from pipeline.web.media import CHANGED, MediaLookup, OpenMedia, descriptor_path, find_media, indexed_copies

if TYPE_CHECKING:
    from pipeline.evidence.report import Report
    from pipeline.finding.searcher import Searcher
    from pipeline.finding.themes import Theme
    from pipeline.indexing.embed import Embedder
    from pipeline.indexing.identities import VoiceBook
    from pipeline.indexing.store import Store

RECORDING_ID = re.compile(r"^[0-9a-f]{8,64}$")
TRANSCRIPTS_KEPT = 256


@dataclass
class RecordingInfo:
    id: str
    title: str
    source: str
    duration: float
    available: bool  # a copy of the recording's file is still as it was indexed (web/media.py)
    changed: bool = False  # not available, though a file is at its path: changed since indexed


@dataclass
class SpeakerRow:
    label: str  # the transcript's own (S1)
    name: str  # as hits show it
    role: str | None
    given_name: str | None  # what its voice was named (heard speakers / this page)
    given_role: str | None
    voice: str | None  # V3, when the voice is known across recordings
    recordings: int  # how many recordings that voice speaks in
    nameable: bool  # enough speech to recognise the voice elsewhere


class Library:
    """Search over one long-lived Embedder and Store, and the transcripts and media files of the data dir."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._searcher_now: Searcher | None = None
        self._store_version: tuple[int, int] | None = None
        self._lock = threading.Lock()
        # The transcripts pages were served from, bounded: a long-lived server over thousands of
        # recordings must not end up holding every transcript.
        self._transcripts: LRUCache[str, tuple[float, Transcript]] = LRUCache(maxsize=TRANSCRIPTS_KEPT)

    # Search ---------------------------------------------------------------------------------
    def _searcher(self) -> Searcher:
        """The Searcher, opened once; until an index exists each call looks again.

        An ingest in another process changes the index on disk but not what an open Chroma client
        has in memory, so the store is opened again whenever the index's database file changed; the
        embedding model stays loaded.
        """
        from pipeline.finding.searcher import Searcher

        version = self._index_version()
        if self._searcher_now is not None and version != self._store_version:
            embedder = self._searcher_now.embedder_if_loaded()
            self._searcher_now.close()
            self._searcher_now = Searcher(self.settings, embedder=embedder)
        if self._searcher_now is None:
            self._searcher_now = Searcher(self.settings)
        self._store_version = version
        return self._searcher_now

    def _index_version(self) -> tuple[int, int] | None:
        from pipeline.indexing.store import index_version

        return index_version(self.settings)

    def has_index(self) -> bool:
        try:
            with self._lock:
                return self._searcher().store.count() > 0
        except IndexMissingError:
            return False

    def run(self, request: SearchRequest) -> tuple[list[Hit], Answers | None]:
        """The best k hits, or every answering hit and its count; one model and one Chroma client
        shared by all requests (encoding is not re-entrant)."""
        with self._lock:
            hits, answers = self._searcher().run(dataclasses.replace(request, translate=False))
            if request.translate:
                self._translate(hits)
            return hits, answers

    def _translate(self, hits: list[Hit]) -> None:
        """Whisper's English for each hit in another language, from its recording's file as /media
        serves it (checked, and read through the descriptor it was checked on): a file changed since
        it was indexed gets no translation, never another file's words as the quote's (issue 25)."""
        from pipeline.finding.translation import needs_translation

        wanted = [hit for hit in hits if needs_translation(hit)]
        opened: dict[str, OpenMedia | None] = {}
        try:
            for hit in wanted:
                if hit.recording_id not in opened:
                    found = self.media(hit.recording_id)
                    opened[hit.recording_id] = found.found if found else None
            paths = {rid: descriptor_path(audio.fd) for rid, audio in opened.items() if audio is not None}
            self._searcher().translate([hit for hit in wanted if hit.recording_id in paths], files=paths)
        finally:
            for audio in opened.values():
                if audio is not None:
                    audio.close()

    def themes(self, request: ThemesRequest) -> list[Theme]:
        with self._lock:
            return self._searcher().themes(request)

    @contextlib.contextmanager
    def searching(self) -> Iterator[Searcher]:
        """The Searcher, held for one piece of index work (heard ask takes it around its searches,
        and lets go while a request to the LLM is out)."""
        with self._lock:
            yield self._searcher()

    def report(self, values: dict[str, Any]) -> Report:
        """The report parsed REPORT values ask for (evidence/writing.py), over the shared Searcher;
        its clips are cut afterwards, outside the lock."""
        from pipeline.evidence.writing import build

        with self._lock:
            return build(self.settings, values, searcher=self._searcher())

    # Transcripts and media ------------------------------------------------------------------
    def transcript(self, recording_id: str) -> Transcript | None:
        if not RECORDING_ID.match(recording_id):
            return None
        known = {p.stem: p for p in self.settings.transcripts_dir.glob("*.json")}
        path = known.get(recording_id)
        if path is None:
            return None
        mtime = path.stat().st_mtime
        cached = self._transcripts.get(recording_id)
        if cached is None or cached[0] != mtime:
            cached = (mtime, transcripts.load(path))
            self._transcripts[recording_id] = cached
        return cached[1]

    def recordings(self) -> list[RecordingInfo]:
        found = []
        copies = indexed_copies(self.settings.data_dir)  # the catalog read once for the whole list
        for path in sorted(self.settings.transcripts_dir.glob("*.json")):
            try:
                transcript = self.transcript(path.stem)
            except HeardError:
                continue  # a damaged transcript is reported by ingest, not by the page
            if transcript is not None:
                found.append(self._info(transcript, copies.get(transcript.recording_id, [])))
        return sorted(found, key=lambda r: r.title.lower())

    def info(self, recording_id: str) -> RecordingInfo | None:
        transcript = self.transcript(recording_id)
        return (
            self._info(transcript, indexed_copies(self.settings.data_dir, recording_id).get(recording_id, []))
            if transcript
            else None
        )

    def media(self, recording_id: str) -> MediaLookup | None:
        """The recording's file, open, if a copy is still as it was indexed (web/media.py); None for
        an id that names no transcript. The caller closes what it found."""
        transcript = self.transcript(recording_id)
        if transcript is None:
            return None
        return find_media(indexed_copies(self.settings.data_dir, recording_id).get(recording_id, []), transcript.source)

    def media_available(self, recording_id: str) -> bool:
        found = self.media(recording_id)
        if found is None or found.found is None:
            return False
        found.found.close()
        return True

    def people(self, transcript: Transcript) -> dict[str, Person]:
        """Each speaker label -> the name and role hits show (the rule indexing applies to chunks),
        with the voices' names as they are now (the index catches up when it is re-indexed)."""
        return people_now(self.settings.data_dir, transcript, self._metadata(transcript))

    def speakers(self, transcript: Transcript) -> list[SpeakerRow]:
        """The recording's speakers as the rename form shows them, in order of first speech."""
        from pipeline.indexing.identities.clustering import MIN_SECONDS

        book = self._voices()
        try:
            identities = book.identities(transcript.recording_id) if book else {}
            voices = book.speakers_of(transcript.recording_id) if book else {}
        finally:
            if book:
                book.close()
        shown = people(transcript, self._metadata(transcript), identities)
        heard = (transcript.diarization or {}).get("voices") or {}
        rows = []
        for label in speaker_order(transcript):
            voice = voices.get(label)
            found = heard.get(label) or {}
            given = identities.get(label)
            rows.append(
                SpeakerRow(
                    label=label,
                    name=shown[label].name if label in shown else label,
                    role=shown[label].role if label in shown else None,
                    given_name=given.name if given else None,
                    given_role=given.role if given else None,
                    voice=voice.id if voice else None,
                    recordings=len(voice.recordings) if voice else 0,
                    nameable=bool(found.get("embedding")) and float(found.get("seconds") or 0) >= MIN_SECONDS,
                )
            )
        return rows

    def _voices(self) -> VoiceBook | None:
        from pipeline.indexing.identities import VoiceBook

        return VoiceBook.open_existing(self.settings.data_dir)

    @contextlib.contextmanager
    def index_for_writing(self) -> Iterator[tuple[Store, Embedder]]:
        """A writable Store and the long-lived Embedder, held against searches while a rename
        re-indexes. Searches keep their own Store read-only (they never write the keyword index):
        it is closed first and opened again, read-only, by the next search."""
        from pipeline.indexing.store import open_store_for_writing

        with self._lock:
            searcher = self._searcher()  # IndexMissingError when there is no index yet
            embedder = searcher.embedder
            searcher.close()  # opened again, read-only, by the next search
            store = open_store_for_writing(self.settings)
            try:
                yield store, embedder
            finally:
                store.close()

    def _metadata(self, transcript: Transcript) -> dict[str, Any]:
        return metadata_of(transcript)  # broken metadata is reported by ingest; the page shows the transcript's labels

    def _info(self, transcript: Transcript, copies: list[Entry]) -> RecordingInfo:
        media = find_media(copies, transcript.source)
        if media.found is not None:
            media.found.close()
        return RecordingInfo(
            id=transcript.recording_id,
            title=self._metadata(transcript).get("title") or transcript.title,
            source=media.path,
            duration=transcript.duration,
            available=media.found is not None,
            changed=media.problem == CHANGED,
        )
