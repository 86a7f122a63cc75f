"""Evidence in a real browser (Debian's Chromium through Playwright, as tests/test_web_browser.py):
Save on a quote, the Collections page, and a downloaded report opened from disk with the network off."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest
import test_web_browser
from conftest import REPO, run_heard
from evidence_helpers import locate
from test_web_browser import search, wait_until_played_from

# The browser and page fixtures of the web tests: the same Chromium, flags and page-error check.
browser = test_web_browser.browser
page = test_web_browser.page

EXPORT = "the download of our records kept failing for big accounts"


@pytest.fixture
def evidence_server(web_data, test_config, tmp_path):
    """A server over a copy of the web data: saving changes the data dir."""
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    data_dir = tmp_path / "data"
    shutil.copytree(web_data.data_dir, data_dir)
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        server.data_dir = data_dir
        yield server


def save_card(card, collection: str) -> str:
    card.locator(".save-quote summary").click()
    card.get_by_label("Collection to save").fill(collection)
    card.get_by_role("button", name="Save", exact=True).click()
    status = card.locator(".save-status")
    status.wait_for()
    return status.inner_text()


def test_save_from_a_search_edit_a_note_reindex_and_the_collection_is_intact(page, evidence_server, web_data, test_config):
    search(page, evidence_server, EXPORT)
    first = page.locator(".card").first
    quote, said = first.locator(".quote").inner_text(), first.get_attribute("data-quote-id")
    assert save_card(first, "Export pain").startswith("Saved to Export pain (1 quote)")

    # From a theme, and words selected on a recording's page: the same collection, offered by name.
    page.goto(evidence_server.url + "/themes")
    theme_card = page.locator(".theme .card").first
    theme_card.locator(".save-quote summary").click()
    assert theme_card.get_by_label("Collection to save").input_value() == "Export pain"  # the last one used
    theme_card.get_by_role("button", name="Save", exact=True).click()
    theme_card.locator(".save-status").wait_for()
    page.goto(f"{evidence_server.url}/recordings/{web_data.ids['acme-export.mp3']}")
    words = page.locator(".transcript .w")
    page.evaluate(
        "([a, b]) => { const r = document.createRange(); r.setStartBefore(a); r.setEndAfter(b);"
        " getSelection().removeAllRanges(); getSelection().addRange(r); }",
        [words.nth(3).element_handle(), words.nth(9).element_handle()],
    )
    bar = page.locator("#save-selection")
    bar.wait_for()
    selected = "".join(words.nth(i).text_content() for i in range(3, 10)).strip()
    assert bar.locator(".selection-text").inner_text() == f"“{selected}”"
    bar.get_by_role("button", name="Save selection").click()
    assert bar.locator(".save-status").inner_text().startswith("Saved to Export pain (3 quotes)")

    # The Collections page: a note and tags, saved by a plain form post.
    page.get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="Export pain").click()
    card = page.locator(f'.card[data-quote-id="{said}"]')
    assert card.locator(".quote").inner_text() == quote
    card.get_by_label(f"Note on {said}").fill("Blocks the board report")
    card.get_by_label(f"Tags of {said}").fill("export, scale")
    card.get_by_role("button", name="Save note and tags").click()
    page.wait_for_load_state()
    shown = [c.get_attribute("data-quote-id") for c in page.locator(".card").all()]
    texts = page.locator(".card .quote").all_inner_texts()
    assert texts[2] == selected and len(shown) == 3

    assert run_heard(["reindex"], evidence_server.data_dir, test_config).exit_code == 0
    page.reload()
    assert [c.get_attribute("data-quote-id") for c in page.locator(".card").all()] == shown
    assert page.locator(".card .quote").all_inner_texts() == texts
    card = page.locator(f'.card[data-quote-id="{said}"]')
    assert card.get_by_label(f"Note on {said}").input_value() == "Blocks the board report"
    assert card.get_by_label(f"Tags of {said}").input_value() == "export, scale"
    start = float(card.get_attribute("data-start"))
    card.get_by_role("button", name="Play from").click()
    wait_until_played_from(card.locator("audio"), start)

    # Renamed, then removed, from the collection's own page.
    page.locator(".manage summary").click()
    page.get_by_label("New name").fill("Exports")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_selector("#collection-title")
    assert page.locator("#collection-title").inner_text() == "Exports" and page.locator(".card").count() == 3
    page.locator(".manage summary").click()
    page.get_by_role("button", name="Remove the collection").click()
    page.wait_for_selector("#no-collections")


def browser_decoded(audio) -> np.ndarray:
    """The clip as the browser decodes it (Web Audio, resampled to 16 kHz mono)."""
    samples = audio.evaluate(
        """async (a) => {
          const data = await (await fetch(a.src)).arrayBuffer();
          const decoded = await new OfflineAudioContext(1, 16000, 16000).decodeAudioData(data);
          return Array.from(decoded.getChannelData(0));
        }"""
    )
    return np.asarray(samples, dtype=np.float32)


def download_report(page, link: str, folder) -> object:
    with page.expect_download() as info:
        page.locator(link).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_a_downloaded_report_plays_from_disk_with_the_network_off_and_its_clip_is_the_recording(
    browser, page, web_server, web_data, tmp_path, request
):
    from pipeline.hearing.audio import decode_audio

    search(page, web_server, EXPORT)
    page.get_by_role("link", name="Show every interview that mentions this").click()
    page.wait_for_selector("#every-count")
    every = page.locator("#every-count").inner_text()
    report = download_report(page, "#report-download", tmp_path)
    assert report.name == "heard-report-the-download-of-our-records-kept-failing-for-big-accounts.html"
    page.goto(web_server.url + "/themes")
    themes = download_report(page, "#report-download", tmp_path)

    offline = browser.new_context(offline=True, viewport={"width": 1000, "height": 1250})
    asked = []

    def nothing_leaves(route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort("internetdisconnected")

    offline.route("**/*", nothing_leaves)
    try:
        opened = offline.new_page()
        opened.goto(report.as_uri())
        assert opened.locator("#filters").inner_text() == "role: customer"
        # docs/evidence.md's picture is rewritten only when asked: `make screenshot`.
        if request.config.getoption("--update-screenshot"):
            opened.screenshot(path=str(REPO / "docs" / "screenshot-report.png"))
        assert opened.locator("#count").inner_text().split(":")[0] == every.split(":")[0]
        quote = opened.locator(".quote", has=opened.locator("audio")).first
        audio = quote.locator("audio")
        audio.evaluate("a => a.play()")
        wait_until_played_from(audio, 0.0)
        # Its audio is the recording's at the quote's second (less the clip's pad, 0.2 s).
        start = float(quote.get_attribute("data-start"))
        recording_id = quote.get_attribute("data-quote-id").rsplit("-", 2)[0]
        source = web_data.recordings / {rid: name for name, rid in web_data.ids.items()}[recording_id]
        at, correlation = locate(browser_decoded(audio), decode_audio(source), around=start - 0.2)
        assert correlation > 0.8, correlation
        assert abs(at - (start - 0.2)) < 0.3, (at, start)

        # The themes' report: Northwind's file was moved away, so its quotes say why they have no clip.
        opened.goto(themes.as_uri())
        assert opened.locator(".quote audio").count() >= 1
        moved = opened.locator(".quote", has=opened.locator(".no-clip"))
        assert moved.count() >= 1 and "is no longer at" in moved.first.locator(".no-clip").inner_text()
        assert not asked, f"the reports asked the network for {asked}"
    finally:
        offline.close()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory, test_config):
    """heard serve over an empty data dir: the forms' checks, with no model loaded."""
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    with RunningServer(load_settings(test_config, tmp_path_factory.mktemp("bare"), environ={})) as server:
        yield server


