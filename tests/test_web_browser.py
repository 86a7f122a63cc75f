"""heard serve in a real browser: Debian's Chromium driven by Playwright.

The browser is the system's /usr/bin/chromium (`make test` installs it with apt-get); Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import urllib.parse

import pytest
from conftest import REPO
from web_fixtures import INJECTED

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         # Tests press play without a sound card; muted autoplay rules must not stop them.
         "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
SCREENSHOT = REPO / "docs" / "screenshot-results.png"
QUERY = "the download of our records kept failing for big accounts"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def search(page, server, query: str) -> None:
    page.goto(server.url + "/")
    page.get_by_role("searchbox").fill(query)
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_selector(".card")


def card_texts(page) -> list[str]:
    return page.locator(".card .quote").all_inner_texts()


# Where playback started, read from the media element's `played` ranges: the span of media it has
# actually played, which begins where it was asked to start whatever the machine's speed (checking
# currentTime against a window would depend on how soon the check runs).
PLAYED_FROM = """([a, s]) => {
  for (let i = 0; i < a.played.length; i++) {
    if (Math.abs(a.played.start(i) - s) < 0.25 && a.played.end(i) > a.played.start(i)) return true;
  }
  return false;
}"""


def wait_until_played_from(audio, start: float) -> None:
    """The player plays (not paused, not ended by an error) and what it played begins at `start`:
    it was seeked to the quote before playing, and the audio has moved on from there."""
    audio.page.wait_for_function(f"([a, s]) => !a.error && ({PLAYED_FROM})([a, s])",
                                 arg=[audio.element_handle(), start], timeout=30000)
    assert audio.evaluate("a => a.played.start(0)") >= start - 0.25, "it played from before the quote first"


def test_search_then_play_starts_the_audio_at_the_quotes_start(page, web_server, web_data, truth, request):
    search(page, web_server, QUERY)
    first = page.locator(".card").first
    assert "times out" in first.locator(".quote").inner_text()
    assert first.get_attribute("data-recording") == web_data.ids["acme-export.mp3"]
    assert first.locator(".title").inner_text() == "Exporting data for the quarterly board report"  # its sidecar title
    start = float(first.get_attribute("data-start"))
    answer = next(t for t in truth["acme-export.mp3"]["turns"] if "times out" in t["text"])
    # The quote is the answering sentence, timed by its own words: inside the answer's turn.
    assert answer["start"] - 1.0 <= start < answer["end"]
    assert f"q={urllib.parse.quote_plus(QUERY)}" in page.url

    # The README's picture is rewritten only when asked: `make screenshot`.
    if request.config.getoption("--update-screenshot"):
        page.screenshot(path=str(SCREENSHOT))

    first.get_by_role("button", name="Play from").click()
    # Playing from the quote: what the player played begins at the quote's start and moves on.
    wait_until_played_from(first.locator("audio"), start)


def test_play_works_for_every_container_the_examples_use(page, web_server):
    # m4a (AAC in MP4) from Brightside; mp3 is covered above.
    search(page, web_server, "single sign on configuration was confusing")
    card = page.locator(".card", has=page.locator(".title", has_text="Onboarding a new team")).first
    start = float(card.get_attribute("data-start"))
    card.get_by_role("button", name="Play from").click()
    wait_until_played_from(card.locator("audio"), start)


def test_share_link_opens_the_same_filtered_results_in_a_fresh_page(browser, page, web_server):
    page.goto(web_server.url + "/")
    page.get_by_role("searchbox").fill("getting the team set up")
    page.locator("summary").click()
    page.get_by_label("Role").select_option("customer")
    page.get_by_label("Company").fill("Brightside Health")
    page.get_by_label("Company").press("Enter")
    page.wait_for_selector(".card")
    shared = page.url
    expected = card_texts(page)
    assert expected and all(r == "customer" for r in page.locator(".card .role").all_inner_texts())
    assert set(page.locator(".card .speaker").all_inner_texts()) == {"Priya"}
    assert "role=customer" in shared and "company=Brightside+Health" in shared

    fresh = browser.new_context()
    try:
        other = fresh.new_page()
        other.goto(shared)
        assert card_texts(other) == expected
        assert other.get_by_label("Role").input_value() == "customer"
        assert other.get_by_label("Company").input_value() == "Brightside Health"
    finally:
        fresh.close()


def test_export_csv_downloads_the_results_shown(page, web_server):
    search(page, web_server, QUERY)
    shown = card_texts(page)
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [r["text"] for r in rows] == shown
    assert all(r["url"].startswith(web_server.url + "/recordings/") for r in rows)
    assert {"quote_id", "text", "speaker", "title", "recording", "timestamp", "url"} <= rows[0].keys()


def test_recording_page_highlights_the_quote_and_seeks_when_a_line_is_clicked(page, web_server):
    search(page, web_server, QUERY)
    first = page.locator(".card").first
    quote_start = float(first.get_attribute("data-start"))
    first.locator(".timestamp").click()
    page.wait_for_selector(".transcript .line.quote")
    highlighted = page.locator(".line.quote").first
    assert abs(float(highlighted.get_attribute("data-start")) - quote_start) < 1.0
    assert "times out" in " ".join(page.locator(".line.quote").all_inner_texts())
    # Scrolled into view and the player waiting at the quote.
    assert highlighted.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    player = page.locator("#player")
    page.wait_for_function("([a, s]) => a.readyState >= 1 && Math.abs(a.currentTime - s) < 0.5",
                           arg=[player.element_handle(), quote_start], timeout=20000)

    last = page.locator(".transcript .line").last
    line_start = float(last.get_attribute("data-start"))
    last.click()
    wait_until_played_from(player, line_start)


def test_markup_in_a_transcript_is_shown_as_text_and_never_runs(page, web_server, web_data):
    # An inline script runs while the page is parsed, an image's onerror before the page's load
    # event: once "load" has fired, either would have set window.pwned, however slow the machine
    # (a fixed wait would not say that). Each page is checked, as each navigation starts afresh.
    search(page, web_server, "single sign on was our problem")
    page.wait_for_load_state("load")
    assert any(INJECTED in text for text in page.locator(".card blockquote").all_inner_texts())
    assert page.evaluate("window.pwned") is None
    assert page.locator(".card script, .card img").count() == 0
    page.goto(f"{web_server.url}/recordings/{web_data.ids['brightside-onboarding.m4a']}", wait_until="load")
    assert INJECTED in page.locator(".transcript").inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.locator(".transcript script, .transcript img").count() == 0


def test_themes_view_plays_a_quote_filters_by_company_and_links_to_search(page, web_server):
    page.goto(web_server.url + "/")
    page.get_by_role("link", name="Themes").click()
    page.wait_for_selector(".theme")
    themes = page.locator(".theme")
    assert themes.count() >= 3
    assert "themes" in page.locator("#theme-count").inner_text()
    counts = page.locator(".theme-counts").all_inner_texts()
    assert all(re.match(r"\d+ recordings?, \d+ compan(y|ies), \d+ quotes?", c) for c in counts), counts

    # A quote plays from its own start, as on the search page.
    card = page.locator(".theme .card", has=page.locator("button.play")).first
    start = float(card.get_attribute("data-start"))
    card.get_by_role("button", name="Play from").click()
    wait_until_played_from(card.locator("audio"), start)

    # Filtered by company: only that company's quotes, and the filter stays in the URL.
    page.locator("summary").first.click()
    page.get_by_label("Company").fill("Brightside Health")
    page.get_by_label("Company").press("Enter")
    page.wait_for_selector(".theme")
    assert "company=Brightside+Health" in page.url
    assert set(page.locator(".theme .card .company").all_inner_texts()) == {"Brightside Health"}

    # A theme's label leads to the search for it, with the same filter.
    label = page.locator(".theme .theme-label").first.inner_text()
    page.locator(".theme .theme-search").first.click()
    page.wait_for_selector(".card")
    assert page.get_by_role("searchbox").input_value() == label
    assert "company=Brightside+Health" in page.url


def test_every_interview_view_counts_and_groups_every_answering_quote(page, web_server, web_data, test_config):
    """From the best k to "Show every interview that mentions this": the count line is the
    library's, and every quote it counts is on the page, grouped under its recording."""
    from pipeline.config import load_settings
    from pipeline.finding.searcher import Searcher

    query = "what do customers say about pricing"
    search(page, web_server, query)
    page.get_by_role("link", name="Show every interview that mentions this").click()
    page.wait_for_selector("#every-count")
    assert "all=1" in page.url

    with Searcher(load_settings(test_config, web_data.data_dir, environ={})) as searcher:
        expected = searcher.every_answer(query)
    count = page.locator("#every-count").inner_text()
    assert count == expected.count_line()
    assert count.startswith(f"pricing: {expected.recordings} of 3 recordings, {len(expected.hits)} quote")
    groups = page.locator(".recording-group")
    assert groups.count() == expected.recordings >= 1
    assert page.locator(".recording-group .card").count() == len(expected.hits)
    assert web_data.ids["northwind-pricing.ogg"] in [groups.nth(i).get_attribute("data-recording") for i in range(groups.count())]
    for i in range(groups.count()):
        group = groups.nth(i)
        cards = group.locator(".card")
        assert {cards.nth(j).get_attribute("data-recording") for j in range(cards.count())} == {group.get_attribute("data-recording")}

    page.get_by_role("link", name="Show the best").click()
    page.wait_for_selector("#result-count")
    assert "all=1" not in page.url and page.locator(".recording-group").count() == 0


