"""What a question is about: "what do customers say about X" searches for X, not for the phrase.

Product managers ask in whole questions. Their framing words ("what do customers say", "complaints
about") match every interviewer question and no answer, so they are cut before retrieval.
"""

from __future__ import annotations

import re

_WHO = (
    r"(?:(?:our|the|other|some|any|most)\s+)?(?:customers?|people|users?|clients?|folks|interviewees|participants|guests"
    r"|buyers|prospects|they|anyone|everyone|somebody|anybody)"
)
_SAY = (
    r"(?:say|said|saying|think|thought|feel|felt|mention(?:ed)?|complain(?:ed)?|talk(?:ed)?|tell\s+us|like|dislike|hate"
    r"|love|want(?:ed)?|need(?:ed)?|report(?:ed)?)"
)
_NOUN = (
    r"(?:complaints?|feedback|opinions?|thoughts|views|comments|pain\s*points?|problems?|issues|frustrations?|praise"
    r"|quotes?|requests?|experiences?|gripes|concerns)"
)
_ABOUT = r"(?:about|of|on|regarding|with|around|concerning|for|in)"

_PATTERNS = [
    # what do customers say about X / how did people feel about X / what do users think of X
    rf"(?:what|how)\s+(?:do|did|does|are|were|would|have|has)\s+{_WHO}\s+(?:been\s+)?{_SAY}(?:\s+{_ABOUT})?",
    # what are people's complaints about X / what is the feedback on X / customers' problems with X
    rf"(?:(?:what|which)\s+(?:are|were|is|was)\s+|what's\s+|any\s+|list\s+|show\s+me\s+|find\s+)?(?:the\s+)?(?:{_WHO}(?:'s|s'|')?\s+)?{_NOUN}\s+{_ABOUT}",
    # did anyone mention X / has anybody complained about X
    rf"(?:did|do|does|has|have)\s+{_WHO}\s+{_SAY}(?:\s+{_ABOUT})?",
    # tell me about X / show me quotes about X
    rf"(?:tell|show)\s+me\s+(?:{_NOUN}\s+)?(?:about|on)",
    # why do customers like X: the topic is X
    rf"why\s+(?:do|did|does)\s+{_WHO}\s+{_SAY}",
]
_PREFIX = re.compile(r"^\s*(?:so\s+|and\s+|please\s+)*(?:" + "|".join(_PATTERNS) + r")\s+", re.IGNORECASE)


def topic(query: str) -> str:
    """The subject of `query` with the asking phrase and trailing punctuation removed.

    A query that is all phrase ("what do customers say?") is returned unchanged.
    """
    stripped = query.strip().rstrip("?.! ")
    match = _PREFIX.match(stripped)
    subject = stripped[match.end() :].strip() if match else ""
    return subject or query.strip()
