"""The index: chunk vectors in a Chroma collection (a local folder or a server) and the BM25
keyword index beside it; rebuildable from transcripts/ at any time.

By job: `client` (Chroma's client, its faults as one-line errors, its files on disk), `schema`
(how chunks, the recipe and `where` clauses are stored), `generations` (the keyword index kept in
step with the collection), `collection` (the Store: reads and writes). Callers import from here.
"""

from pipeline.indexing.store.client import forget_cached_client, index_bytes, index_exists, index_version
from pipeline.indexing.store.collection import Store, StoredChunk, open_store, open_store_for_writing
from pipeline.indexing.store.schema import (
    FOLDED_KEYS,
    RECORDING_KEYS,
    Where,
    chunk_metadata,
    date_key,
    live,
    where_clause,
)

__all__ = [
    "FOLDED_KEYS",
    "RECORDING_KEYS",
    "Store",
    "StoredChunk",
    "Where",
    "chunk_metadata",
    "date_key",
    "forget_cached_client",
    "index_bytes",
    "index_exists",
    "index_version",
    "live",
    "open_store",
    "open_store_for_writing",
    "where_clause",
]
