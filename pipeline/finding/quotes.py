"""The quote inside a chunk: the 1-3 sentences that answer, timed by their words, with context.

Chunks are sized for retrieval; a quote is sized for reading and playing. Sentences come from the
transcript (transcripts/<id>.json) with the times of their first and last words, so a quote's
start/end cover exactly its words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from cachetools import LRUCache

from pipeline import transcripts
from pipeline.config import Settings
from pipeline.indexing import chunking
from pipeline.indexing.chunking import Chunk
from pipeline.indexing.keyword_index import terms
from pipeline.indexing.spread import Scale

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder

# A sentence this short ("Sure.", "Honestly, they were great.") rarely stands alone as a quote.
MIN_QUOTE_WORDS = 8
# A neighbouring sentence joins the quote when it scores within this much of the best one, and a
# sentence's score gains this much per share of the query's words it holds. Both in
# all-MiniLM-L6-v2's cosines; moved into the index's own spread (Scale.margin).
JOIN_MARGIN = 0.1
SHARED_WORDS_WEIGHT = 0.1
CONTEXT_WORDS = 25
# Sentences and sentence vectors of recently quoted recordings: a web server or an eval run
# quotes the same recordings again and again, and encoding sentences is most of a search's time.
# Bounded, least recently used first out; a lookup never relies on an entry still being there.
CACHE_RECORDINGS = 256
CACHE_SENTENCES = 20000
_SENTENCES: LRUCache[tuple[str, int], list[chunking.Sentence]] = LRUCache(maxsize=CACHE_RECORDINGS)
_VECTORS: LRUCache[tuple[tuple[str, str], str], np.ndarray] = LRUCache(maxsize=CACHE_SENTENCES)


@dataclass
class Quote:
    text: str
    start: float
    end: float
    speaker: str | None
    first: int | None  # sentence numbers in the recording; None when the transcript is unavailable
    last: int | None
    context_before: str = ""
    context_after: str = ""


def _stem(word: str) -> str:
    # Crude, but enough to let "exporting" meet "export" when scoring a handful of sentences.
    return word[:5]


class QuoteFinder:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        query_vector: np.ndarray,
        subject: str,
        *,
        scale: Scale | None = None,
        max_sentences: int | None = None,
    ):
        """`scale`: the index's spread, which the join margin and the shared-words weight follow."""
        scale = scale or Scale()
        self.join_margin = scale.margin(JOIN_MARGIN)
        self.shared_words_weight = scale.margin(SHARED_WORDS_WEIGHT)
        self.transcripts_dir = settings.transcripts_dir
        self.embedder = embedder
        self.query_vector = query_vector
        self.query_stems = {_stem(t) for t in terms(subject)}
        self.max_sentences = max_sentences or settings.search.quote_sentences

    def _load(self, recording_id: str) -> list[chunking.Sentence] | None:
        return recording_sentences(self.transcripts_dir, recording_id)

    def sentences(self, recording_id: str) -> list[chunking.Sentence] | None:
        return self._load(recording_id)

    def _sentences(self, recording_id: str) -> list[chunking.Sentence]:
        """The sentences of a recording whose chunk is being quoted: its transcript exists."""
        found = self._load(recording_id)
        assert found is not None, recording_id
        return found

    def _vectors(self, texts: list[str]) -> np.ndarray:
        model = self.embedder.key
        # Looked up once each into a local dict: the cache may drop any entry while new ones go in.
        found = {t: v for t in dict.fromkeys(texts) if (v := _VECTORS.get((model, t))) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for text, vector in zip(missing, self.embedder.encode_documents(missing)):
                found[text] = _VECTORS[(model, text)] = vector
        return np.stack([found[t] for t in texts])

    def score(self, recording_id: str, numbers: list[int]) -> np.ndarray:
        """Closeness of sentences to the query: cosine, plus a little for shared words."""
        sentences = self._sentences(recording_id)
        texts = [sentences[i].text for i in numbers]
        cosine = self._vectors(texts) @ self.query_vector
        if not self.query_stems:
            return np.asarray(cosine)
        shared = np.array([len(self.query_stems & {_stem(t) for t in terms(text)}) / len(self.query_stems) for text in texts])
        return np.asarray(cosine + self.shared_words_weight * shared)

    def _inside(self, chunk: Chunk) -> tuple[list[chunking.Sentence], list[int]]:
        sentences = self.sentences(chunk.recording_id) or []
        return sentences, inside_chunk(sentences, chunk)

    def best_sentence_cosine(self, chunk: Chunk) -> float | None:
        """The cosine of the chunk's sentence closest to the query: a chunk is as relevant as its
        best passage, which a whole-chunk vector can blur (several sentences, several topics)."""
        sentences, inside = self._inside(chunk)
        if len(inside) < 2:
            return None
        return float(np.max(self._vectors([sentences[i].text for i in inside]) @ self.query_vector))

    def is_opening(self, chunk: Chunk) -> bool:
        """Whether the chunk lies before the recording's first question: an interview's opening."""
        if chunk.index > 2:  # openings are short; spare loading transcripts for the rest
            return False
        sentences = self.sentences(chunk.recording_id) or []
        first_question = next((s.start for s in sentences if s.text.rstrip().endswith("?")), None)
        return first_question is not None and chunk.end <= first_question + 0.05

    def find(self, chunk: Chunk) -> Quote:
        sentences, inside = self._inside(chunk)
        if not inside:
            return Quote(chunk.text, chunk.start, chunk.end, chunk.speaker, None, None)
        # Questions are the interviewer's: quote the answer, unless the chunk is nothing but questions.
        answers = [i for i in inside if not sentences[i].text.rstrip().endswith("?")] or inside
        scores = dict(zip(answers, self.score(chunk.recording_id, answers).tolist()))
        best = max(answers, key=scores.__getitem__)
        first = last = best
        while last - first + 1 < self.max_sentences:
            options = [i for i in (first - 1, last + 1) if i in scores and sentences[i].speaker == sentences[best].speaker]
            if not options:
                break
            pick = max(options, key=scores.__getitem__)
            words = sum(len(sentences[i].text.split()) for i in range(first, last + 1))
            if scores[pick] < scores[best] - self.join_margin and words >= MIN_QUOTE_WORDS:
                break
            first, last = min(first, pick), max(last, pick)
        return self.span(chunk.recording_id, first, last)

    def span(self, recording_id: str, first: int, last: int) -> Quote:
        """The quote made of sentences first..last of a recording, with context either side."""
        return span(self._sentences(recording_id), first, last)


def recording_sentences(transcripts_dir: Path, recording_id: str) -> list[chunking.Sentence] | None:
    """A recording's sentences from its transcript (cached while the file is unchanged); None without one."""
    path = transcripts.json_path(transcripts_dir, recording_id)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return None
    found = _SENTENCES.get(key)
    if found is None:
        found = _SENTENCES[key] = chunking.sentences(transcripts.load(path))
    return found


def inside_chunk(sentences: list[chunking.Sentence], chunk: Chunk) -> list[int]:
    """The numbers of the sentences a chunk holds."""
    return [i for i, s in enumerate(sentences) if s.start >= chunk.start - 0.05 and s.end <= chunk.end + 0.05]


def span(sentences: list[chunking.Sentence], first: int, last: int) -> Quote:
    """The quote made of sentences first..last, with context either side."""
    chosen = sentences[first : last + 1]
    return Quote(
        text=" ".join(s.text for s in chosen),
        start=chosen[0].start,
        end=chosen[-1].end,
        speaker=chosen[0].speaker,
        first=first,
        last=last,
        context_before=_context(reversed(sentences[:first]), before=True),
        context_after=_context(sentences[last + 1 :], before=False),
    )


def chunk_quote(transcripts_dir: Path, chunk: Chunk) -> Quote:
    """The whole chunk as a quote, timed by its sentences, with context; the chunk itself when its
    transcript is gone."""
    sentences = recording_sentences(transcripts_dir, chunk.recording_id) or []
    inside = inside_chunk(sentences, chunk)
    if not inside:
        return Quote(chunk.text, chunk.start, chunk.end, chunk.speaker, None, None)
    return span(sentences, inside[0], inside[-1])


def _context(neighbours: Iterable[chunking.Sentence], before: bool) -> str:
    """At least one neighbouring sentence, more while they stay under CONTEXT_WORDS words."""
    taken: list[str] = []
    words = 0
    for sentence in neighbours:
        n = len(sentence.text.split())
        if taken and words + n > CONTEXT_WORDS:
            break
        taken.append(sentence.text)
        words += n
    return " ".join(reversed(taken) if before else taken)
