"""Property tests (hypothesis): whatever a file, a setting or a URL holds, heard either uses it or says
what is wrong with heard's own one-line error. Any other exception is a defect (issue 13). And what
it uses keeps its meaning: a transcript read keeps its words and times through chunking, filters
select exactly the chunks they describe in a real Chroma store, a question's subject is its own last
words, a search's URL parses back to the same search.

No model loads here: each property runs the pure steps that follow reading (chunking, labelling,
the Chroma metadata, the Markdown transcript) on what was read, and vectors are given explicitly.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.errors import HeardError

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

# Noisy shared CPUs: no per-example deadline; the example counts keep the whole file to seconds.
# Function-scoped fixtures (the autouse chdir) hold nothing an example changes.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=_QUIET)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=_QUIET)


def heard_error_or(fn, *args, **kwargs):
    """fn's result, or None when it raised one of heard's own errors (any other exception propagates)."""
    try:
        return fn(*args, **kwargs)
    except HeardError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, f"not a one-line message: {message!r}"
        return None


# ---- transcripts people already have ---------------------------------------------------------------

_NAMES = st.sampled_from(["Dana", "Sam Lee", "Speaker 2", "Dr. O'Neil", "dana", "", "A" * 40])
_TIMES = st.sampled_from(["00:00:01.000", "00:01,500", "1:02:03", "99:99", "00:00:0x", "-1:00", "00:00:01.000000"])
_WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_LINE = st.one_of(
    _WORDS,
    st.builds(lambda n, t: f"{n}: {t}", _NAMES, _WORDS),
    st.builds(lambda n, h, t: f"{n} ({h}): {t}", _NAMES, _TIMES, _WORDS),
    st.builds(lambda h, n, t: f"[{h}] {n}: {t}", _TIMES, _NAMES, _WORDS),
    st.builds(lambda n, h: f"[{n}] {h}", _NAMES, _TIMES),
    st.builds(lambda n, h: f"{n}  {h}", _NAMES, _TIMES),
    st.builds(lambda a, b: f"{a} --> {b}", _TIMES, _TIMES),
    st.builds(lambda n, t: f"<v {n}>{t}</v>", _NAMES, _WORDS),
    st.sampled_from(["WEBVTT", "", "1", "2", "NOTE x", "STYLE", "\ufeffWEBVTT", "-->", "<v>", "<v Dana>"]),
)
_SUBTITLE_TEXT = st.lists(_LINE, max_size=12).map("\n".join)


def _after_reading(transcript) -> None:
    """What ingest does with a transcript before any model runs; all of it must accept what was read."""
    from pipeline import transcripts
    from pipeline.config import ChunkingSettings
    from pipeline.hearing.speakers.diarize import ensure_diarized
    from pipeline.indexing import store
    from pipeline.indexing.chunking import chunk_transcript
    from pipeline.indexing.roles import embedding_texts, label_chunks

    ensure_diarized(transcript, None, num_speakers=None)
    for segment in transcript.segments:
        assert math.isfinite(segment.start) and math.isfinite(segment.end), segment
    chunks = label_chunks(chunk_transcript(transcript, ChunkingSettings()), transcript, {})
    # Chunking (without overlap) loses no word, invents none and keeps their order.
    assert _letters(c.text for c in chunks) == _letters(_spoken(transcript)), (chunks, transcript.segments)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.start <= c.end for c in chunks), chunks
    embedding_texts(chunks)
    for chunk in chunks:
        for value in store.chunk_metadata(chunk).values():
            assert isinstance(value, (str, int, float, bool, list)), value
    transcripts.to_markdown(transcript)
    json.dumps(transcript.to_dict())


def _spoken(transcript):
    """What was said, piece by piece: each segment's words, or its text when it has no word timings."""
    for segment in transcript.segments:
        yield from ([w.text for w in segment.words] if segment.words else [segment.text])


def _letters(texts) -> str:
    return "".join("".join(text.split()) for text in texts)


def _import(tmp_path: Path, name: str, content: str | bytes):
    from pipeline.sources.importers import import_transcript

    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    found = heard_error_or(import_transcript, path, recording_id="0123456789abcdef", sha256="0" * 64, source=path, title="title")
    if found is not None:
        _after_reading(found)
    return found


