"""Re-indexing recordings from their transcripts: the one way ingest, `heard reindex` and `heard
speakers` write a recording's chunks, with the names and roles its voices have now.

What each caller does on a fault stays the caller's: ingest fails the recording alone (or stops the
run, failure_reason), reindex counts it as failed and goes on, `heard speakers` lists it as not
re-indexed. A changed embedding model is refused by the indexer before it writes (ConfigError).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import transcripts
from pipeline.indexing.identities import Identity, VoiceBook
from pipeline.indexing.indexer import ToIndex
from pipeline.sources.metadata import MetadataReader

if TYPE_CHECKING:
    from pipeline.indexing.indexer import Indexer


@dataclass(frozen=True)
class Written:
    """One recording written into the index."""

    recording_id: str
    chunks: int
    identities: dict[str, Identity]  # the names and roles its chunks carry


def load_saved(path: Path, reader: MetadataReader, *, source: Path | None = None) -> ToIndex:
    """The saved transcript at `path` with its recording's metadata, read beside `source` (the
    recording's path now, when known) or else beside the path the transcript recorded. Raises
    TranscriptDamagedError for a transcript that cannot be read, RecordingError for broken metadata."""
    transcript = transcripts.load(path)
    return ToIndex(transcript, reader.for_recording(source or Path(transcript.source)))


def index_recordings(indexer: Indexer, voices: VoiceBook, items: Sequence[ToIndex], *, mark: bool = True) -> Iterator[Written]:
    """Write each recording's chunks in place of its earlier ones (and of those it `replaces`),
    labelled with the names and roles its voices have in `voices` now (whatever `identities` the
    items hold), all embedded in one pass. Each is yielded right after its chunks are written; with
    `mark` the voice book notes at once that they carry those names, so later runs know they are
    up to date (reindex writes into a new index and notes them only once it is swapped in)."""
    named = [voices.identities(item.transcript.recording_id) for item in items]
    counts = indexer.index_transcripts([replace(item, identities=given) for item, given in zip(items, named)])
    for item, given, count in zip(items, named, counts):
        recording_id = item.transcript.recording_id
        if mark:
            voices.mark_indexed(recording_id, given)
        yield Written(recording_id, count, given)
