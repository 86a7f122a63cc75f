"""The keyword index kept in step with the collection: the generation protocol.

The keyword index and the collection hold the same chunks when they carry the same generation.
A write of chunks announces its new generation to the keyword index (`pending`), gives it to the
collection with the chunks, then writes the keyword rows with it in one transaction. So a
collection one generation ahead, the very one pending, is a write under way or interrupted
(kill -9): the keyword index lacks that recording's newest chunks and nothing else, searches use
it, and the next ingest rebuilds it. Any other difference (a restored or copied file, rows lost) is
damage, found without reading a single chunk.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import IndexDamagedError
from pipeline.indexing.chunking import Chunk
from pipeline.indexing.keyword_index import FILE_NAME, KeywordIndex
from pipeline.indexing.store.client import ChromaCollection
from pipeline.indexing.store.schema import GENERATION


class KeywordSync:
    """The keyword index beside one collection, and the protocol that keeps the two in step.

    `chunks` reads every live chunk of the collection (for a rebuild); `server`: the collection
    lives in a Chroma server and the keyword file is only this machine's cache of it."""

    def __init__(
        self,
        collection: ChromaCollection,
        index_dir: Path,
        *,
        writable: bool,
        server: bool,
        chunks: Callable[[], list[Chunk]],
    ):
        self.collection = collection
        self.index_dir = index_dir
        self.writable = writable  # False: searches, status, eval; the file is never created or changed
        self.server = server
        self._chunks = chunks
        self._keywords: KeywordIndex | None = None
        self._memory: tuple[str | None, KeywordIndex] | None = None

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 keyword index file, opened on first use (read-only unless writable)."""
        if self._keywords is None:
            self._keywords = KeywordIndex(self.index_dir, writable=self.writable)
        return self._keywords

    def close(self) -> None:
        if self._keywords is not None:
            self._keywords.close()
            self._keywords = None
        if self._memory is not None:
            self._memory[1].close()
            self._memory = None

    def generation(self) -> str | None:
        """The generation the collection carries now."""
        found = self.collection.metadata().get(GENERATION)
        return str(found) if found is not None else None

    def begin_write(self) -> str:
        """A new generation, announced to the keyword index, then given to the collection."""
        generation = uuid.uuid4().hex
        self.keywords.announce(generation)
        self.collection.update_metadata({GENERATION: generation})
        return generation

    def problem(self) -> str | None:
        """Why searches cannot use the keyword index (missing, unreadable, holding other chunks than
        the collection), or None. An interrupted write is not a problem for a search."""
        return self._mismatch(interrupted_ok=True)

    def _mismatch(self, *, interrupted_ok: bool) -> str | None:
        path = self.index_dir / FILE_NAME
        if self._keywords is None and not path.is_file():
            if self.collection.count() == 0:
                return None
            return f"{path}: the keyword index is damaged: the file is missing; run `heard reindex` to rebuild it"
        keywords = self.keywords  # IndexDamagedError when SQLite cannot read it
        generation = self.generation()
        if generation == keywords.generation and keywords.count() == self.collection.count():
            return None
        if interrupted_ok and generation is not None and generation == keywords.pending:
            return None
        return (
            f"{path}: the keyword index is damaged: it does not hold what the index in {self.collection.where} holds "
            "(a restored or copied file, or lost rows); run `heard reindex` to rebuild it"
        )

    def searchable(self) -> KeywordIndex:
        """The keyword index a search may use; never rebuilt here (a search may run read-only).

        A local one that does not match the collection is an error that says to run `heard reindex`.
        Beside a Chroma server it is this machine's cache, which other machines' writes leave
        behind: searches then use a copy in memory made from the server's chunks, and the next
        ingest or reindex on this machine brings the file up to date."""
        try:
            problem = self.problem()
        except IndexDamagedError:
            if not self.server:
                raise
            problem = "unreadable"
        if problem is None:
            return self.keywords
        if not self.server:
            raise IndexDamagedError(problem)
        generation = self.generation()
        if self._memory is None or self._memory[0] != generation:
            memory = KeywordIndex(None)
            memory.rebuild(self._chunks(), generation=generation)
            self._memory = (generation, memory)
        return self._memory[1]

    def repair(self) -> bool:
        """Rebuild the keyword index from the collection's chunks when the two differ (an
        interrupted write included); True if it did. A keyword file SQLite cannot read stays an
        error (IndexDamagedError): `heard reindex` replaces the whole index."""
        if self._mismatch(interrupted_ok=False) is None:
            return False
        if self.generation() is None:
            self.begin_write()
        self.rebuild()
        return True

    def rebuild(self) -> list[Chunk]:
        """Write the keyword index afresh from the collection's chunks, whatever it held, with the
        collection's generation; returns the chunks (what `heard reindex` does beside a server)."""
        generation = self.generation()
        chunks = self._chunks()
        self.keywords.rebuild(chunks, generation=generation)
        return chunks
