"""Interviews in any language: Whisper base detects each recording's language, every chunk records
it, --language filters on it, a question in English finds a Spanish customer's words with
multilingual-e5-small (the hit shows the original words), and --translate adds Whisper's own English
translation of the quote's audio."""

from __future__ import annotations

import json
import re
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_heard

sys.path.insert(0, str(REPO / "scripts"))  # make_examples: the TTS voices and the mixer of turns

# A Spanish interview, spoken by two espeak-ng voices. The customer's answers are about accents
# broken by exports and about support that answers only in English.
SPANISH_TURNS = [
    ("interviewer", "Hola, gracias por tu tiempo. ¿Cuál es el mayor problema con los informes?"),
    (
        "customer",
        "Cuando exportamos el informe mensual a Excel, los acentos salen rotos. "
        "Mi contable tiene que corregir cada nombre a mano, y eso nos cuesta dos días al mes.",
    ),
    ("interviewer", "¿Y qué tal el servicio de atención al cliente?"),
    ("customer", "El soporte solo contesta en inglés, y a veces esperamos tres días por una respuesta."),
]
ACCENTS_QUESTION = "accents come out broken when we export the monthly report to Excel"


def _spanish_interview(folder: Path) -> Path:
    import make_examples

    voices = make_examples.EspeakVoices("es")
    mix, _spans = make_examples.assemble([voices.speak(who, text) for who, text in SPANISH_TURNS], seed=21)
    path = folder / "panaderia-sol.ogg"
    make_examples.encode(mix, path)
    (folder / "panaderia-sol.yaml").write_text("title: Panadería Sol\ncompany: Panadería Sol\nkind: interview\n")
    return path