@pytest.mark.parametrize("extension", [".vtt", ".srt", ".txt"])
@FAST
@given(text=_SUBTITLE_TEXT)
def test_any_subtitle_or_text_file_is_read_or_refused(tmp_path_factory, extension, text):
    _import(tmp_path_factory.mktemp("import"), "call" + extension, text)


@FAST
@given(data=st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("bytes")
    for extension in (".vtt", ".srt", ".txt", ".json"):
        _import(folder, "call" + extension, data)


_JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=True, allow_infinity=True), _WORDS)
_JSON_ANY = st.recursive(_JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(_WORDS, inner, max_size=3)), max_leaves=8)
_NUMBER = st.one_of(st.floats(-1e6, 1e6), st.integers(-10, 10**6), _JSON_ANY)
_WORD = st.fixed_dictionaries({"start": _NUMBER, "end": _NUMBER, "text": st.one_of(_WORDS, _JSON_ANY)},
                              optional={"probability": _NUMBER})
_SEGMENT = st.fixed_dictionaries(
    {"start": _NUMBER, "end": _NUMBER, "text": st.one_of(_WORDS, _JSON_ANY)},
    optional={"speaker": st.one_of(st.none(), _NAMES, _JSON_ANY), "words": st.one_of(st.lists(_WORD, max_size=3), _JSON_ANY)},
)
_HEARD_JSON = st.fixed_dictionaries(
    {"segments": st.one_of(st.lists(_SEGMENT, max_size=4), _JSON_ANY)},
    optional={"recording_id": _JSON_ANY, "audio_sha256": _JSON_ANY, "source": _JSON_ANY, "title": _JSON_ANY,
              "duration": _NUMBER, "language": _JSON_ANY, "transcriber": _JSON_ANY, "schema": _JSON_ANY,
              "diarization": _JSON_ANY},
)


@FAST
@given(data=_HEARD_JSON)
@example(data={"recording_id": "r", "audio_sha256": "s", "source": "x", "title": "t", "duration": 1.0, "language": None,
               "transcriber": {}, "segments": [{"start": "zero", "end": 2.0, "text": "hello"}]})
@example(data={"recording_id": "r", "audio_sha256": "s", "source": "x", "title": "t", "duration": 1.0, "language": None,
               "transcriber": {}, "segments": [{"start": 0.0, "end": 2.0, "text": 5}]})
def test_any_json_transcript_is_read_or_refused(tmp_path_factory, data):
    _import(tmp_path_factory.mktemp("json"), "call.json", json.dumps(data, allow_nan=True))


# ---- metadata: sidecars, folder files, manifests ------------------------------------------------

_YAML_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), _WORDS, st.dates()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_WORDS, inner, max_size=3)), max_leaves=8,
)
_META_KEYS = st.sampled_from(["title", "date", "kind", "company", "segment", "tags", "speakers", "num_speakers",
                              "recordings", "other"])
_META = st.dictionaries(_META_KEYS, _YAML_VALUE, max_size=5)
_YAML_TEXT = st.one_of(
    _META.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    _WORDS,
    st.sampled_from([
        "title: &a [x, *a]",
        "title: [&a [lol, lol], &b [*a, *a], [*b, *b]]",
        "title: !!python/object/apply:os.system ['true']",
        "speakers: {Sam: &r customer, Dana: *r}",
        "tags: !!binary aGVsbG8=",
        "date: 2026-02-30",
        "num_speakers: 1e400",
        "? [a, b]\n: c",
        "title: " + "x" * 100_000,
    ]),
)


def _check_metadata(recording: Path) -> None:
    from pipeline.config import ChunkingSettings
    from pipeline.indexing import store
    from pipeline.indexing.chunking import chunk_transcript
    from pipeline.indexing.roles import label_chunks
    from pipeline.sources import metadata
    from pipeline.transcripts import Segment, Transcript

    meta = heard_error_or(metadata.for_recording, recording)
    if meta is None:
        return
    assert len(json.dumps(meta, default=str)) < 70_000, "metadata larger than any real sidecar"
    metadata.fingerprint(meta)
    transcript = Transcript("0123456789abcdef", "0" * 64, str(recording), "Call", 4.0, None, {"backend": "import"},
                            [Segment(0.0, 2.0, "How is it?", "Dana"), Segment(2.0, 4.0, "It is fine.", "Sam")])
    chunks = label_chunks(chunk_transcript(transcript, ChunkingSettings()), transcript, meta)
    for chunk in chunks:
        for key, value in store.chunk_metadata(chunk).items():
            assert isinstance(value, (str, int, float, bool)) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)), (key, value)


