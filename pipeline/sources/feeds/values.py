"""The values a feed writes as text: dates (RFC 822 or ISO 8601), durations, numbers."""

from __future__ import annotations

import datetime
import email.utils


def date(value: str | None) -> datetime.datetime | None:
    """RFC 822 (RSS), ISO 8601 (Atom, and RSS feeds that use it); None when neither reads."""
    if not value:
        return None
    parsed: datetime.datetime | None = None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def duration(value: str | None) -> float | None:
    """itunes:duration as seconds: "45:10", "1:02:03", "2710", "2710.5"."""
    if not value:
        return None
    parts = value.strip().split(":")
    if len(parts) > 3:
        return None
    try:
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def integer(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def number(value: str | None) -> float | None:
    try:
        number = float(str(value).strip()) if value is not None else None
    except ValueError:
        return None
    return number
