"""heard: recorded interviews in, timestamped customer quotes out.

Stages, each a plain function over plain dataclasses:
sources.discover -> transcribe.transcribe_recording -> transcripts.save -> chunking.chunk_transcript
-> embed.Embedder.encode -> store.Store.upsert -> search.search.
Heavy libraries (torch, sentence_transformers, chromadb, faster_whisper) are imported inside the
functions that need them, so importing this package stays instant.
"""

__version__ = "0.1.0"