@FAST
@given(sidecar=_YAML_TEXT, folder_file=st.one_of(st.none(), _YAML_TEXT))
def test_any_sidecar_or_folder_file_is_read_or_refused(tmp_path_factory, sidecar, folder_file):
    folder = tmp_path_factory.mktemp("meta")
    (folder / "call.yaml").write_text(sidecar, encoding="utf-8", errors="surrogatepass")
    if folder_file is not None:
        (folder / "heard.yaml").write_text(folder_file, encoding="utf-8", errors="surrogatepass")
    _check_metadata(folder / "call.mp3")


_CELL = st.one_of(_WORDS, st.sampled_from(["call.mp3", "Acme, Inc.", '"quoted, cell"', "2026-01-05", "3", "a;b",
                                           "Dana: interviewer; Sam", '"', "\r", ""]))
_MANIFEST = st.lists(st.lists(_CELL, min_size=1, max_size=5).map(",".join), max_size=5).map(
    lambda rows: "\n".join(rows))


@FAST
@given(header=st.sampled_from(["file,company,date", "file,tags,speakers,num_speakers", "recording,kind", "title", ""]),
       body=_MANIFEST)
@example(header="file,company", body="call.mp3,Acme, Inc.")
def test_any_manifest_is_read_or_refused(tmp_path_factory, header, body):
    folder = tmp_path_factory.mktemp("manifest")
    (folder / "manifest.csv").write_text(f"{header}\n{body}\n", encoding="utf-8", errors="surrogatepass")
    _check_metadata(folder / "call.mp3")


# ---- queries ----------------------------------------------------------------------------------------

_QUERY = st.one_of(
    st.text(max_size=60),
    st.builds(lambda p, t: p + t, st.sampled_from(["what do customers say about ", "feedback on ", "tell me about ",
                                                    "NEAR(", '"', "* OR ", "NOT ", "AND ", "^", "-", "col:"]),
              st.text(max_size=20)),
)


_TEXTS = ["The export times out", "Pricing per seat", "NEAR and AND or", "Exporting the invoices, again and again"]


@pytest.fixture(scope="module")
def keyword_index(tmp_path_factory):
    from pipeline.indexing.keyword_index import KeywordIndex

    index = KeywordIndex(tmp_path_factory.mktemp("keywords"))

    class Piece:
        def __init__(self, i, text):
            self.id, self.recording_id, self.text = f"r:{i}", "r", text

    index.rebuild([Piece(i, t) for i, t in enumerate(_TEXTS)], generation=None)
    yield index
    index.close()


@FAST
@given(query=_QUERY)
@example(query="what do customers say about exporting data")
@example(query="  Feedback on   the mobile app?! ")
@example(query="what do customers say?")
def test_a_questions_subject_is_its_own_last_words(query):
    from pipeline.finding import query as query_parsing

    subject = query_parsing.topic(query)
    if query.strip():
        assert subject.strip(), f"{query!r} has words but an empty subject"
    if subject != query.strip():  # the asking phrase was cut: what is left is the question's last words
        asked = query.strip().rstrip("?.! ").split()
        assert subject.split() == asked[len(asked) - len(subject.split()):], (query, subject)
        assert len(subject.split()) < len(asked), (query, subject)


