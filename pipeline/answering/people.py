"""The names heard knows, for redaction: the names hits show, the speakers' names in the candidate
recordings' metadata, and every named voice (`heard speakers name`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import HeardError
from pipeline.finding.hits import Hit


def known_names(settings: Settings, hits: list[Hit]) -> list[str]:
    names = [hit.speaker or "" for hit in hits]
    names += _metadata_names({hit.recording for hit in hits})
    names += _voice_names(settings)
    return names


def _metadata_names(recordings: set[str]) -> list[str]:
    from pipeline.sources.metadata import MetadataReader

    reader = MetadataReader()  # a folder's heard.yaml or manifest.csv is read once
    found: list[str] = []
    for recording in sorted(recordings):
        try:
            meta = reader.for_recording(Path(recording))
        except (HeardError, OSError):
            continue  # a sidecar that cannot be read names nobody; ingest reports it
        found += [str(entry.get("name") or "") for entry in meta.get("speakers") or [] if isinstance(entry, dict)]
    return found


def _voice_names(settings: Settings) -> list[str]:
    from pipeline.indexing.identities import VoiceBook

    try:
        book = VoiceBook.open_existing(settings.data_dir)
    except HeardError:
        return []
    if book is None:
        return []
    try:
        return [voice.name for voice in book.voices() if voice.name]
    except HeardError:
        return []
    finally:
        book.close()
