"""The search page's URL parameters <-> a query and SearchFilters, so a URL is a shareable search."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pipeline.finding.filters import SearchFilters
from pipeline.indexing.roles import ROLES
from pipeline.messages import safe

PAGE_SIZES = (10, 20, 50)
TEXT_FILTERS = ("role", "speaker", "company", "segment", "show")


@dataclass
class SearchRequest:
    query: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int = PAGE_SIZES[0]
    every: bool = False  # ?all=1: every quote that answers (search_all), not the best k
    errors: list[str] = field(default_factory=list)

    def params(self, **changes) -> list[tuple[str, str]]:
        """URL parameters of this search, with `changes` applied (a value of None drops one)."""
        values: dict[str, object] = {
            "q": self.query,
            **{key: getattr(self.filters, key) for key in TEXT_FILTERS},
            "tag": list(self.filters.tags),
            "since": self.filters.since.isoformat() if self.filters.since else None,
            "until": self.filters.until.isoformat() if self.filters.until else None,
            "k": self.k if self.k != PAGE_SIZES[0] else None,
            "all": "1" if self.every else None,
        }
        values.update(changes)
        pairs: list[tuple[str, str]] = []
        for key, value in values.items():
            for one in value if isinstance(value, (list, tuple)) else [value]:
                if one not in (None, ""):
                    pairs.append((key, str(one)))
        return pairs

    def url(self, path: str = "/", **changes) -> str:
        pairs = self.params(**changes)
        return f"{path}?{urlencode(pairs)}" if pairs else path

    @property
    def filtered(self) -> bool:
        return self.filters.where() is not None


def parse(params) -> SearchRequest:
    """From a multi-dict of URL parameters (Starlette's QueryParams); bad values become messages."""
    request = SearchRequest(query=(params.get("q") or "").strip())
    values = {}
    for key in TEXT_FILTERS:
        value = (params.get(key) or "").strip()
        values[key] = value or None
    if values["role"] and values["role"] not in ROLES:
        request.errors.append(f"role '{values['role']}' is not one of {', '.join(ROLES)}")
        values["role"] = None
    # Repeated (?tag=a&tag=b) or comma separated (the form's one box): every tag must be present.
    tags = tuple(t.strip() for value in params.getlist("tag") for t in value.split(",") if t.strip())
    dates: dict[str, datetime.date | None] = {}
    for key in ("since", "until"):
        raw = (params.get(key) or "").strip()
        dates[key] = None
        if raw:
            try:
                dates[key] = datetime.date.fromisoformat(raw)
            except ValueError:
                request.errors.append(f"{key} '{raw}' is not a date; use YYYY-MM-DD, e.g. 2024-03-31")
    request.filters = SearchFilters(
        tags=tags,
        role=values["role"],
        speaker=values["speaker"],
        company=values["company"],
        segment=values["segment"],
        show=values["show"],
        since=dates["since"],
        until=dates["until"],
    )
    request.every = (params.get("all") or "").strip().lower() in ("1", "true", "yes", "on")
    raw_k = params.get("k")
    if raw_k:
        try:
            request.k = max(1, min(int(raw_k), 200))
        except ValueError:
            request.errors.append(f"k '{raw_k}' is not a number of results")
    # The messages quote what was typed: one printable line each, as every message (a newline in
    # ?k= would otherwise split the page's alert and forge a line in a log).
    request.errors = [safe(error) for error in request.errors]
    return request


def min_recordings(params, request: SearchRequest) -> int:
    """The themes page's "in at least N recordings" (?min=N); a bad value becomes a message."""
    raw = (params.get("min") or "").strip()
    if not raw:
        return 1
    try:
        return max(1, int(raw))
    except ValueError:
        request.errors.append(safe(f"min '{raw}' is not a number of recordings"))
        return 1
