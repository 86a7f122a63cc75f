"""Indexing a transcript: speaker-aware chunks (chunking.py), the speakers' roles and names and the
recording's metadata on each chunk (roles.py, with the people heard across recordings and the names
users gave them: identities/), vectors (embed.py, onnx_encoder.py; which weights: embedding_models.py),
and the Chroma collection with its BM25 keyword index beside it (store.py, keyword_index.py).

In: a Transcript and its metadata. Out: chunks in the index, written only by indexer.Indexer, the
one indexing step that ingest, reindex and the tests share.
"""
