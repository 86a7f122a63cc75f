"""Property tests (hypothesis): whatever a file, a setting or a URL holds, heard either uses it or says
what is wrong with heard's own one-line error. Any other exception is a defect (issue 13).

No model loads here: each property runs the pure steps that follow reading (chunking, labelling,
the Chroma metadata, the Markdown transcript) on what was read.
"""

from __future__ import annotations

import dataclasses
import json
import math
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
    chunks = label_chunks(chunk_transcript(transcript, ChunkingSettings()), transcript, {})
    embedding_texts(chunks)
    for chunk in chunks:
        for value in store._metadata(chunk).values():
            assert isinstance(value, (str, int, float, bool, list)), value
    transcripts.to_markdown(transcript)
    json.dumps(transcript.to_dict())


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
        for key, value in store._metadata(chunk).items():
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


@pytest.fixture(scope="module")
def keyword_index(tmp_path_factory):
    from pipeline.indexing.keyword_index import KeywordIndex

    index = KeywordIndex(tmp_path_factory.mktemp("keywords"))

    class Piece:
        def __init__(self, i, text):
            self.id, self.recording_id, self.text = f"r:{i}", "r", text

    index.rebuild([Piece(i, t) for i, t in enumerate(["The export times out", "Pricing per seat", "NEAR and AND or"])], generation=None)
    yield index
    index.close()


@FAST
@given(query=_QUERY, allowed=st.one_of(st.none(), st.sets(st.sampled_from(["r:0", "r:1", "x"]))))
def test_any_query_is_parsed_and_matched_or_refused(keyword_index, query, allowed):
    from pipeline.finding import query as query_parsing
    from pipeline.indexing.keyword_index import terms

    subject = query_parsing.topic(query)
    assert isinstance(subject, str)
    terms(subject)
    heard_error_or(keyword_index.query, subject, 10, allowed)
    heard_error_or(keyword_index.query_weight, subject)


_FILTER = st.one_of(st.none(), st.text(max_size=15))


@FAST
@given(role=_FILTER, speaker=_FILTER, company=_FILTER, segment=_FILTER, tags=st.lists(st.text(max_size=10), max_size=3),
       since=st.one_of(st.none(), st.dates()), until=st.one_of(st.none(), st.dates()))
def test_any_filters_make_a_store_query(role, speaker, company, segment, tags, since, until):
    from pipeline.finding.filters import SearchFilters

    where = SearchFilters(role=role, speaker=speaker, company=company, segment=segment, tags=tuple(tags),
                          since=since, until=until).where()
    json.dumps(where)


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
                               "token", "x"])
_PARAM_VALUES = st.one_of(st.text(max_size=20), st.sampled_from(["99999999999999999999", "-1", "0", "1e9", "nan", "inf",
                                                                 "2024-13-01", "customer", "  ", "a,b,,c"]))
_PARAMS = st.lists(st.tuples(_PARAM_KEYS, _PARAM_VALUES), max_size=6)


@FAST
@given(pairs=_PARAMS)
@example(pairs=[("k", "\n")])  # found by this property: the message quoted the newline raw
@example(pairs=[("since", "1\n2"), ("min", "x\ny")])
def test_any_url_parameters_parse_to_a_search_or_messages(pairs):
    from starlette.datastructures import QueryParams

    from pipeline.web import params

    request = params.parse(QueryParams(pairs))
    assert 1 <= request.k <= 200
    assert all(isinstance(e, str) and "\n" not in e for e in request.errors)
    json.dumps(request.filters.where())
    request.url("/export.csv")


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
