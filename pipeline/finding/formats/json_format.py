"""JSON: what scripts read. Hits as search returns them (heard search --format json), with `url`
where the page that plays the quote is known."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.finding.hits import Hit, RecordingHits

if TYPE_CHECKING:
    from pipeline.finding.themes import Theme


def hit_json(hit: Hit, links: Mapping[str, str] | None) -> dict[str, Any]:
    found = hit.to_dict()
    if links and hit.quote_id in links:
        found["url"] = links[hit.quote_id]
    return found


class JsonWriter:
    def hits(self, hits: list[Hit], *, title: str, links: Mapping[str, str] | None = None) -> str:
        return _dump([hit_json(hit, links) for hit in hits])

    def groups(self, groups: list[RecordingHits], *, title: str, links: Mapping[str, str] | None = None) -> str:
        return _dump([{**g.to_dict(), "hits": [hit_json(hit, links) for hit in g.hits]} for g in groups])

    def themes(
        self, themes: list[Theme], *, title: str, quotes: int | None = None, links: Mapping[str, str] | None = None
    ) -> str:
        """{"themes": [{"label", "recordings", "companies", "quotes": [hit, ...]}, ...]}: every quote."""
        return _dump({"themes": [{**t.to_dict(), "quotes": [hit_json(h, links) for h in t.quotes]} for t in themes]})


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
