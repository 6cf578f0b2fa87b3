"""The idle warning in a real browser, with the idle time cut to seconds."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in, serious_violations, sign_in_here

pytestmark = pytest.mark.browser

# The warning shows after 4 s (half of it, being under two minutes), the page leaves after 10 s.
IDLE_SECONDS = 8
LEAD_SECONDS = 4


@pytest.fixture
def short_idle(settings):
    # The live server runs in this process: it reads the changed setting on every request.
    settings.SESSION_IDLE_SECONDS = IDLE_SECONDS


def test_the_warning_comes_and_fortsatt_arbeta_keeps_the_session(
    page: Page, demo_site, demo_password, short_idle
):
    log_in(page, demo_site.url, "anna", demo_password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    warning = page.get_by_role("alertdialog", name="Du loggas snart ut")
    expect(warning).to_be_visible(timeout=IDLE_SECONDS * 1000)
    expect(warning).to_contain_text("text som du har skrivit men inte skickat försvinner")
    button = warning.get_by_role("button", name="Fortsätt arbeta")
    expect(button).to_be_focused()
    assert serious_violations(page) == []

    button.click()
    expect(warning).to_be_hidden()
    # Past the time the session would have ended without the press (at least 4 + 5 s > 8 s
    # since the page), the server still knows her: the press counted.
    page.wait_for_timeout((IDLE_SECONDS - LEAD_SECONDS + 1) * 1000)
    assert "/konto/logga-in/" not in page.url
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()


def test_without_an_answer_the_page_goes_to_the_login_and_comes_back_after(
    page: Page, demo_site, demo_password, short_idle
):
    log_in(page, demo_site.url, "anna", demo_password)
    page.get_by_role("link", name="Karlstads kommun Hälso- och sjukvård (FBL)").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Karlstads kommun Hälso- och sjukvård (FBL)"
    )
    mailbox = page.url.removeprefix(demo_site.url)
    expect(page).to_have_url(re.compile(r"/konto/logga-in/\?next="), timeout=15_000)
    expect(page.get_by_text("Du har loggats ut efter en tids inaktivitet.")).to_be_visible()
    sign_in_here(page, "anna", demo_password)
    expect(page).to_have_url(demo_site.url + mailbox)


def test_typing_a_message_keeps_the_session_without_a_warning(
    page: Page, demo_site, demo_password, short_idle
):
    log_in(page, demo_site.url, "anna", demo_password)
    page.get_by_role("link", name="Karlstads kommun Hälso- och sjukvård (FBL)").first.click()
    page.get_by_role("link", name="Skriv nytt").click()
    body = page.get_by_label("Meddelande", exact=True)
    warning = page.get_by_role("alertdialog")
    text = "Kan ni se över dosen?"
    for letter in text:  # slowly, for longer than the idle time
        body.press_sequentially(letter)
        page.wait_for_timeout(600)
        assert not warning.is_visible()
    assert len(text) * 0.6 > IDLE_SECONDS + 2
    assert "/konto/logga-in/" not in page.url
    expect(body).to_have_value(text)
