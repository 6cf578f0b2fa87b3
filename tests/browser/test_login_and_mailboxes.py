import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in, serious_violations

pytestmark = pytest.mark.browser


def test_anna_logs_in_and_sees_karlstads_mailbox(page: Page, demo_site, demo_password):
    log_in(page, demo_site.url, "anna", demo_password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    table = page.locator("table.mailbox-list")
    expect(
        table.get_by_role("link", name="Karlstads kommun Hälso- och sjukvård (FBL)")
    ).to_be_visible()
    expect(page.get_by_text("Arvika kommun Hälso- och sjukvård (FBL)")).to_have_count(0)
    # Her inbox is one click away, with patients masked.
    table.get_by_role("link", name="Karlstads kommun Hälso- och sjukvård (FBL)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Karlstads kommun Hälso- och sjukvård (FBL)"
    )


def test_a_wrong_password_gets_a_clear_swedish_message(page: Page, demo_site):
    log_in(page, demo_site.url, "anna", "inte-rätt-lösenord")
    expect(page.get_by_role("alert")).to_contain_text("Ange ett korrekt användarnamn och lösenord")


def test_login_page_has_no_serious_accessibility_violations(page: Page, demo_site):
    page.goto(f"{demo_site.url}/konto/logga-in/")
    assert serious_violations(page) == []


def test_mailbox_list_has_no_serious_accessibility_violations(page: Page, demo_site, demo_password):
    log_in(page, demo_site.url, "bo", demo_password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Vc Gripen Allmänmedicinska mottagningen (FBL)").first.click()
    expect(page.get_by_role("link", name="Inkorg")).to_have_attribute("aria-current", "page")
    assert serious_violations(page) == []


def test_the_page_runs_under_the_strict_csp_without_violations(
    page: Page, demo_site, demo_password
):
    reports: list[str] = []
    page.on("console", lambda msg: reports.append(msg.text) if msg.type == "error" else None)
    log_in(page, demo_site.url, "anna", demo_password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    # htmx is loaded from our origin and has initialised: it marks the polled nav.
    page.wait_for_function("() => window.htmx !== undefined")
    assert [r for r in reports if "Content Security Policy" in r] == []


def test_on_a_phone_the_inbox_fits_the_screen_and_comes_first(
    browser, browser_context_args, demo_site, demo_password
):
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": 390, "height": 844}}
    )
    page = context.new_page()
    log_in(page, demo_site.url, "anna", demo_password)
    page.locator("table.mailbox-list").get_by_role("link").first.click()
    expect(page.get_by_role("link", name="Inkorg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The inbox's heading is on the first screen, above the list of mailboxes.
    heading = page.get_by_role("heading", level=1).bounding_box()
    nav = page.locator(".side-nav").bounding_box()
    assert heading is not None
    assert nav is not None
    assert heading["y"] < 844
    assert heading["y"] < nav["y"]
    context.close()
