"""A quote as a span of its transcript: the words between a quote id's start and end, who said them,
and the recording as it is now (its transcript, metadata and speaker names, read once per recording
for one command)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import transcripts
from pipeline.errors import HeardError, UsageError
from pipeline.finding.hits import QuoteSpan
from pipeline.indexing.roles import Person, people
from pipeline.sources.metadata import chapter_at, chunk_fields, for_recording
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.config import Settings

Word = tuple[float, float, str]  # start, end, text (with its leading space, as Whisper gives it)


@dataclass
class SpanText:
    """What a transcript says between a quote's start and end."""

    text: str
    words: list[Word]
    speaker_label: str | None  # the label (S2) of whoever says most of the words


def cut(transcript: Transcript, span: QuoteSpan) -> SpanText | None:
    """The words of `transcript` inside `span`, by the rounding quote ids use (centiseconds), so the
    span of a hit's quote id gives back exactly that quote's words; None when no word lies inside.
    A segment without word times (an imported transcript) stands for its words, as in chunking."""
    first, last = round(span.start * 100), round(span.end * 100)
    words: list[Word] = []
    spoken: dict[str | None, int] = {}
    for segment in transcript.segments:
        if segment.end < span.start - 1 or segment.start > span.end + 1:
            continue
        pieces = [(w.start, w.end, w.text) for w in segment.words] or [(segment.start, segment.end, " " + segment.text)]
        for start, end, text in pieces:
            if text.strip() and round(start * 100) >= first and round(end * 100) <= last:
                words.append((start, end, text))
                spoken[segment.speaker] = spoken.get(segment.speaker, 0) + 1
    if not words:
        return None
    speaker = max(spoken, key=lambda label: spoken[label])  # the first of equals: dicts keep their order
    return SpanText("".join(w[2] for w in words).strip(), words, speaker)


def no_words(span: QuoteSpan, title: str) -> UsageError:
    return UsageError(
        f"{span.recording_id}: no words of “{title}” lie between {span.start:.2f} s and {span.end:.2f} s; "
        "copy the quote id from a fresh search"
    )


class Recordings:
    """The data dir's recordings as they are now, each read at most once: a command that shows or
    reports many quotes of one recording reads its transcript, metadata and names once."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._transcripts: dict[str, Transcript | None] = {}
        self._people: dict[str, dict[str, Person]] = {}
        self._metadata: dict[str, dict[str, Any]] = {}

    def transcript(self, recording_id: str) -> Transcript | None:
        """The recording's transcript; None when it was deleted, or can no longer be read."""
        if recording_id not in self._transcripts:
            try:
                found = transcripts.load_if_exists(self.settings.transcripts_dir, recording_id)
            except HeardError:
                found = None  # damaged: ingest names it; a saved quote keeps its own words
            self._transcripts[recording_id] = found
        return self._transcripts[recording_id]

    def metadata(self, transcript: Transcript) -> dict[str, Any]:
        if transcript.recording_id not in self._metadata:
            self._metadata[transcript.recording_id] = metadata_of(transcript)
        return self._metadata[transcript.recording_id]

    def people(self, transcript: Transcript) -> dict[str, Person]:
        if transcript.recording_id not in self._people:
            self._people[transcript.recording_id] = people_now(self.settings.data_dir, transcript, self.metadata(transcript))
        return self._people[transcript.recording_id]

    def title(self, transcript: Transcript) -> str:
        return str(self.metadata(transcript).get("title") or transcript.title)

    def fields(self, transcript: Transcript, start: float) -> dict[str, Any]:
        """The metadata a hit carries (company, date, show, tags...), with the chapter at `start`."""
        meta = self.metadata(transcript)
        found = chunk_fields(meta)
        chapter = chapter_at(meta.get("chapters") or [], start)
        return {**found, "chapter": chapter} if chapter else found


def metadata_of(transcript: Transcript) -> dict[str, Any]:
    """The recording's metadata (sidecar, folder file, manifest); {} when it cannot be read (ingest
    reports broken metadata; pages and saved quotes show the transcript's own labels then)."""
    try:
        return for_recording(Path(transcript.source))
    except HeardError:
        return {}


def people_now(data_dir: Path, transcript: Transcript, meta: dict[str, Any] | None = None) -> dict[str, Person]:
    """Each speaker label -> the name and role hits show, with the voices' names as they are now (the
    index catches up when it is re-indexed): the rule indexing applies, read at this moment."""
    from pipeline.indexing.identities import VoiceBook

    book = VoiceBook.open_existing(data_dir)
    try:
        identities = book.identities(transcript.recording_id) if book else {}
    finally:
        if book:
            book.close()
    return people(transcript, metadata_of(transcript) if meta is None else meta, identities)
