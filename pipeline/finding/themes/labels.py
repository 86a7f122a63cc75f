"""A theme's label: the key phrases its quotes share and other themes' quotes do not (class-based TF-IDF).

Each word or two-word phrase scores (share of the theme's quotes that use it) x log(1 + average
quotes per theme / quotes of all themes that use it), as in BERTopic's c-TF-IDF, then times the
share of the theme's recordings that use it: a phrase one talkative customer repeats is that
customer's, not the theme's.

Stop words follow the corpus's languages (the chunks record theirs): scikit-learn's English list and
the fillers below always, and for each other language its stopwords-iso list (MIT), so a Spanish
theme is labelled by its Spanish content words ("factura, exportar"), not by "que, los".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

# Words of speech, not of topics: they fill answers of every theme.
FILLERS = frozenset(
    """yeah yes okay ok oh um uh like just really honestly actually basically literally pretty lot lots thing things
    stuff kind sort know mean think guess said say says got get gets getting going gonna want wanted way ways time
    times day days week weeks month months year years people somebody someone everybody everyone anybody nobody
    good great bad right sure little big new old end ends half whole maybe probably usually sometimes always
    never ever still even also well back come comes came goes went make makes made take takes took put puts use
    used using let lets tell told ask asked need needs needed try tried trying work works worked working look
    looks looked thank thanks today tomorrow yesterday morning afternoon one two three four five six seven
    eight nine ten hundred thousand first second don doesn didn isn wasn aren weren won wouldn couldn shouldn
    kept keep keeps stop stopped start started felt feel ve ll re""".split()
)
# Words of two letters or more, in any alphabet ("facturación", "Rechnung"), no digits.
_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"


def stop_words(languages: Iterable[str | None]) -> frozenset[str]:
    """English's stop words and fillers, and those of every other language given (codes)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    others = sorted({code for code in languages if code and code != "en"})
    found = set(ENGLISH_STOP_WORDS | FILLERS)
    if others:
        import stopwordsiso

        found |= {word.lower() for code in others if stopwordsiso.has_lang(code) for word in stopwordsiso.stopwords(code)}
    return frozenset(found)


def labels(
    texts: list[str], groups: list[list[int]], recordings: list[str], *, terms: int, languages: Iterable[str | None] = ()
) -> list[str]:
    """One label per group of `texts` (rows; `recordings[row]` says whose), `terms` phrases each;
    `languages`: the codes the texts are in (English's stop words are always left out)."""
    if not groups:
        return []
    from sklearn.feature_extraction.text import CountVectorizer

    rows = [row for rows in groups for row in rows]
    vectorizer = CountVectorizer(
        ngram_range=(1, 2),
        stop_words=sorted(stop_words(languages)),
        token_pattern=_TOKEN,
        binary=True,  # a quote uses a phrase or not: a talkative quote does not outvote three short ones
        lowercase=True,
    )
    try:
        matrix = vectorizer.fit_transform([texts[row] for row in rows]).toarray()
    except ValueError:  # nothing but stop words
        return ["(no key phrases)"] * len(groups)
    vocabulary = vectorizer.get_feature_names_out()
    position = {row: i for i, row in enumerate(rows)}
    per_group = np.stack([matrix[[position[r] for r in group]].sum(axis=0) for group in groups]).astype(float)
    sizes = np.array([len(group) for group in groups], dtype=float)
    weight = np.log1p(sizes.mean() / np.maximum(per_group.sum(axis=0), 1.0))
    found = []
    for number, group in enumerate(groups):
        share = per_group[number] / sizes[number]
        spread = _recording_share(matrix, [position[r] for r in group], [recordings[r] for r in group])
        scores = share * weight * spread
        # Ties (common in small themes, where every phrase is said once) go to the phrase said
        # first in the most representative quotes.
        said = " ".join(texts[row] for row in group).lower()
        first = [said.find(str(phrase)) % (len(said) + 1) for phrase in vocabulary]
        found.append(_pick(vocabulary, scores, first, terms))
    return found


def _recording_share(matrix: np.ndarray, rows: list[int], recordings: list[str]) -> np.ndarray:
    """For each phrase, the share of the group's recordings in which some quote uses it."""
    names = sorted(set(recordings))
    used = np.stack([matrix[[r for r, name in zip(rows, recordings) if name == rec]].max(axis=0) for rec in names])
    return np.asarray(used.mean(axis=0))


def _pick(vocabulary: Sequence[str], scores: np.ndarray, first: list[int], terms: int) -> str:
    """The best-scoring phrases, best first (ties: said first); a phrase that repeats a word already
    chosen is skipped."""
    order = sorted(range(len(vocabulary)), key=lambda i: (-round(float(scores[i]), 9), first[i], vocabulary[i]))
    chosen: list[str] = []
    words: set[str] = set()
    for i in order:
        if scores[i] <= 0 or len(chosen) == terms:
            break
        phrase = str(vocabulary[i])
        if set(re.findall(r"\w+", phrase)) & words:
            continue
        chosen.append(phrase)
        words |= set(re.findall(r"\w+", phrase))
    return ", ".join(chosen) or "(no key phrases)"
