"""Every option a person gives heard, declared once: its name, type, bounds, help and where its
default comes from.

The command line's click options (cli.py), the web page's URL parameters and the JSON API's
documented parameters (web/params.py) are generated from these declarations, and `Option.parse`
turns what was typed into a value with the same error text on all three. Declarations live beside
the stage that uses them (finding/options.py for search and themes); a bound or a choice that a
setting already declares is taken from that setting (config.py), never written again.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline import config
from pipeline.errors import UsageError
from pipeline.rules import Rule

Kind = Literal["text", "int", "float", "date", "choice", "flag"]
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# Line breaks and tabs (a pasted question) are spaces; other control characters and the Unicode
# direction overrides belong in no name, filter or question: each can restyle a terminal, forge a
# log line or turn text around.
_WHITESPACE = re.compile("[\t\n\r\x0b\x0c\u2028\u2029]+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_PYTHON_TYPES: dict[str, type] = {"text": str, "choice": str, "int": int, "float": float, "date": str, "flag": bool}


class OptionError(UsageError):
    """A value an option does not take; the message is the same whichever surface it was typed in."""


@dataclass(frozen=True)
class Option:
    """One user option. `name` is its public spelling: the long flag (--per-recording) and the URL
    parameter (?per-recording=2) unless `param` says otherwise; `dest` its Python name."""

    name: str
    help: str
    kind: Kind = "text"
    flags: tuple[str, ...] = ()  # extra command-line spellings, e.g. ("-k",)
    dest: str = ""
    param: str = ""  # the URL parameter when it is not `name` (the page's ?q=)
    multiple: bool = False  # repeatable; on the web also comma-separated in one value
    choices: tuple[str, ...] = ()  # any case in, as declared out
    setting: str | None = None  # "search.k": the default, bounds and choices come from this setting
    low: float | None = None  # bounds when no setting declares them
    high: float | None = None
    max_length: int = 200  # characters of a text value
    argument: bool = False  # a positional argument on the command line (QUERY)
    required: bool = False
    missing: str = "give a value"  # what the error says when a required option is left out
    cli: bool = True  # offered on the command line
    web: bool = True  # offered on the page and the API
    metavar: str | None = None

    @property
    def key(self) -> str:
        return self.dest or self.name.replace("-", "_")

    @property
    def url_name(self) -> str:
        return self.param or self.name

    @property
    def rule(self) -> Rule:
        """Bounds and choices: the setting's, else the option's own."""
        if self.setting:
            found = config.rule(self.setting)
            return Rule(kind=_PYTHON_TYPES[self.kind], low=found.low, high=found.high, choices=found.choices or self.choices)
        return Rule(kind=_PYTHON_TYPES[self.kind], low=self.low, high=self.high, choices=self.choices)

    def help_text(self) -> str:
        """The help with its bounds and default source, as the command line and the API show it."""
        extra = []
        rule = self.rule
        if rule.low is not None and rule.high is not None:
            extra.append(rule.bounds_text())
        if self.setting:
            extra.append(f"default: {self.setting}")
        return f"{self.help} [{'; '.join(extra)}]" if extra else self.help

    def parse(self, raw: str | None) -> Any:
        """The value of one typed string; None for an absent or blank one (the default applies)."""
        text = _WHITESPACE.sub(" ", raw or "").strip()
        if not text:
            if self.required:
                raise OptionError(f"{self.name}: {self.missing}")
            return None
        if _CONTROL.search(text):
            raise OptionError(f"{self.name}: control characters are not allowed in {_quoted(text)}")
        if len(text) > self.max_length:
            raise OptionError(f"{self.name}: {len(text)} characters; give at most {self.max_length}")
        return _PARSERS[self.kind](self, text)

    def parse_many(self, raws: Iterable[str]) -> tuple[str, ...]:
        """A repeatable text option's values: each repeat, and comma-separated parts of each."""
        parts = [part for raw in raws for part in str(raw).split(",")]
        return tuple(value for value in (self.parse(part) for part in parts) if value is not None)

    def format(self, value: Any) -> list[str]:
        """The URL parameter values that parse back into `value`."""
        if value is None or value == () or value is False:
            return []
        if self.kind == "flag":
            return ["1"]
        if isinstance(value, (list, tuple)):
            return [str(v) for v in value]
        if isinstance(value, datetime.date):
            return [value.isoformat()]
        return [str(value)]


def _quoted(text: str) -> str:
    return repr(text[:40])


def _parse_int(option: Option, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise OptionError(f"{option.name}: '{text}' is not a whole number; give {option.rule.bounds_text()}") from None
    return int(option.rule.check(value, option.name, OptionError))


def _parse_float(option: Option, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"{option.name}: '{text}' is not a number; give {option.rule.bounds_text()}") from None
    return float(option.rule.check(value, option.name, OptionError))


def _parse_date(option: Option, text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{option.name}: '{text}' is not a date; use YYYY-MM-DD, e.g. 2024-03-31") from None


def _parse_choice(option: Option, text: str) -> str:
    choices = option.rule.choices
    found = next((choice for choice in choices if choice.casefold() == text.casefold()), None)
    if found is None:
        raise OptionError(f"{option.name}: '{text}' is not one of {', '.join(choices)}")
    return found


def _parse_flag(option: Option, text: str) -> bool:
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    raise OptionError(f"{option.name}: '{text}' is not one of {', '.join(TRUE_WORDS)} (or {', '.join(FALSE_WORDS)})")


_PARSERS = {
    "text": lambda option, text: text,
    "int": _parse_int,
    "float": _parse_float,
    "date": _parse_date,
    "choice": _parse_choice,
    "flag": _parse_flag,
}


def parse_all(options: Sequence[Option], raw: Mapping[str, Sequence[str]]) -> tuple[dict[str, Any], list[str]]:
    """Every option's value from typed strings keyed by URL name (several for a repeated one), and
    the messages of those that were refused (their values stay None). Unknown names are ignored, as
    browsers and proxies add their own parameters."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for option in options:
        given = list(raw.get(option.url_name) or [])
        try:
            if option.multiple:
                values[option.key] = option.parse_many(given)
            elif option.kind == "flag" and given == [""]:
                values[option.key] = True  # ?all with no value
            else:
                values[option.key] = option.parse(given[-1] if given else None)
        except OptionError as exc:
            values[option.key] = () if option.multiple else None
            errors.append(str(exc))
    return values, errors


def find(options: Sequence[Option], name: str) -> Option:
    return next(option for option in options if option.name == name)


def apply_settings(options: Sequence[Option], values: Mapping[str, Any], settings: config.Settings) -> None:
    """Set each given option's setting for this run, checked as config.yaml's values are."""
    for option in options:
        value = values.get(option.key)
        if option.setting and value is not None:
            settings.put(option.setting, value, where=f"--{option.name}")
