import copy

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from audit.models import AccessLog
from tests.sso_provider import running_provider, sso_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_site(demo_site, provider, settings):
    """The demo site with single sign-on through the mock provider, as OIDC_* would set it."""
    client_id = provider.register_client(f"{demo_site.url}/konto/logga-in/sso/tillbaka/")
    for name, value in sso_settings(
        provider, client_id=client_id, client_secret=provider.client_secrets[client_id]
    ).items():
        setattr(settings, name, value)
    # settings.py lets the logout form go on to the provider's end_session.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(provider.url)
    settings.CONTENT_SECURITY_POLICY = policy
    return demo_site


def test_anna_signs_in_with_her_siths_card_and_out_again(page: Page, sso_site, provider):
    anna = User.objects.get(username="anna")
    provider.set_person("anna-siths", {"employeeHsaId": anna.hsa_id})

    page.goto(f"{sso_site.url}/konto/logga-in/")
    page.get_by_role("link", name="Logga in med SITHS-kort").click()
    # The identity provider's own page (the mock's stands in for card and PIN).
    page.wait_for_url(f"{provider.url}/oauth2/authorize**")
    page.get_by_placeholder("sub").fill("anna-siths")
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    expect(page.locator(".user-name")).to_have_text(anna.display_name())
    assert page.url == f"{sso_site.url}/"
    assert AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN, user_id_snapshot=anna.pk
    ).exists()

    # Signing out goes through the provider's end_session and back to our login page.
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(f"{provider.url}/oauth2/end_session**")
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", level=1, name="Logga in")).to_be_visible()
    assert page.url == f"{sso_site.url}/konto/logga-in/"
