"""What is taken out of the text before it is sent to an LLM, and put back into the answer.

E-mail addresses, phone numbers, and the names heard knows (speakers' names from recordings'
metadata, named voices, the names hits show) become [EMAIL 1], [PHONE 2], [PERSON 3]; the same
thing always gets the same placeholder within one question, so the model can still tell people
apart. The answer the model writes has them put back before anyone reads it. Company names are
sent as they are: a question about a customer's account needs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.config import LlmSettings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits, spaces, dots, dashes and brackets, optionally after +; a phone number when it
# holds 7 to 15 digits (E.164's most) and is not a date.
PHONE = re.compile(r"(?<![\w+])\+?\d[\d \t().-]{5,}\d(?!\w)")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PLACEHOLDER = re.compile(r"\[?\b(PERSON|EMAIL|PHONE) (\d+)\b\]?")
# Names that are labels, not people: S1, V3, SPEAKER_00, and what hits show for nobody.
LABEL = re.compile(r"^(?:S\d+|V\d+|SPEAKER_\d+|Speaker \d+|Unknown speaker|unknown|\?)$", re.IGNORECASE)


@dataclass
class Redactor:
    """Placeholders for one question; `redact` before sending, `restore` on what comes back."""

    emails: bool = True
    phones: bool = True
    names: list[str] = field(default_factory=list)
    _placeholders: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> [KIND n]
    _originals: dict[str, str] = field(default_factory=dict)  # [KIND n] -> the text it stands for
    _counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._parts = self._name_parts()
        ordered = sorted(self._parts, key=len, reverse=True)  # "Dana Whitfield" before "Dana"
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in ordered) + r")(?!\w)") if ordered else None

    @classmethod
    def configured(cls, settings: LlmSettings, names: Iterable[str]) -> Redactor:
        return cls(
            emails=settings.redact_emails,
            phones=settings.redact_phones,
            names=known_names(names) if settings.redact_names else [],
        )

    @property
    def replaced(self) -> int:
        """How many different things were replaced so far."""
        return len(self._originals)

    def redact(self, text: str) -> str:
        if self.emails:
            text = EMAIL.sub(lambda m: self._placeholder("EMAIL", m.group()), text)
        if self.phones:
            text = PHONE.sub(self._phone, text)
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._placeholder("PERSON", self._parts.get(m.group(), m.group())), text)
        return text

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self._originals.get(f"[{m[1]} {m[2]}]", m.group()), text)

    def _phone(self, found: re.Match[str]) -> str:
        text = found.group()
        digits = sum(c.isdigit() for c in text)
        if not 7 <= digits <= 15 or DATE.match(text.strip()):
            return text
        return self._placeholder("PHONE", text)

    def _placeholder(self, kind: str, original: str) -> str:
        key = (kind, original.casefold() if kind != "PHONE" else re.sub(r"\D", "", original))
        if key not in self._placeholders:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind} {self._counts[kind]}]"
            self._placeholders[key] = placeholder
            self._originals[placeholder] = original
        return self._placeholders[key]

    def _name_parts(self) -> dict[str, str]:
        """Each full name, and each part of one (a first or last name) that belongs to one person only,
        -> the full name it stands for."""
        found = {name: name for name in self.names}
        owners: dict[str, set[str]] = {}
        for name in self.names:
            for part in name.split():
                if len(part) >= 3 and part[0].isupper():
                    owners.setdefault(part, set()).add(name)
        found.update({part: next(iter(names)) for part, names in owners.items() if len(names) == 1 and part not in found})
        return found


def known_names(names: Iterable[str]) -> list[str]:
    """People's names among `names`: no labels (S1, V3), nothing blank, each once."""
    found: dict[str, None] = {}
    for name in names:
        name = " ".join(str(name or "").split())
        if len(name) >= 2 and not LABEL.match(name):
            found.setdefault(name)
    return list(found)
