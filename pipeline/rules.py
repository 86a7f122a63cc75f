"""What a value must be: a type, bounds, choices, a length. Declared once on a setting's dataclass
field (`setting`) or on a user option (pipeline/options.py), and checked by `Rule.check`, so that the
config file, HEARD_* variables, command-line flags, the web page and the API refuse the same values
with the same words."""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, HeardError

_TYPE_NAMES: dict[type, str] = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


@dataclass(frozen=True)
class Rule:
    kind: type  # str, int, float or bool
    optional: bool = False  # null (None) allowed
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    length: tuple[int, int] | None = None  # characters, for text
    extra: Callable[[Any, str], None] | None = None  # a further check: raises ConfigError

    def bounds_text(self) -> str:
        """'1 to 1000'."""
        low, high = (_number_text(b) for b in (self.low, self.high))
        return f"{low} to {high}"

    def check(self, value: Any, where: str, error: type[HeardError] = ConfigError) -> Any:
        """`value` converted to the declared type (an int where a float is declared), or `error`
        naming `where`."""
        if value is None:
            if self.optional:
                return None
            raise error(f"{where}: expected {_TYPE_NAMES.get(self.kind, self.kind.__name__)}, got null; give it a value")
        value = self._typed(value, where, error)
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            raise error(f"{where}: {_number_text(value)} is out of range; give {self.bounds_text()}")
        if self.choices and value not in self.choices:
            raise error(f"{where}: '{value}' is not one of {', '.join(self.choices)}")
        if self.length and not self.length[0] <= len(value) <= self.length[1]:
            raise error(f"{where}: give {self.length[0]} to {self.length[1]} characters, got {len(value)}")
        if self.extra is not None:
            self.extra(value, where)
        return value

    def _typed(self, value: Any, where: str, error: type[HeardError]) -> Any:
        expected = _TYPE_NAMES.get(self.kind, self.kind.__name__)
        if self.kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise error(f"{where}: expected a finite number, got {value!r}")
            return float(value)
        if not isinstance(value, self.kind) or (isinstance(value, bool) and self.kind is not bool):
            raise error(f"{where}: expected {expected}, got {value!r}")
        return value


def _number_text(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


def setting(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] = (),
    length: tuple[int, int] | None = None,
    check: Callable[[Any, str], None] | None = None,
) -> Any:
    """A settings dataclass field with its rule: `count: int | None = setting(None, low=1, high=8)`."""
    metadata = {"low": low, "high": high, "choices": tuple(choices), "length": length, "extra": check}
    return dataclasses.field(default=default, metadata=metadata)


def rule_of(section: type, found: dataclasses.Field[Any]) -> Rule:
    """The Rule declared on one field of a settings dataclass."""
    hint = typing.get_type_hints(section)[found.name]
    types = typing.get_args(hint) or (hint,)
    kind = next(t for t in types if t is not type(None))
    meta = found.metadata
    return Rule(
        kind=kind,
        optional=type(None) in types,
        low=meta.get("low"),
        high=meta.get("high"),
        choices=meta.get("choices") or (),
        length=meta.get("length"),
        extra=meta.get("extra"),
    )


def server_url(url: str, where: str) -> None:
    """A Chroma server's address: http(s)://host[:port]."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        ok = False
    if not ok:
        raise ConfigError(f"{where}: '{url}' is not a server address; write it as http://host:port or https://host:port")


# Byte-order marks and the encodings they announce (Notepad saves "Unicode" as UTF-16 with a BOM).
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_text_file(path: Path) -> str:
    """A settings or metadata file's text: UTF-8, or UTF-16 / UTF-8 with a byte-order mark; anything
    else is a ConfigError naming the file and the fix."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); check the path and its permissions") from exc
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