@pytest.fixture
def rename_server(web_data, test_config, tmp_path):
    """A server over a copy of the web data: renaming changes the data dir."""
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    data_dir = tmp_path / "data"
    shutil.copytree(web_data.data_dir, data_dir)
    with RunningServer(load_settings(test_config, data_dir, environ={})) as server:
        yield server


def test_renaming_a_speaker_on_the_recording_page_names_their_voice_everywhere(page, rename_server, web_data):
    page.goto(f"{rename_server.url}/recordings/{web_data.ids['acme-export.mp3']}")
    row = page.locator('.speaker[data-label="S2"]')
    row.get_by_label("Name of S2").fill("Joe Rivera")
    row.get_by_label("Role of S2").select_option("customer")
    row.get_by_role("button", name="Rename").click()
    page.wait_for_selector("#renamed")
    assert "S2 is now Joe Rivera (customer)" in page.locator("#renamed").inner_text()
    assert "Joe Rivera" in " ".join(page.locator(".turn-speaker").all_inner_texts())
    assert page.get_by_label("Name of S2").input_value() == "Joe Rivera"
    # The same voice in another recording, and in search results; metadata names still win.
    page.goto(f"{rename_server.url}/recordings/{web_data.ids['northwind-pricing.ogg']}")
    assert "Joe Rivera" in " ".join(page.locator(".turn-speaker").all_inner_texts())
    page.goto(f"{rename_server.url}/recordings/{web_data.ids['brightside-onboarding.m4a']}")
    turns = " ".join(page.locator(".turn-speaker").all_inner_texts())
    assert "Priya" in turns and "Joe Rivera" not in turns
    search(page, rename_server, QUERY)
    assert page.locator(".card .byline .speaker").first.inner_text() == "Joe Rivera"


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory, test_config):
    """heard serve over a data dir with nothing in it: the pages that need no index, and no model."""
    from web_fixtures import RunningServer

    from pipeline.config import load_settings

    with RunningServer(load_settings(test_config, tmp_path_factory.mktemp("empty"), environ={})) as server:
        yield server


