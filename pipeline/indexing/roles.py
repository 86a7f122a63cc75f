"""Who asks and who answers: speaker roles, the names hits carry, and what each chunk is embedded as.

Roles belong to indexing: they are derived from the transcript and the recording's metadata each
time chunks are written, never stored in the transcript, so editing metadata re-labels without
re-transcribing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.indexing.chunking import Chunk, sentences
from pipeline.indexing.role_names import ASKER_ROLES, roles_for
from pipeline.sources.metadata import chapter_at, chunk_fields
from pipeline.transcripts import Transcript

if TYPE_CHECKING:
    from pipeline.indexing.identities import Identity


def speaker_order(transcript: Transcript) -> list[str]:
    return list(dict.fromkeys(s.speaker for s in transcript.segments if s.speaker))


def infer_roles(transcript: Transcript, *, kind: str | None = None) -> dict[str, str | None]:
    """interviewer/customer (podcast: host/guest) per speaker, from who asks and who talks.

    The asker is the speaker with the highest share of question sentences, less half their share
    of all words: interviewers ask most of the questions and say the least. Everyone else answers.
    When the diarizer was not confident (one voice found, voices too close, no speech found) no
    speaker gets a role: search then down-weights question sentences instead of trusting a role
    that would file the interviewer's questions as customer quotes.
    """
    asker_role, answer_role = roles_for(kind)
    order = speaker_order(transcript)
    if not order:
        return {}
    if (transcript.diarization or {}).get("confident") is False:
        return dict.fromkeys(order)
    if len(order) == 1:
        return {order[0]: answer_role}
    questions = dict.fromkeys(order, 0)
    total = dict.fromkeys(order, 0)
    words = dict.fromkeys(order, 0)
    for sentence in sentences(transcript):
        if sentence.speaker is None:
            continue
        total[sentence.speaker] += 1
        words[sentence.speaker] += len(sentence.text.split())
        questions[sentence.speaker] += sentence.text.rstrip().endswith("?")
    all_words = sum(words.values()) or 1
    all_questions = sum(questions.values()) or 1
    score = {s: questions[s] / all_questions - 0.5 * words[s] / all_words for s in order}
    asker = max(order, key=lambda s: score[s])
    return {s: asker_role if s == asker else answer_role for s in order}


@dataclass
class Person:
    name: str  # what hits show: a given name, or the transcript's label (S1, "Dana" from a .vtt)
    role: str | None


def people(transcript: Transcript, meta: dict[str, Any], identities: dict[str, Identity] | None = None) -> dict[str, Person]:
    """Each speaker label in the transcript -> the name and role hits carry.

    Three sources, each overriding the one before for the speakers it covers:
    1. inferred roles (infer_roles: who asks and who talks);
    2. `identities`, the named voices heard in this recording (`heard speakers name V3 Dana
       --role interviewer`): the name, and the role (asking or answering, in the recording's kind:
       an interviewer's voice hosts a podcast), which beats the inference. When the diarizer
       was not confident the name is still given, and the role too if it found two or more voices
       (a voice that matched a known person is that person); with one voice found, that voice may
       hold both people, so no roles;
    3. metadata `speakers` entries: an entry keyed by a label, a transcript name or a voice's name
       sets that speaker; an entry that matches none names the speaker whose role it gives
       (`{name: Dana, role: interviewer}` names the interviewer).
    Whenever identity or metadata says who asks, every speaker they do not cover answers.
    """
    kind = meta.get("kind")
    inferred = infer_roles(transcript, kind=kind)
    found = {label: Person(label, role) for label, role in inferred.items()}
    asker_role, answer_role = roles_for(kind)
    explicit_roles = _apply_identities(found, transcript, identities or {}, kind=kind)
    named_by_meta: set[str] = set()
    unmatched: list[dict[str, Any]] = []
    for entry in meta.get("speakers", []):
        key = str(entry.get("label") or entry.get("name")).lower()
        matched = next((l for l, p in found.items() if key in (l.lower(), p.name.lower())), None)
        if matched is None:
            unmatched.append(entry)
            continue
        label = matched
        if entry.get("name"):
            found[label].name = entry["name"]
            named_by_meta.add(label)
        if entry.get("role"):
            found[label].role = entry["role"]
            explicit_roles.add(label)
    for entry in unmatched:
        if not entry.get("role"):
            continue
        for label, person in found.items():
            if person.role == entry["role"] and label not in named_by_meta:
                person.name = entry.get("name") or person.name
                named_by_meta.add(label)
                explicit_roles.add(label)
                break
    if any(found[l].role == asker_role for l in explicit_roles):
        # Someone says who asks: every speaker nobody named answers.
        for label, person in found.items():
            if label not in explicit_roles and person.role in (asker_role, None):
                person.role = answer_role
    return found


def _apply_identities(
    found: dict[str, Person], transcript: Transcript, identities: dict[str, Identity], *, kind: str | None
) -> set[str]:
    """Names and roles from the named voices heard in the recording (see people); returns the
    labels whose role they set."""
    asker_role, answer_role = roles_for(kind)
    roles_known = (transcript.diarization or {}).get("confident") is not False or len(found) > 1
    explicit_roles: set[str] = set()
    for label, identity in identities.items():
        if label not in found:
            continue
        if identity.name:
            found[label].name = identity.name
        if identity.role and roles_known:
            # A voice's role is who asks or who answers, in this recording's terms: the team's
            # interviewer hosts its podcast.
            found[label].role = asker_role if identity.role in ASKER_ROLES else answer_role
            explicit_roles.add(label)
    return explicit_roles


def label_chunks(
    chunks: list[Chunk], transcript: Transcript, meta: dict[str, Any], identities: dict[str, Identity] | None = None
) -> list[Chunk]:
    """Give chunks their speaker's name and role, and the recording's title and metadata (its
    language: metadata's, else the transcript's)."""
    found = people(transcript, meta, identities)
    fields = chunk_fields(meta)
    for chunk in chunks:
        person = found.get(chunk.speaker) if chunk.speaker else None
        if person is not None:
            chunk.speaker, chunk.role = person.name, person.role
        chunk.title = meta.get("title") or chunk.title
        chunk.metadata = dict(fields)
        if transcript.language and not chunk.metadata.get("language"):
            chunk.metadata["language"] = transcript.language  # as Whisper (or the text detector) found it
        if meta.get("chapters"):
            chunk.metadata["chapter"] = chapter_at(meta["chapters"], chunk.start)
    return chunks


def question_before(chunks: list[Chunk], i: int) -> Chunk | None:
    """The interviewer's (host's) question just before answer chunk `i`, if there is one."""
    before = chunks[i - 1] if i else None
    if (
        before is not None
        and before.role in ASKER_ROLES
        and before.text.rstrip().endswith("?")
        and chunks[i].role not in ASKER_ROLES
    ):
        return before
    return None


def embedding_texts(chunks: list[Chunk]) -> list[str]:
    """What each chunk is embedded as (embedding.question: text): its own words, and for an answer
    the question just before it.

    "Almost three weeks." means nothing without "How long did onboarding take?". The quote shown
    stays the answer alone; only its vector carries the question's topic.
    """
    texts = []
    for i, chunk in enumerate(chunks):
        question = question_before(chunks, i)
        texts.append(f"{question.text} {chunk.text}" if question else chunk.text)
    return texts