@FAST
@given(query=_QUERY, allowed=st.one_of(st.none(), st.sets(st.sampled_from(["r:0", "r:1", "r:3", "x"]))))
@example(query="what do customers say about exporting data", allowed=None)
@example(query="export NEAR pricing", allowed={"r:1"})
def test_a_keyword_query_finds_every_chunk_holding_its_words_and_only_allowed_ones(keyword_index, query, allowed):
    from pipeline.finding import query as query_parsing
    from pipeline.indexing.keyword_index import terms

    subject = query_parsing.topic(query)
    words = set(terms(subject))
    hits = heard_error_or(keyword_index.query, subject, 10, allowed)
    assert hits is not None, "a keyword query never fails on what was typed"
    ids = [hit.chunk_id for hit in hits]
    scores = [hit.score for hit in hits]
    assert len(ids) == len(set(ids)) and (allowed is None or set(ids) <= allowed), (ids, allowed)
    assert scores == sorted(scores, reverse=True), "best first"
    # Every chunk holding one of the query's words (as written; the stemmer may find more) is a hit.
    holding = {f"r:{i}" for i, text in enumerate(_TEXTS) if words & set(terms(text))}
    assert holding & (allowed if allowed is not None else holding) <= set(ids), (subject, ids)
    if not words:
        assert ids == []
    weight = heard_error_or(keyword_index.query_weight, subject)
    assert weight is not None and math.isfinite(weight) and (weight > 0) == bool(words), (subject, weight)


# ---- filters against a real store ----------------------------------------------------------------

# A small corpus whose chunks differ in every field a filter reads; vectors are given, so no model.
_RECORDINGS = {
    "rec-a": {"company": "Acme Logistics", "segment": "SMB", "date": "2026-01-05", "tags": ["pricing", "Churn"]},
    "rec-b": {"company": "acme logistics", "segment": "Enterprise", "date": "2026-03-14", "tags": ["pricing"],
              "show": "Builders & Buyers", "kind": "podcast"},
    "rec-c": {"company": "Northwind Studio", "date": "2025-12-31", "tags": ["onboarding", "SSO"]},
    "rec-d": {},
}
_SPEAKERS = [("Dana Whitfield", "interviewer"), ("Priya Shah", "customer"), ("priya shah", "guest"), (None, None)]


def _corpus_chunks():
    from pipeline.indexing.chunking import Chunk

    return {
        recording_id: [Chunk(recording_id, n, f"{recording_id} line {n}", n * 5.0, n * 5.0 + 4.0, speaker,
                             recording_id.title(), f"/calls/{recording_id}.mp3", role, dict(meta))
                       for n, (speaker, role) in enumerate(_SPEAKERS)]
        for recording_id, meta in _RECORDINGS.items()
    }


