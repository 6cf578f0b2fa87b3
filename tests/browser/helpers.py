from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.helpers import next_totp_code

SERIOUS = {"serious", "critical"}


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/konto/logga-in/")
    sign_in_here(page, username, password)


def sign_in_here(page: Page, username: str, password: str) -> None:
    """Fill in the login page the browser is on, and the code page if one follows."""
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Logga in").click()
    # The demo users have an authenticator app (seed_demo): type the code it would show.
    if page.url.endswith("/konto/logga-in/engangskod/"):
        page.get_by_label("Engångskod").fill(next_totp_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="Logga in").click()
