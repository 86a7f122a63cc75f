"""Indexing a transcript: speaker-aware chunks (chunking.py), the speakers' roles and names and the
recording's metadata on each chunk (roles.py), vectors (embed.py, onnx_encoder.py), and the Chroma
collection with its BM25 keyword index beside it (store.py, keyword_index.py).

In: a Transcript and its metadata. Out: chunks in the index, written only by indexer.Indexer, the
one indexing step that ingest, reindex and the tests share.
"""