def post(server, path: str, body: bytes, origin: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(server.url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.fast
@pytest.mark.parametrize("path", ["/collections/save", "/collections/edit", "/collections/unsave", "/collections/rename", "/collections/remove"])
def test_a_form_from_another_site_or_too_large_changes_nothing(bare_server, path):
    assert post(bare_server, path, b"quote_id=x&to=Pricing", origin="http://evil.example")[0] == 403
    assert post(bare_server, path, b"quote_id=x&to=Pricing")[0] == 403  # no Origin or Referer at all
    status, said = post(bare_server, path, b"note=" + b"x" * (65 * 1024), origin=bare_server.url)
    assert status == 413 and "at most 64 KB" in said


@pytest.mark.fast
def test_the_page_refuses_a_name_in_the_same_words_as_the_command_line(bare_server, tmp_path):
    body = b"quote_id=0123456789abcdef-100-200&to=Pricing%1b%5b2J"
    status, said = post(bare_server, "/collections/save", body, origin=bare_server.url)
    cli = run_heard(["save", "0123456789abcdef-100-200", "--to", "Pricing\x1b[2J"], tmp_path)
    assert status == 400 and cli.exit_code == 2
    assert said.split('"detail":"')[1].split("'")[0] == cli.stderr.removeprefix("Error: ").split("'")[0]
