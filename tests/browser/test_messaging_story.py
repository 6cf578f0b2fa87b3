"""The whole story of issue 3, in Chromium, as the demo users would play it."""

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.helpers import log_in, serious_violations

pytestmark = pytest.mark.browser

KARLSTAD_FBL = "Karlstads kommun Hälso- och sjukvård (FBL)"
GRIPEN_FBL = "Vc Gripen Allmänmedicinska mottagningen (FBL)"
SUBJECT = "Dosering av Waran inför helgen"


def person(browser: Browser, args: dict, base_url: str, username: str, password: str) -> Page:
    context: BrowserContext = browser.new_context(**args)
    page = context.new_page()
    log_in(page, base_url, username, password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    return page


def test_a_question_travels_from_anna_to_bo_to_cecilia_and_david_sees_none_of_it(
    browser: Browser, browser_context_args, demo_site, demo_password
):
    base = demo_site.url

    # anna writes to Vc Gripen about a test patient, category Läkemedel.
    anna = person(browser, browser_context_args, base, "anna", demo_password)
    anna.locator("table.mailbox-list").get_by_role("link", name=KARLSTAD_FBL).click()
    anna.get_by_role("link", name="Skriv nytt").click()
    expect(anna.get_by_role("heading", level=1, name="Nytt meddelande")).to_be_visible()
    assert serious_violations(anna) == []
    anna.get_by_role("radio", name=GRIPEN_FBL).check()
    # R8's warning appears only while "För kännedom" is chosen.
    fyi_warning = anna.get_by_text("”För kännedom” betyder att mottagaren")
    expect(fyi_warning).to_be_hidden()
    anna.get_by_label("Kategori").select_option(label="För kännedom")
    expect(fyi_warning).to_be_visible()
    anna.get_by_label("Kategori").select_option(label="Läkemedel")
    expect(fyi_warning).to_be_hidden()
    anna.get_by_label("Patientens personnummer eller samordningsnummer").fill("20000101-2384")
    anna.get_by_label("Ämne").fill(SUBJECT)
    anna.get_by_role("textbox", name="Meddelande", exact=True).fill(
        "INR 3,8 i dag. Ska dosen ändras inför helgen?"
    )
    anna.get_by_role("button", name="Skicka").click()
    expect(anna.get_by_role("heading", level=1, name=SUBJECT)).to_be_visible()
    assert "2384" not in anna.url
    anna_thread_url = anna.url
    expect(anna.locator(".deadline-open")).to_contain_text("h kvar")

    # bo sees it unread, attaches a medication-list link and replies.
    bo = person(browser, browser_context_args, base, "bo", demo_password)
    nav = bo.get_by_role("navigation", name="Brevlådor")
    expect(nav.get_by_role("link", name=re.compile(re.escape(GRIPEN_FBL)))).to_contain_text(
        "olästa"
    )
    nav.get_by_role("link", name=re.compile(re.escape(GRIPEN_FBL))).click()
    assert serious_violations(bo) == []
    row = bo.locator("tr.unread", has_text=SUBJECT)
    expect(row).to_contain_text("20000101-****")
    row.get_by_role("link").click()
    expect(bo.locator(".patient")).to_have_text("20000101-2384")
    assert serious_violations(bo) == []
    bo_thread_url = bo.url
    # He starts his reply, then attaches the link: the draft is still there afterwards.
    draft = bo.get_by_role("textbox", name="Svar", exact=True)
    draft.fill("Sänk till 2,5 mg i kväll.")
    bo.get_by_role("radio", name="Läkemedelslista").check()
    bo.get_by_label("Rubrik").fill("Aktuell läkemedelslista")
    bo.get_by_label("Referens i journalsystemet").fill("LM-2026-11-22")
    bo.get_by_role("button", name="Bifoga länk").click()
    expect(bo.get_by_text("Länken är bifogad.")).to_be_visible()
    expect(bo.locator(".journal-link")).to_contain_text("LM-2026-11-22")
    expect(draft).to_have_value("Sänk till 2,5 mg i kväll.")
    expect(bo.get_by_text("Svaret går till: " + KARLSTAD_FBL)).to_be_visible()
    draft.fill("Sänk till 2,5 mg i kväll. Ny INR på måndag.")
    bo.get_by_role("button", name="Skicka svar").click()
    expect(bo.get_by_text("Svaret är skickat.")).to_be_visible()

    # anna sees the answer and the deadline met.
    anna.goto(anna_thread_url)
    expect(anna.get_by_text("Sänk till 2,5 mg i kväll.")).to_be_visible()
    expect(anna.locator(".deadline-met").first).to_contain_text("Besvarad i tid")
    expect(anna.locator(".journal-link")).to_contain_text("LM-2026-11-22")

    # bo forwards to cecilia after confirming she has been told.
    bo.goto(bo_thread_url)
    bo.get_by_role("link", name="Vidarebefordra").click()
    bo.get_by_label("Kollega", exact=True).select_option(label="Cecilia Carlsson")
    bo.get_by_role("button", name="Vidarebefordra").click()
    # The summary at the top links to the box, and the box itself says what is missing.
    expect(bo.get_by_role("alert")).to_contain_text("Bekräfta att kollegan vet")
    expect(bo.locator(".errorlist")).to_contain_text("Bekräfta att kollegan vet")
    bo.get_by_label("Jag har informerat kollegan").check()
    bo.get_by_label("Kommentar (valfri)").fill("Kan du se över doseringen?")
    bo.get_by_role("button", name="Vidarebefordra").click()
    expect(bo.get_by_text("vidarebefordrat till Cecilia Carlsson")).to_be_visible()

    # cecilia reads it in her personal mailbox.
    cecilia = person(browser, browser_context_args, base, "cecilia", demo_password)
    cecilia.locator("table.mailbox-list").get_by_role("link").first.click()
    cecilia.get_by_role("link", name=SUBJECT).click()
    expect(cecilia.get_by_text("Kan du se över doseringen?")).to_be_visible()
    expect(cecilia.get_by_text("INR 3,8 i dag.")).to_be_visible()
    cecilia_thread_url = cecilia.url

    # david gets 404 for every one of those URLs.
    david = person(browser, browser_context_args, base, "david", demo_password)
    for url in (anna_thread_url, bo_thread_url, cecilia_thread_url):
        for suffix in ("", "utskrift/", "vidarebefordra/"):
            response = david.goto(url + suffix)
            assert response is not None
            assert response.status == 404, url + suffix
        expect(david.get_by_role("heading", name="Sidan finns inte")).to_be_visible()

    # anna moves the thread to the trash and empties it.
    anna.goto(anna_thread_url)
    anna.get_by_label("Flytta till").select_option(label="Papperskorg")
    anna.get_by_role("button", name="Flytta", exact=True).click()
    anna.get_by_role("link", name="Papperskorg").click()
    expect(anna.get_by_role("link", name=SUBJECT)).to_be_visible()
    anna.get_by_role("link", name="Töm papperskorgen").click()
    anna.get_by_role("button", name="Ja, töm papperskorgen").click()
    expect(anna.get_by_text("Papperskorgen är tömd")).to_be_visible()
    anna.get_by_role("link", name="Papperskorg").click()
    expect(anna.get_by_text("Mappen är tom.")).to_be_visible()
    gone = anna.goto(anna_thread_url)
    assert gone is not None
    assert gone.status == 404
