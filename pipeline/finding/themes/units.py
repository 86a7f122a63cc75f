"""Which indexed chunks are customers' quotes worth grouping: answers, not questions or small talk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.indexing.chunking import Chunk
from pipeline.indexing.role_names import ASKER_ROLES

if TYPE_CHECKING:
    from pipeline.indexing.embed import Embedder

# Lines that say nothing about the product: greetings, thanks, goodbyes, self-introductions.
# Written as generic interview openings and closings, not taken from any dev set. A quote whose
# vector is this close to one of them (themes.small_talk_similarity) is small talk: at 0.45 the
# hard dev set lost 9.6% of its substantive chunks (mostly two- or three-word fragments of split
# turns) and let 51% of its small talk through; the first dev set lost none and let 25% through
# (docs/benchmarks.md, "Themes").
SMALL_TALK = (
    "Thanks for having me.",
    "Thank you, it was a pleasure. Bye.",
    "Sure, happy to help.",
    "Good morning, I'm doing well, thanks.",
    "Yes.",
    "No, that's all from me.",
    "You're welcome, anytime.",
    "Sorry, I'm in the car, it might be noisy.",
    "The weather has been nice here this week.",
    "It's been a busy week, but good.",
    "I'm the operations manager at a company with about fifty employees.",
    "I run the finance team, there are six of us.",
    "We are a small business with three locations and about a hundred staff.",
    "My role is head of customer success; I've been here four years.",
)
_SMALL_TALK_VECTORS: dict[tuple[str, str], np.ndarray] = {}


def is_answer(chunk: Chunk) -> bool:
    """A customer's or guest's words, never a question: a question credited to a customer is mostly
    the interviewer's, given to the wrong speaker (on the hard dev set, most of the 38 "customer"
    chunks that match no customer turn are questions such as "What else?")."""
    return chunk.role not in ASKER_ROLES and not chunk.text.rstrip().endswith("?")


def small_talk(chunks: list[Chunk], vectors: np.ndarray, embedder: Embedder, *, similarity: float, min_words: int) -> np.ndarray:
    """True for each chunk that is small talk: too short to say anything, or close to a greeting,
    thanks or introduction."""
    if not chunks:
        return np.zeros(0, dtype=bool)
    short = np.array([len(c.text.split()) < min_words for c in chunks])
    key = embedder.key
    if key not in _SMALL_TALK_VECTORS:
        _SMALL_TALK_VECTORS[key] = embedder.encode_documents(list(SMALL_TALK))
    closeness = (vectors @ _SMALL_TALK_VECTORS[key].T).max(axis=1)
    return np.asarray(short | (closeness >= similarity))