@pytest.mark.fast
def test_the_api_pages_list_every_operation_with_the_network_cut_off(browser, empty_server):
    """/docs (Swagger UI) and /redoc are drawn from files this server serves: no CDN, no internet."""
    context = browser.new_context()
    elsewhere = []

    def only_this_server(route):
        if route.request.url.startswith(empty_server.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_server)
    expected = {("GET", "/api/search"), ("GET", "/api/themes"), ("GET", "/api/recordings"),
                ("GET", "/api/recordings/{recording_id}/transcript"), ("GET", "/api/collections"),
                ("GET", "/api/collections/quotes"), ("GET", "/api/report"), ("POST", "/api/ask")}
    try:
        page = context.new_page()
        page.goto(empty_server.url + "/docs")
        page.wait_for_selector(".opblock", timeout=30000)
        methods = page.locator(".opblock .opblock-summary-method").all_inner_texts()
        paths = [p.replace("\u200b", "") for p in page.locator(".opblock .opblock-summary-path").all_inner_texts()]
        assert expected <= set(zip(methods, paths)), list(zip(methods, paths))
        assert not elsewhere, f"/docs asked outside this server: {elsewhere}"

        # ReDoc draws the same operations (its footer's logo, an image on its makers' site, stays missing).
        page.goto(empty_server.url + "/redoc")
        page.wait_for_selector('[data-section-id="operation/api_search_api_search_get"]', timeout=30000)
        assert page.locator('[data-section-id^="operation/"]').count() == len(expected)
    finally:
        context.close()