@pytest.fixture(scope="module")
def filter_store(tmp_path_factory):
    import numpy as np

    from pipeline.indexing.store import Store

    store = Store(tmp_path_factory.mktemp("filters") / "index", "chunks")
    rng = np.random.default_rng(0)
    for recording_id, chunks in _corpus_chunks().items():
        vectors = rng.normal(size=(len(chunks), 8)).astype(np.float32)
        store.replace_recording(recording_id, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    yield store
    store.close()


def _described_by(filters, chunk) -> bool:
    """What the filters mean, written out: every given condition holds; text matches ignore case; a
    date bound leaves out recordings without a date."""
    meta = chunk.metadata

    def same(wanted, have):
        return not wanted or (have is not None and wanted.casefold() == have.casefold())

    day = meta.get("date")
    return (same(filters.role, chunk.role) and same(filters.speaker, chunk.speaker)
            and same(filters.company, meta.get("company")) and same(filters.segment, meta.get("segment"))
            and same(filters.show, meta.get("show"))
            and all(tag.casefold() in [t.casefold() for t in meta.get("tags", [])] for tag in filters.tags)
            and (filters.since is None or (day is not None and str(filters.since) <= day))
            and (filters.until is None or (day is not None and day <= str(filters.until)))
            and (filters.recording is None or filters.recording == chunk.recording_id))


def _recased(value: str):
    return st.sampled_from([value, value.upper(), value.lower(), value.title(), f" {value}"])


# How each condition is drawn: mostly absent or the anchor chunk's own value, so that the filters
# often describe some chunks and every condition is often the one that decides.
_MODES = st.sampled_from(["absent"] * 4 + ["anchor"] * 4 + ["corpus", "other"])


def _condition(draw, anchor_value, corpus_values, other=st.text(max_size=8)):
    mode = draw(_MODES)
    if mode == "absent" or (mode == "anchor" and not anchor_value):
        return None
    if mode == "anchor":
        return draw(_recased(anchor_value))
    return draw(st.sampled_from(corpus_values).flatmap(_recased) if mode == "corpus" else other)


def _day(draw, anchor_day):
    mode = draw(_MODES)
    if mode == "absent" or (mode == "anchor" and not anchor_day):
        return None
    if mode == "anchor":
        return datetime.date.fromisoformat(anchor_day) + datetime.timedelta(days=draw(st.sampled_from([-1, 0, 0, 1])))
    return draw(st.dates(min_value=datetime.date(2025, 12, 1), max_value=datetime.date(2026, 4, 1)))


@st.composite
def _filters(draw):
    """SearchFilters built around one chunk of the corpus, whose own values each condition may use."""
    from pipeline.finding.filters import SearchFilters

    anchor = draw(st.sampled_from([c for chunks in _corpus_chunks().values() for c in chunks]))
    meta = anchor.metadata
    tags = [_condition(draw, tag, ["pricing", "churn", "sso"]) for tag in draw(
        st.lists(st.sampled_from(meta.get("tags") or [""]), max_size=2))]
    return SearchFilters(
        role=_condition(draw, anchor.role, ["customer", "interviewer", "guest", "host"]),
        speaker=_condition(draw, anchor.speaker, ["Priya Shah", "Dana Whitfield"]),
        company=_condition(draw, meta.get("company"), ["Acme Logistics", "Northwind Studio"]),
        segment=_condition(draw, meta.get("segment"), ["SMB", "Enterprise"]),
        show=_condition(draw, meta.get("show"), ["Builders & Buyers"]),
        tags=tuple(tag for tag in tags if tag),
        since=_day(draw, meta.get("date")),
        until=_day(draw, meta.get("date")),
        recording=_condition(draw, anchor.recording_id, sorted(_RECORDINGS), other=st.just("rec-x")),
    )


def _example(**conditions):
    from pipeline.finding.filters import SearchFilters

    return example(filters=SearchFilters(**conditions))


@FAST
@given(filters=_filters())
@_example()
@_example(tags=("Pricing", "CHURN"))
@_example(role="CUSTOMER", company="acme LOGISTICS")
@_example(since=datetime.date(2026, 1, 5), until=datetime.date(2026, 3, 14))
@_example(show="builders & buyers", speaker="PRIYA SHAH")
@_example(recording="rec-c", segment="smb")
def test_filters_select_exactly_the_chunks_they_describe(filter_store, filters):
    expected = {c.id for chunks in _corpus_chunks().values() for c in chunks if _described_by(filters, c)}
    assert filter_store.ids_where(filters.where()) == expected, filters


# ---- settings from the environment -----------------------------------------------------------------

_ENV_VALUE = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["null", "~", "", "true", "no", "0", "-1", "3", "1e400", ".nan", ".inf", "-.inf", "[1", "{a: 1}",
                     "[1, 2]", "2026-01-01", "http://admin:secret@host:1", "123", "!!binary aGk=", "&a x", "'7'"]),
)


def _typed_fields():
    from pipeline import config

    for section in dataclasses.fields(config.Settings):
        if section.name in ("data_dir", "config_file"):
            continue
        cls = typing.get_type_hints(config.Settings)[section.name]
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            yield section.name, f.name, hints[f.name]


TYPED_FIELDS = list(_typed_fields())


