"""Runs over a data dir: `heard ingest` (ingest.py with its steps changes.py, transcription.py,
removal.py and run_state.py; executors.py for workers and Ray), `heard reindex` (reindex.py),
`heard speakers` (identities.py: a decision about voices, then re-indexing what it changed) and
`heard status` (status.py); the one way all three write a recording's chunks from its transcript
(from_transcript.py); the catalog of files (catalog.py), the one-writer lock (lock.py), progress
lines (progress.py) and the summary every run ends with (summary.py).
"""
