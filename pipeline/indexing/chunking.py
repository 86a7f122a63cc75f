"""Split a transcript into search-sized chunks of whole sentences from one speaker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.config import ChunkingSettings
from pipeline.transcripts import Transcript

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")  # and the full-width marks of Chinese and Japanese
QUESTION_MARKS = ("?", "？")
# Whisper sometimes leaves long stretches unpunctuated; past this many words a segment end counts
# as a sentence end so one chunk cannot swallow minutes of speech.
MAX_UNPUNCTUATED_WORDS = 80


@dataclass
class Sentence:
    start: float
    end: float
    text: str
    speaker: str | None


@dataclass
class Chunk:
    recording_id: str
    index: int
    text: str
    start: float
    end: float
    speaker: str | None
    title: str
    recording: str  # path of the source file
    role: str | None = None  # interviewer / customer / host / guest, once known
    # The recording's metadata: company, segment, kind, date (ISO), tags (list).
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.recording_id}:{self.index}"


def sentences(transcript: Transcript) -> list[Sentence]:
    """Sentences with the times of their first and last word, never spanning two speakers."""
    found: list[Sentence] = []
    words: list[tuple[float, float, str]] = []
    speaker = None

    def close() -> None:
        if words:
            found.append(Sentence(words[0][0], words[-1][1], "".join(w[2] for w in words).strip(), speaker))
            words.clear()

    for segment in transcript.segments:
        if segment.speaker != speaker:
            close()
            speaker = segment.speaker
        # Imported transcripts may lack word timings: the segment then stands for its words.
        # Word texts carry their own leading space, as Whisper gives them.
        pieces = [(w.start, w.end, w.text) for w in segment.words] or [(segment.start, segment.end, " " + segment.text)]
        for piece in pieces:
            if not piece[2].strip():
                continue
            words.append(piece)
            if piece[2].strip().endswith(SENTENCE_END):
                close()
        if len(words) >= MAX_UNPUNCTUATED_WORDS:
            close()
    close()
    return found


def chunk_transcript(transcript: Transcript, settings: ChunkingSettings) -> list[Chunk]:
    """Consecutive sentences of one speaker, up to max_words / max_seconds, sharing `overlap`
    sentences with the previous chunk of the same turn. A question is a chunk of its own: in an
    interview it is the interviewer's, and glued to an answer it would pull that answer toward
    the question's topic (speakers are not always known to split them)."""
    chunks: list[Chunk] = []
    all_sentences = sentences(transcript)

    def emit(group: list[Sentence]) -> None:
        chunks.append(
            Chunk(
                recording_id=transcript.recording_id,
                index=len(chunks),
                text=" ".join(s.text for s in group),
                start=group[0].start,
                end=group[-1].end,
                speaker=group[0].speaker,
                title=transcript.title,
                recording=transcript.source,
            )
        )

    # Runs: maximal stretches of one speaker's non-question sentences; each question is a run alone.
    runs: list[list[Sentence]] = []
    for sentence in all_sentences:
        is_question = sentence.text.endswith(QUESTION_MARKS)
        if not runs or is_question or runs[-1][-1].text.endswith(QUESTION_MARKS) or sentence.speaker != runs[-1][0].speaker:
            runs.append([sentence])
        else:
            runs[-1].append(sentence)

    overlap = max(0, settings.overlap)
    for run in runs:
        first = 0
        while first < len(run):
            last, words = first, len(run[first].text.split())
            while last + 1 < len(run):
                n = len(run[last + 1].text.split())
                if words + n > settings.max_words or run[last + 1].end - run[first].start > settings.max_seconds:
                    break
                last, words = last + 1, words + n
            emit(run[first : last + 1])
            if last + 1 >= len(run):
                break
            # Step on, keeping `overlap` sentences of context but always moving forward.
            first = max(first + 1, last + 1 - overlap)
    return chunks
