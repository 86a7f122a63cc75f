"""What the model said, checked: the JSON object in its reply (models add code fences and trailing
prose), the quote numbers it judged answering, and its answer's sentences, each kept only when it
cites quotes and every quote it cites was sent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Citations models write into the sentence itself: [3], [3, 5], [3][5], [quote 3].
THINKING = re.compile(r"<think>.*?</think>", re.S)
INLINE = re.compile(r"\s*\[(?:quotes? )?(\d+(?:\s*,\s*\d+)*)\]")


class MalformedReply(ValueError):
    """The reply holds no JSON object of the asked shape; the message says what was wrong."""


@dataclass
class Sentence:
    text: str
    numbers: list[int]  # the quote numbers it cites, as sent


@dataclass
class Dropped:
    text: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"sentence": self.text, "reason": self.reason}


@dataclass
class Checked:
    sentences: list[Sentence] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


def json_object(reply: str) -> dict[str, Any]:
    """The first JSON object in `reply`: the whole reply, or one inside a code fence or among prose
    (after any <think> block a reasoning model wrote first)."""
    text = THINKING.sub("", reply).strip()
    try:
        found = json.loads(text)
    except ValueError:
        found = _first_object(text)
    if not isinstance(found, dict):
        raise MalformedReply(f"the model's reply is not a JSON object: {_excerpt(reply)}")
    return found


def _first_object(text: str) -> Any:
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            return decoder.raw_decode(text, start)[0]
        except ValueError:
            continue
    return None


def _excerpt(reply: str) -> str:
    text = " ".join(reply.split())
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def judged(reply: str, sent: set[int]) -> list[int]:
    """The numbers the judge said answer, among those sent, in order; numbers never sent are ignored."""
    data = json_object(reply)
    values = data.get("answering", data.get("quotes"))
    if not isinstance(values, list):
        raise MalformedReply(f'the model\'s reply has no "answering" list: {_excerpt(reply)}')
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    return sorted({n for n in numbers if n in sent})


def checked_answer(reply: str, sent: set[int]) -> Checked:
    """The answer's sentences; one that cites no quote, or any quote that was not sent, is dropped."""
    data = json_object(reply)
    items = data.get("sentences", data.get("answer"))
    if not isinstance(items, list):
        raise MalformedReply(f'the model\'s reply has no "sentences" list: {_excerpt(reply)}')
    result = Checked()
    for item in items:
        text, numbers = _sentence(item)
        if not text:
            continue
        unsent = [n for n in numbers if n not in sent]
        if not numbers:
            result.dropped.append(Dropped(text, "no quote supports it"))
        elif unsent:
            cited = ", ".join(str(n) for n in unsent)
            result.dropped.append(Dropped(text, f"it cites quote {cited}, which heard did not send"))
        else:
            result.sentences.append(Sentence(text, list(dict.fromkeys(numbers))))
    return result


def _sentence(item: Any) -> tuple[str, list[int]]:
    """(the sentence without inline citations, every number it cites: its list and its [n] marks)."""
    cited: list[Any] = []
    if isinstance(item, str):
        text: Any = item
    elif isinstance(item, dict):
        text = item.get("text", item.get("sentence", ""))
        listed = item.get("quotes", item.get("citations", []))
        cited = listed if isinstance(listed, list) else [listed]
    else:
        return "", []
    if not isinstance(text, str):
        return "", []
    numbers = [n for n in (_number(v) for v in cited) if n is not None]
    inline = [int(n) for found in INLINE.findall(text) for n in found.split(",")]
    clean = " ".join(INLINE.sub("", text).split())
    return clean, numbers + inline


def _number(value: Any) -> int | None:
    """A quote number from 3, "3", "[3]" or 3.0; None for anything else (an out-of-range number stays)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        digits = value.strip().strip("[]#").strip()
        return int(digits) if digits.isdigit() else None
    return None
