"""The keyword half of hybrid search: BM25 over chunk texts, in SQLite FTS5 beside the Chroma store.

FTS5 ranks with Okapi BM25 (k1=1.2, b=0.75), updates one recording at a time inside a transaction,
and ships with Python's sqlite3: nothing to install, and no whole-corpus rebuild per write as
in-memory BM25 libraries need. The porter tokenizer stems, so "exporting" matches "export".
Rebuildable from the chunks at any time, like the vectors.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.databases import storage_fault
from pipeline.errors import HeardError, IndexDamagedError
from pipeline.indexing.chunking import Chunk

FILE_NAME = "keywords.sqlite3"
_CHUNKS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(chunk_id UNINDEXED, recording_id UNINDEXED, text, "
    "tokenize='porter unicode61')"
)
_STATE_TABLE = "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)"
_INSERT = "INSERT INTO chunks (chunk_id, recording_id, text) VALUES (?, ?, ?)"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

# Words that carry no topic: English function words and the verbs of asking about what was said.
# BM25's IDF already discounts frequent words, but dropping these keeps "what do customers say"
# from matching every chunk that contains "do" or "what".
STOPWORDS = frozenset(
    """
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's
hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's
me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves out over
own same shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs
them themselves then there there's these they they'd they'll they're they've this those through to too
under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've
your yours yourself yourselves just also really get got thing things
""".split()
)


@dataclass
class KeywordHit:
    chunk_id: str
    score: float  # BM25, higher is better


def terms(text: str) -> list[str]:
    """The query's searchable words: lowercased, without stopwords."""
    return [w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in STOPWORDS]


