"""Split a transcript into search-sized chunks of whole sentences from one speaker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.config import ChunkingSettings
from pipeline.transcripts import Transcript

SENTENCE_END = (".", "?", "!", "…")
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

    def close():
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
    chunks: list[Chunk] = []
    group: list[Sentence] = []

    def emit():
        if group:
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
            group.clear()

    word_count = 0
    for sentence in sentences(transcript):
        n = len(sentence.text.split())
        too_long = group and (
            word_count + n > settings.max_words or sentence.end - group[0].start > settings.max_seconds
        )
        if group and (sentence.speaker != group[0].speaker or too_long):
            emit()
            word_count = 0
        group.append(sentence)
        word_count += n
        # In an interview a question usually ends a turn: the answer deserves a chunk of its own.
        if sentence.text.endswith("?"):
            emit()
            word_count = 0
    emit()
    return chunks