@pytest.fixture(scope="module")
def multilingual_data(tmp_path_factory, multilingual_e5):
    """A data dir with the Spanish interview and an English one, ingested with Whisper base and
    multilingual-e5-small (scripts/configs/multilingual-e5.yaml, as a user would)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make test installs it with apt-get)")
    root = tmp_path_factory.mktemp("multilingual")
    recordings = root / "recordings"
    recordings.mkdir()
    spanish = _spanish_interview(recordings)
    for name in ("northwind-pricing.ogg", "northwind-pricing.yaml"):
        shutil.copy(EXAMPLES / name, recordings / name)
    config = REPO / "scripts" / "configs" / "multilingual-e5.yaml"
    result = run_heard(["ingest", recordings, "--format", "json"], root / "data", config)
    assert result.exit_code == 0, result.output
    return root / "data", config, spanish


def search(data, *args):
    data_dir, config, _ = data
    result = run_heard(["search", *args, "--format", "json"], data_dir, config)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_whisper_base_detects_each_recordings_language_and_every_chunk_records_it(multilingual_data):
    data_dir, _, spanish = multilingual_data
    languages = {}
    for path in (data_dir / "transcripts").glob("*.json"):
        transcript = json.loads(path.read_text())
        languages[Path(transcript["source"]).name] = transcript["language"]
    assert languages == {spanish.name: "es", "northwind-pricing.ogg": "en"}
    hits = search(multilingual_data, "pricing", "-k", "20")
    assert {Path(h["recording"]).name: h["metadata"]["language"] for h in hits} == {spanish.name: "es", "northwind-pricing.ogg": "en"}


def test_the_language_filter_keeps_one_language(multilingual_data):
    spanish = search(multilingual_data, "what do customers say", "--language", "es", "-k", "20")
    english = search(multilingual_data, "what do customers say", "--language", "EN", "-k", "20")
    assert spanish and all(h["metadata"]["language"] == "es" for h in spanish)
    assert english and all(h["metadata"]["language"] == "en" for h in english)
    data_dir, config, _ = multilingual_data
    assert search(multilingual_data, "what do customers say", "--language", "Spanish", "-k", "20") == spanish
    refused = run_heard(["search", "pricing", "--language", "Spanish!"], data_dir, config)
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == "Error: language: 'Spanish!' is not a language; give its code or name, e.g. es or spanish"


def test_a_question_in_english_finds_the_spanish_customers_own_words(multilingual_data):
    best = search(multilingual_data, ACCENTS_QUESTION, "-k", "1")[0]
    assert best["metadata"]["language"] == "es" and best["role"] == "customer"
    assert "acentos" in best["text"] and "translation" not in best  # the original words, untranslated


def test_translate_adds_whispers_english_for_a_spanish_quote_only(multilingual_data):
    hits = search(multilingual_data, ACCENTS_QUESTION, "--translate", "-k", "5")
    spanish = [h for h in hits if h["metadata"]["language"] == "es"]
    english = [h for h in hits if h["metadata"]["language"] == "en"]
    assert spanish and english
    for hit in spanish:
        assert hit["translation"] and hit["translation"] != hit["text"]
    accents = next(h for h in spanish if "acentos" in h["text"])
    assert re.search(r"\b(export|accents?|Excel)\b", accents["translation"], re.I), accents["translation"]
    assert all("translation" not in h for h in english)  # already in English: nothing to add


def test_the_page_links_a_spanish_quote_to_its_translation(multilingual_data):
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    data_dir, config, _ = multilingual_data
    with RunningServer(load_settings(config, data_dir, environ={})) as server:
        page = _get(f"{server.url}/?q={urllib.request.quote(ACCENTS_QUESTION)}&language=es")
        link = re.search(r'<a class="translate" href="([^"]+)">Translate</a>', page)
        assert link and "translate=1" in link.group(1)
        translated = _get(server.url + link.group(1).replace("&amp;", "&"))
    assert re.search(r'<p class="translation" lang="en"><span class="translation-by">English \(Whisper\):</span> \w', translated)
    assert 'class="translate"' not in translated


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=300) as response:
        return response.read().decode()


# ---- without a model: codes, text detection, metadata, themes' stop words ------------------------------


@pytest.mark.fast
@pytest.mark.parametrize(("given", "code"), [("es", "es"), ("ES", "es"), (" es-MX ", "es"), ("zh_Hant", "zh"), ("German", "de"), ("haitian  creole", "ht"), ("Spanish!", None), ("e", None)])
def test_a_language_is_named_by_its_code(given, code):
    from pipeline.languages import language_code

    assert language_code(given) == code


@pytest.mark.fast
def test_a_transcript_imported_as_text_is_detected_in_its_language(tmp_path):
    from pipeline.sources.importers import import_transcript

    found = {}
    for name, text in {
        "es": "Entrevistador: ¿Cómo va la exportación?\nCliente: Los acentos salen rotos cada vez que exportamos el informe.",
        "de": "Interviewer: Wie klappt der Export?\nKunde: Die Umlaute sind jedes Mal kaputt, wenn wir den Bericht exportieren.",
        "fr": "Intervieweur : Comment se passe l'export ?\nClient : Les accents sont cassés chaque fois que nous exportons le rapport.",
    }.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        transcript = import_transcript(path, recording_id="0" * 16, sha256="0" * 64, source=path, title=name)
        found[name] = transcript.language
        assert len({s.speaker for s in transcript.segments}) == 2  # French's "Client : ..." is a speaker line too
    assert found == {"es": "es", "de": "de", "fr": "fr"}


@pytest.mark.fast
def test_metadata_names_the_language_and_overrides_the_detected_one(tmp_path):
    from pipeline.errors import RecordingError
    from pipeline.indexing.chunking import Chunk
    from pipeline.indexing.roles import label_chunks
    from pipeline.sources.metadata import for_recording
    from pipeline.transcripts import Segment, Transcript

    recording = tmp_path / "call.txt"
    (tmp_path / "call.yaml").write_text("language: PT-br\n")
    meta = for_recording(recording)
    assert meta["language"] == "pt"
    transcript = Transcript("0" * 16, "0" * 64, str(recording), "call", 5.0, "es", {}, [Segment(0, 5, "Olá.")])
    chunk = Chunk("0" * 16, 0, "Olá.", 0, 5, None, "call", str(recording))
    assert label_chunks([chunk], transcript, meta)[0].metadata["language"] == "pt"
    assert label_chunks([chunk], transcript, {})[0].metadata["language"] == "es"  # else the transcript's
    (tmp_path / "call.yaml").write_text("language: Portuguese (Brazil)\n")
    with pytest.raises(RecordingError, match="language 'Portuguese \\(Brazil\\)' is not a language; write its code"):
        for_recording(recording)


@pytest.mark.fast
def test_themes_are_labelled_by_content_words_in_the_corpus_language():
    from pipeline.finding.themes.labels import labels

    texts = [
        "El problema es que la factura llega tarde todos los meses y no sabemos por qué.",
        "Para nosotros la factura es un problema, porque llega con los importes mal.",
        "La factura que recibimos de ustedes no coincide con lo que pagamos.",
        "Exportar a Excel rompe los acentos de los nombres de los clientes.",
        "Cuando intentamos exportar, los acentos de los clientes se rompen siempre.",
        "Al exportar el informe, los acentos se pierden en los nombres.",
    ]
    found = labels(texts, [[0, 1, 2], [3, 4, 5]], ["a", "b", "c", "a", "b", "c"], terms=2, languages={"es"})
    assert found[0].startswith("factura") and found[1].split(", ")[0] in {"acentos", "exportar"}
    assert not {"que", "los", "la", "es"} & {w for label in found for w in re.findall(r"\w+", label)}
