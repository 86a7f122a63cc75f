"""heard: recorded interviews in, timestamped customer quotes out.

The subpackages follow the data flow, each a plain function over plain dataclasses:

    sources/   recordings in        discovery.discover -> [Path], discovery.identify -> Recording
    hearing/   speech to text        transcribe.transcribe_recording -> Transcript, speakers -> who spoke when
    indexing/  text to the index     indexer.Indexer.index_transcript: chunk -> roles -> embed -> store
    finding/   questions to quotes   search.search -> [Hit]
    jobs/      runs of the above     ingest.ingest, reindex.reindex, status.collect_status
    web/       the search page       app.create_app

Shared by all stages: config (Settings), errors, files (atomic writes), transcripts (the Transcript
model and transcripts/<id>.json, the source of truth the index is derived from), crash (kill points
for tests). Heavy libraries (torch, sentence_transformers, chromadb, faster_whisper) are imported
inside the functions that need them, so importing this package stays instant. Importing it
changes nothing in the process: the thread policy (threads.py) is applied where heard starts work
that loads those libraries (the CLI, the web server, each model load).
"""

__version__ = "0.1.0"
