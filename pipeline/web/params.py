"""The page's URL parameters and the API's query parameters, generated from the option declarations
(pipeline/finding/options.py): a URL is a shareable search, and a value is refused with the same
words as on the command line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from pipeline.answering.options import ASK, ask_request
from pipeline.config import Settings
from pipeline.errors import UsageError
from pipeline.finding.filters import SearchFilters
from pipeline.finding.options import (
    QUERY,
    SEARCH,
    THEMES,
    SearchRequest,
    ThemesRequest,
    filters_from,
    search_request,
    themes_request,
)
from pipeline.messages import safe
from pipeline.options import Option, parse_all

# Page sizes offered beside search.k.
PAGE_SIZES = (10, 20, 50)
# The filters "Clear filters" removes.
FILTER_KEYS = ("role", "speaker", "company", "segment", "show", "tags", "since", "until", "recording", "language")


@dataclass
class PageRequest:
    """What a page or API call asked for: the parsed values of its options, and the messages of those
    it refused (the page shows them; the API answers 400 with them)."""

    options: Sequence[Option]
    values: dict[str, Any]
    default_k: int
    errors: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        return str(self.values.get("query") or "")

    @property
    def filters(self) -> SearchFilters:
        try:
            return filters_from(self.values)
        except UsageError:
            return SearchFilters()  # refused at parse time: the error is in self.errors

    @property
    def k(self) -> int:
        return int(self.values.get("k") or self.default_k)

    @property
    def every(self) -> bool:
        return bool(self.values.get("every"))

    @property
    def min_recordings(self) -> int:
        return int(self.values.get("min_recordings") or 1)

    @property
    def filtered(self) -> bool:
        return self.filters.where() is not None

    def search(self) -> SearchRequest:
        return search_request(self.values)

    def themes(self) -> ThemesRequest:
        return themes_request(self.values)

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """URL parameters of this request with `changes` applied (by option key or URL name; None drops one)."""
        values = dict(self.values)
        for name, value in changes.items():
            option = next((o for o in self.options if name in (o.key, o.url_name)), None)
            values[option.key if option else name] = value
        pairs: list[tuple[str, str]] = []
        for option in self.options:
            if option.web:
                pairs += [(option.url_name, text) for text in option.format(values.get(option.key))]
        return pairs

    def url(self, path: str = "/", **changes: Any) -> str:
        pairs = self.params(**changes)
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def clear_filters(self, path: str) -> str:
        return self.url(path, **dict.fromkeys(FILTER_KEYS))


def search_params(query_params: Any, settings: Settings) -> PageRequest:
    """The search page's and /api/search's request (an empty query is the page's start, no error)."""
    return parse_request(SEARCH, query_params, settings, search_request)


def themes_params(query_params: Any, settings: Settings) -> PageRequest:
    return parse_request(THEMES, query_params, settings, themes_request)


def ask_params(query_params: Any, settings: Settings) -> PageRequest:
    """The Ask box's and POST /api/ask's request; its question is values["question"]."""
    return parse_request(ASK, query_params, settings, ask_request)


class Values(dict[str, list[str]]):
    """URL parameters, a form or a JSON object's values as one multi-dict (what parse_request reads)."""

    def getlist(self, name: str) -> list[str]:
        return self.get(name, [])


def body_values(query_params: Any, content_type: str, body: bytes) -> Values:
    """A POST's values: its URL parameters, then its form (application/x-www-form-urlencoded) or JSON
    object ({"q": "...", "tag": ["a", "b"], "extractive": true}), which win; a UsageError for a
    body that is neither."""
    import json
    from urllib.parse import parse_qs

    values = Values({name: list(query_params.getlist(name)) for name in query_params.keys()})
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return values
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise UsageError('the body is not a JSON object; send {"q": "your question"} and the filters by name')
        values.update({str(k): [_text(v) for v in (v if isinstance(v, list) else [v])] for k, v in data.items()})
    elif kind in ("application/x-www-form-urlencoded", ""):
        values.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        raise UsageError(f"a body of type {safe(kind)} is not read; send JSON or a form")
    return values


def _text(value: object) -> str:
    """A JSON value as the text a URL parameter would carry: true -> 1, null -> ''."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def require_query(request: PageRequest) -> None:
    """The API's rule: a search needs a query, refused with the command line's words."""
    if not request.query:
        request.errors.insert(0, f"{QUERY.name}: {QUERY.missing}")


def parse_request(
    options: Sequence[Option], query_params: Any, settings: Settings, build: Callable[[dict[str, Any]], object]
) -> PageRequest:
    """From a multi-dict of URL parameters (Starlette's QueryParams): every option's value, and the
    messages of those refused, each one printable line (a newline in ?k= would split the page's alert).
    `build` makes the command's request from the values (and refuses what the options' rules between
    each other refuse); any command's page or API route parses its declared options with this."""
    offered = [replace(o, required=False) for o in options if o.web]
    values, errors = parse_all(offered, {o.url_name: query_params.getlist(o.url_name) for o in offered})
    request = PageRequest(options=offered, values=values, default_k=settings.search.k, errors=errors)
    if not errors:
        try:
            build(values)  # the rules between options (since before until, --all without k)
        except UsageError as exc:
            request.errors.append(str(exc))
    request.errors = [safe(error) for error in request.errors]
    return request


def openapi(options: Sequence[Option]) -> list[dict[str, Any]]:
    """The OpenAPI description of `options` as query parameters (FastAPI's `openapi_extra`)."""
    return [_openapi_parameter(option) for option in options if option.web]


def openapi_body(options: Sequence[Option]) -> dict[str, Any]:
    """The OpenAPI request body of a POST that takes `options` as a JSON object or a form."""
    properties = {p["name"]: {**p["schema"], "description": p["description"]} for p in openapi(options)}
    required = [option.url_name for option in options if option.web and option.required]
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "required": False,
        "content": {"application/json": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}},
    }


def _openapi_parameter(option: Option) -> dict[str, Any]:
    rule = option.rule
    schema: dict[str, Any] = {"type": {"int": "integer", "float": "number", "flag": "boolean"}.get(option.kind, "string")}
    if option.kind == "date":
        schema["format"] = "date"
    if rule.choices:
        schema["enum"] = list(rule.choices)
    if rule.low is not None and rule.high is not None:
        schema |= {"minimum": rule.low, "maximum": rule.high}
    if option.multiple:
        schema = {"type": "array", "items": schema}
    return {
        "name": option.url_name,
        "in": "query",
        "required": option.required,
        "description": option.help_text(),
        "schema": schema,
        **({"style": "form", "explode": True} if option.multiple else {}),
    }