def _holds(value, hint) -> bool:
    args = typing.get_args(hint)
    if args:  # X | None
        return any(_holds(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, float) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


@SLOW
@given(field=st.sampled_from(TYPED_FIELDS), value=_ENV_VALUE)
@example(field=("speakers", "count", int | None), value="three")
@example(field=("store", "url", str | None), value="123")
@example(field=("search", "k", int), value="null")
def test_any_environment_value_gives_a_typed_setting_or_a_config_error(test_config, tmp_path_factory, field, value):
    from pipeline.config import load_settings

    section, key, hint = field
    name = f"HEARD_{section}_{key}".upper()
    found = heard_error_or(load_settings, test_config, tmp_path_factory.getbasetemp(), environ={name: value})
    if found is not None:
        got = getattr(getattr(found, section), key)
        assert _holds(got, hint), f"{name}={value!r} gave {got!r}, not {hint}"


# ---- the web page's parameters ----------------------------------------------------------------------

_PARAM_KEYS = st.sampled_from(["q", "k", "role", "speaker", "company", "segment", "tag", "since", "until", "t", "end",
                               "token", "x", "all", "per-recording", "recording", "show"])
_PARAM_VALUES = st.one_of(st.text(max_size=20), st.sampled_from(["99999999999999999999", "-1", "0", "1e9", "nan", "inf",
                                                                 "2024-13-01", "customer", "  ", "a,b,,c"]))
_PARAMS = st.lists(st.tuples(_PARAM_KEYS, _PARAM_VALUES), max_size=6)


@FAST
@given(pairs=_PARAMS)
@example(pairs=[("k", "\n")])  # found by this property: the message quoted the newline raw
@example(pairs=[("since", "1\n2"), ("min-recordings", "x\ny")])
def test_any_url_parameters_parse_to_a_search_or_messages(pairs):
    from starlette.datastructures import QueryParams

    from pipeline.config import MAX_K, Settings
    from pipeline.web import params

    request = params.search_params(QueryParams(pairs), Settings())
    assert 1 <= request.k <= MAX_K
    assert all(isinstance(e, str) and "\n" not in e for e in request.errors)
    request.url("/export.csv")
    # A search's own address (what the page links and shares) parses back to the same search, cleanly.
    again = params.search_params(QueryParams(request.params()), Settings())
    assert (again.query, again.filters, again.k, again.every, again.errors) == (
        request.query, request.filters, request.k, request.every, []), (pairs, request.params())
    # What was asked for is what is searched: a valid value given once is kept as typed (trimmed,
    # line breaks read as spaces); a value that was refused is named in a message instead.
    given_once = {key: value for key, value in pairs if [k for k, _ in pairs].count(key) == 1}
    if request.errors:
        return
    if given_once.get("q") is not None:
        assert request.query == as_typed(given_once["q"])
    for key in ("speaker", "company", "segment"):
        if as_typed(given_once.get(key) or ""):
            assert getattr(request.filters, key) == as_typed(given_once[key]), (key, pairs)


def as_typed(value: str) -> str:
    """A typed value as options read it: line breaks and tabs are spaces, the ends trimmed."""
    return re.sub("[\t\n\r\x0b\x0c\u2028\u2029]+", " ", value).strip()


@pytest.fixture(scope="module")
def page_server(tmp_path_factory, test_config):
    """heard serve over a data dir with one transcript and no index: pages, no model."""
    from web_fixtures import RunningServer

    from pipeline import transcripts
    from pipeline.config import load_settings
    from pipeline.transcripts import Segment, Transcript

    data_dir = tmp_path_factory.mktemp("pages")
    transcripts.save(Transcript("0123456789abcdef", "0" * 64, str(data_dir / "gone.mp3"), "Call", 4.0, None,
                                {"backend": "import"}, [Segment(0.0, 4.0, "It is fine.", "Sam")]),
                     data_dir / "transcripts")
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        yield server


@SLOW
@given(path=st.sampled_from(["/", "/api/search", "/export.csv", "/export.md", "/recordings/0123456789abcdef",
                             "/recordings", "/api/recordings"]), pairs=_PARAMS)
def test_no_url_parameters_make_the_server_fail(page_server, path, pairs):
    import http.client
    from urllib.parse import urlencode

    conn = http.client.HTTPConnection("127.0.0.1", page_server.port, timeout=60)
    try:
        conn.request("GET", f"{path}?{urlencode(pairs)}")
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status < 500, (path, pairs, response.status)


# ---- every name a user sets ------------------------------------------------------------------------------
# A voice's name (`heard speakers name`, the page's rename form) and a speaker's name in a sidecar follow
# one rule: stored as typed (trimmed) when it is one line of at most 200 characters of text, else refused
# with heard's one-line error and nothing saved; and `heard speakers` prints one line per voice whatever
# was stored. (Feed names follow the same rule in the feeds tests; collection names in the evidence ones.)

_NAME_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["Dana", " ", "\x1b]0;pwned\x07", "\x1b[2J", "\n", "\r\nV9 Fake", "\t", "\u202e", "\u2028", "\x00",
                     "\x7f", "\x9b", "李", "محمد", "👩🏽‍💻", "\u200d", "O'Neil", "-", "=1+1", "x" * 190]),
)
_USER_NAMES = st.lists(_NAME_PIECES, max_size=4).map("".join)