class KeywordIndex:
    """The FTS5 table in `<index>/keywords.sqlite3`, and the generation of the collection it matches.

    Every write stores the generation the Chroma collection was given for it (Store), so a search can
    tell, without reading any chunk, that the two indexes hold the same content. Opened read-only
    (searches), it never creates or changes the file; SQLite's faults become IndexDamagedError.
    """

    def __init__(self, index_dir: Path | None, *, writable: bool = True):
        """The index beside the Chroma store in `index_dir`; None: an empty one in memory."""
        self.path = index_dir / FILE_NAME if index_dir is not None else Path(":memory:")
        self._counted: tuple[int, int] | None = None  # (data_version, count), see count()
        try:
            if index_dir is None:
                self._db = sqlite3.connect(":memory:", check_same_thread=False)
            elif writable:
                index_dir.mkdir(parents=True, exist_ok=True)
                # Each write method is one transaction, so a killed ingest leaves the old state.
                # Callers that share a Store across threads (the web app) serialize access themselves.
                self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            else:
                self._db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60, check_same_thread=False
                )
            if writable or index_dir is None:
                with self._db:
                    self._db.execute(_CHUNKS_TABLE)
                    self._db.execute(_STATE_TABLE)
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc, writing=writable) from exc

    def damaged(self, exc: Exception, *, writing: bool = False) -> HeardError:
        """A fault of the file as one line: a write on a full or read-only disk is a StorageError
        (free disk space), anything else damage."""
        fault = storage_fault(self.path, str(exc), "keyword index") if writing and self.path != Path(":memory:") else None
        if fault is not None:
            return fault
        return IndexDamagedError(f"{self.path}: the keyword index is damaged ({exc}); run `heard reindex` to rebuild it")

    def _run(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(params))
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc) from exc

    def close(self) -> None:
        self._db.close()

    def count(self) -> int:
        # count(*) over FTS5 reads every row (37 ms at 100k chunks) and a search asks twice: kept
        # while no connection has committed since (SQLite's data_version moves with other
        # connections' commits; this connection's own writes clear it in _write).
        version = self._run("PRAGMA data_version").fetchone()[0]
        if self._counted is None or self._counted[0] != version:
            self._counted = (version, self._run("SELECT count(*) FROM chunks").fetchone()[0])
        return self._counted[1]

    def recording_count(self) -> int:
        return int(self._run("SELECT count(DISTINCT recording_id) FROM chunks").fetchone()[0])

    @property
    def generation(self) -> str | None:
        """The collection generation this index was last written for (None: written before heard kept one)."""
        return self._state("generation")

    @property
    def pending(self) -> str | None:
        """The generation of a write announced and not (yet) done: see Store."""
        return self._state("pending")

    def announce(self, generation: str) -> None:
        """A write for `generation` begins (the collection gets it next, these rows last)."""
        self._write(("INSERT OR REPLACE INTO state (key, value) VALUES ('pending', ?)", [(generation,)]), generation=None)

    def _state(self, key: str) -> str | None:
        if not self._run("SELECT 1 FROM sqlite_master WHERE name = 'state'").fetchone():
            return None
        row = self._run("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def replace_recording(self, recording_id: str, chunks: Iterable[Chunk], *, generation: str) -> None:
        """Make the recording's indexed chunks exactly `chunks`."""
        self._write(
            ("DELETE FROM chunks WHERE recording_id = ?", [(recording_id,)]),
            (_INSERT, [(c.id, recording_id, c.text) for c in chunks]),
            generation=generation,
        )

    def remove_recording(self, recording_id: str, *, generation: str | None) -> None:
        self._write(("DELETE FROM chunks WHERE recording_id = ?", [(recording_id,)]), generation=generation)

    def rebuild(self, chunks: Iterable[Chunk], *, generation: str | None) -> None:
        """Replace everything with `chunks`."""
        self._write(
            ("DELETE FROM chunks", [()]),
            ("DELETE FROM state WHERE key = 'generation'", [()]),
            (_INSERT, [(c.id, c.recording_id, c.text) for c in chunks]),
            generation=generation,
        )

    def _write(self, *statements: tuple[str, list[tuple[object, ...]]], generation: str | None) -> None:
        """The statements and the generation they bring the index to, in one transaction."""
        self._counted = None
        try:
            with self._db:
                for sql, rows in statements:
                    self._db.executemany(sql, rows)
                if generation is not None:
                    self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('generation', ?)", (generation,))
                    self._db.execute("DELETE FROM state WHERE key = 'pending'")
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc, writing=True) from exc

    def query(self, text: str, k: int, allowed: set[str] | None = None) -> list[KeywordHit]:
        """Up to `k` chunks containing any of the query's terms, best BM25 first.

        `allowed` restricts hits to those chunk ids (the search filters, resolved by the caller).
        """
        words = terms(text)
        if not words or (allowed is not None and not allowed):
            return []
        # Each term quoted: FTS5 would otherwise read words like AND/NOT/NEAR as operators.
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in dict.fromkeys(words))
        sql = "SELECT chunk_id, bm25(chunks) FROM chunks WHERE chunks MATCH ?"
        params: list[object] = [match]
        if allowed is not None:
            sql += " AND chunk_id IN (SELECT value FROM json_each(?))"
            import json

            params.append(json.dumps(sorted(allowed)))
        sql += " ORDER BY bm25(chunks) LIMIT ?"
        params.append(k)
        # FTS5's bm25() is negative, more negative meaning more relevant.
        return [KeywordHit(chunk_id, -score) for chunk_id, score in self._run(sql, params)]

    def query_weight(self, text: str) -> float:
        """The sum of the query terms' IDFs, as FTS5's bm25() computes them: about the score of a
        chunk that holds every term once. Dividing by it makes BM25 scores comparable across
        queries, so a chunk that matched one common word of six stays small."""
        words = list(dict.fromkeys(terms(text)))
        total = self.count()
        weight = 0.0
        for word in words:
            found = self._run(
                "SELECT count(*) FROM chunks WHERE chunks MATCH ?", ('"' + word.replace('"', "") + '"',)
            ).fetchone()[0]
            weight += max(1e-6, math.log((total - found + 0.5) / (found + 0.5)))
        return weight
