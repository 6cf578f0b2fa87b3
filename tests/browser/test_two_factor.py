import base64

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from audit.models import AccessLog
from tests.browser.helpers import log_in, serious_violations
from tests.helpers import next_totp_code, totp_code

pytestmark = pytest.mark.browser


def test_eva_sets_up_an_app_at_sign_in_and_then_signs_in_with_a_code(
    page: Page, demo_site, demo_password, settings
):
    settings.REQUIRE_2FA = True
    # Eva has lost her phone and a system administrator has reset her second factor.
    TOTPDevice.objects.filter(user__username="eva").delete()
    csp_errors: list[str] = []
    page.on(
        "console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None
    )

    log_in(page, demo_site.url, "eva", demo_password)
    expect(page.get_by_role("heading", level=1, name="Ställ in autentiseringsapp")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    assert serious_violations(page) == []
    # What a person would type into the app by hand.
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret).hex()
    page.get_by_label("Koden som appen visar").fill(totp_code(key))
    page.get_by_role("button", name="Aktivera").click()

    expect(page.get_by_role("heading", level=1, name="Dina reservkoder")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Jag har sparat koderna").click()
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()

    page.get_by_role("button", name="Logga ut").click()
    page.goto(f"{demo_site.url}/konto/logga-in/")
    page.get_by_label("Användarnamn").fill("eva")
    page.get_by_label("Lösenord").fill(demo_password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1, name="Ange engångskod")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_label("Engångskod").fill("000000")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_contain_text("Koden stämmer inte")
    page.wait_for_timeout(1100)  # django-otp pauses a second after a wrong code
    page.get_by_label("Engångskod").fill(next_totp_code("eva"))
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).count() == 1
    assert csp_errors == []