def _name_is_acceptable(name: str) -> bool:
    from pipeline.messages import NAME_MAX

    return 0 < len(name) <= NAME_MAX and name == name.strip() and not _controls(name)


def _one_line_per_voice(data_dir) -> None:
    from conftest import run_heard

    listing = run_heard(["speakers"], data_dir)
    assert listing.exit_code == 0, listing.output
    assert len(listing.stdout.splitlines()) == 2
    assert not any(_controls(line) for line in listing.stdout.splitlines()), listing.stdout


def _controls(text: str) -> list[str]:
    """Characters that act on a terminal or a line rather than show: controls, line and paragraph
    separators, direction controls."""
    import unicodedata

    direction = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
    return [c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") or c in direction]


@pytest.fixture(scope="module")
def named_voices(tmp_path_factory):
    from test_names import interview_data_dir

    return interview_data_dir(tmp_path_factory.mktemp("names"))


@SLOW
@given(name=_USER_NAMES)
@example(name="Dana\x1b]0;pwned\x07\x1b[2J\nV9 Fake 99 recordings")
@example(name="   ")
@example(name="x" * 201)
def test_any_name_given_on_the_command_line_is_stored_as_typed_or_refused(named_voices, name):
    from conftest import run_heard
    from test_names import listing, saved_names

    voice = sorted(listing(named_voices))[0]
    before = saved_names(named_voices)
    result = run_heard(["speakers", "name", voice, "--", name], named_voices)  # `--`: a name may start with -
    if result.exit_code == 0:
        assert saved_names(named_voices)[voice] == name.strip() and _name_is_acceptable(name.strip())
    else:
        message = result.stderr.strip()
        assert result.exit_code == 2 and message and "\n" not in message and not _controls(message), result.output
        assert saved_names(named_voices) == before
    _one_line_per_voice(named_voices)


@pytest.fixture(scope="module")
def rename_server(tmp_path_factory):
    from test_names import interview_data_dir
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    data_dir = interview_data_dir(tmp_path_factory.mktemp("form"))
    with RunningServer(load_settings(None, data_dir, environ={})) as server:
        yield server, data_dir


@SLOW
@given(name=_USER_NAMES)
@example(name="Dana\x1b]0;pwned\x07")
def test_any_name_given_in_the_rename_form_is_stored_as_typed_or_refused(rename_server, name):
    import http.client
    from urllib.parse import urlencode

    from test_names import RECORDING_ID, saved_names, voice_of_label

    server, data_dir = rename_server
    voice = voice_of_label(data_dir, "S1")
    before = saved_names(data_dir)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", f"/recordings/{RECORDING_ID}/speakers", body=urlencode({"label": "S1", "name": name}),
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.url})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status == 303:  # an empty field gives no name
        assert saved_names(data_dir)[voice] == (name.strip() or None) and (name == "" or _name_is_acceptable(name.strip()))
    else:
        assert response.status == 400 and saved_names(data_dir) == before, (response.status, name)
    _one_line_per_voice(data_dir)


@FAST
@given(name=_USER_NAMES)
def test_any_speaker_name_in_a_sidecar_is_read_as_typed_or_refused(tmp_path_factory, name):
    from pipeline.sources.metadata import for_recording

    folder = tmp_path_factory.mktemp("sidecar")
    recording = folder / "call.mp3"
    recording.write_bytes(b"")
    (folder / "call.yaml").write_text(yaml.safe_dump({"speakers": [{"name": name, "role": "customer"}]}), encoding="utf-8")
    found = heard_error_or(for_recording, recording)
    if found is not None:
        assert found["speakers"] == [{"name": name.strip(), "role": "customer"}] and _name_is_acceptable(name.strip())
