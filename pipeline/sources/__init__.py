"""Recordings in: files under the given paths (audio, or transcripts people already have), each
identified by a hash of its content, with the metadata beside it.

In: paths. Out: `discovery.Recording` (path, content hash = id, a transcript file to import), the
recording's metadata dict (metadata.py), or a Transcript read from a .vtt/.srt/.txt/.json (importers.py).
"""
