"""Issue 4 end to end: apply, approve after a risk assessment, see, end, 404 again."""

import re

import pytest
from playwright.sync_api import Page, expect

from mailboxes.models import AccessRequest, Mailbox
from messenger.jobs import job_run
from tests.browser.test_login_and_mailboxes import log_in, serious_violations

pytestmark = pytest.mark.browser

KARLSTAD_FBL = "Karlstads kommun Hälso- och sjukvård (FBL)"
ARVIKA_FBL = "Arvika kommun Hälso- och sjukvård (FBL)"


def status(page: Page, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return response.status


def as_user(new_context, base_url: str, username: str, password: str) -> Page:
    page = new_context().new_page()
    log_in(page, base_url, username, password)
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()
    return page


def apply_for(page: Page, mailbox_name: str, justification: str) -> None:
    page.get_by_role("link", name="Mina behörigheter").click()
    page.get_by_role("link", name="Ansök om behörighet").click()
    page.get_by_label("Brevlåda").select_option(label=mailbox_name)
    page.get_by_label("Läsa", exact=True).check()
    page.get_by_label("Motivering").fill(justification)
    page.get_by_role("button", name="Skicka ansökan").click()
    expect(page.get_by_role("status")).to_contain_text("Ansökan är skickad")


def test_david_gets_read_access_to_karlstad_and_loses_it_again(
    new_context, demo_site, demo_password
):
    url = demo_site.url
    karlstad_fbl = Mailbox.objects.get(name=KARLSTAD_FBL)
    mailbox_url = f"{url}/brevlador/{karlstad_fbl.pk}/"

    david = as_user(new_context, url, "david", demo_password)
    assert status(david, mailbox_url) == 404
    apply_for(david, KARLSTAD_FBL, "Samarbete med Karlstads hemsjukvård under sommaren")
    expect(david.get_by_role("cell", name="Väntar på beslut")).to_be_visible()
    assert serious_violations(david) == []

    eva = as_user(new_context, url, "eva", demo_password)
    eva.get_by_role("link", name="Beslut om behörighet").click()
    assert serious_violations(eva) == []
    eva.get_by_role("link", name=re.compile("Pröva.*David Dahl")).click()
    expect(eva.get_by_text("Samarbete med Karlstads hemsjukvård under sommaren")).to_be_visible()
    assert serious_violations(eva) == []
    eva.get_by_label("Jag har gjort en behovs- och riskanalys").check()
    eva.get_by_label("Behovs- och riskbedömning").fill("Behov styrkt, endast läsbehörighet")
    eva.get_by_label("Motivering av beslutet").fill("Sommarsamarbete enligt avtal")
    eva.get_by_role("button", name="Bevilja").click()
    expect(eva.get_by_role("status")).to_contain_text("Ansökan är beviljad")
    assert AccessRequest.objects.get().status == AccessRequest.Status.APPROVED
    job_run("outbox")  # as beat does every minute: the decision reaches David

    david.goto(f"{url}/")
    expect(david.locator("#notice-badge .badge")).to_have_text(re.compile("^1"))
    expect(
        david.locator("table.mailbox-list").get_by_role("link", name=KARLSTAD_FBL)
    ).to_be_visible()
    assert status(david, mailbox_url) == 200
    expect(david.get_by_role("heading", level=1)).to_have_text(KARLSTAD_FBL)
    david.get_by_role("link", name="Mina behörigheter").click()
    expect(
        david.get_by_text(re.compile("ansökan om behörighet till .* är beviljad"))
    ).to_be_visible()

    eva.get_by_role("link", name="Granska behörigheter").click()
    assert serious_violations(eva) == []
    row = eva.get_by_role("row").filter(has_text="David Dahl")
    row.get_by_role("link", name=re.compile("Avsluta")).click()
    assert serious_violations(eva) == []
    eva.get_by_label("Direkt").check()
    eva.get_by_label("Skäl").fill("Sommarsamarbetet är slut")
    eva.get_by_role("button", name="Avsluta behörigheten").click()
    expect(eva.get_by_role("status")).to_contain_text("är avslutad")

    assert status(david, mailbox_url) == 404


def test_anna_cannot_approve_and_eva_cannot_approve_for_arvika(
    new_context, demo_site, demo_password
):
    url = demo_site.url
    david = as_user(new_context, url, "david", demo_password)
    apply_for(david, ARVIKA_FBL, "Ny i Arvika")  # already has send; asks again for read
    pending = AccessRequest.objects.get()
    decide_url = f"{url}/behorighet/beslut/{pending.pk}/"

    anna = as_user(new_context, url, "anna", demo_password)
    expect(anna.get_by_role("link", name="Beslut om behörighet")).to_have_count(0)
    assert status(anna, f"{url}/behorighet/beslut/") == 404
    assert status(anna, decide_url) == 404

    eva = as_user(new_context, url, "eva", demo_password)
    eva.get_by_role("link", name="Beslut om behörighet").click()
    expect(eva.get_by_text("Inga ansökningar väntar på beslut.")).to_be_visible()
    assert status(eva, decide_url) == 404
    pending.refresh_from_db()
    assert pending.is_pending


def test_the_agreement_comes_first_and_its_page_is_accessible(
    new_context, demo_site, demo_password
):
    from accounts.models import AgreementAcceptance

    AgreementAcceptance.objects.filter(user__username="cecilia").delete()
    page = new_context().new_page()
    log_in(page, demo_site.url, "cecilia", demo_password)
    expect(page.get_by_role("heading", level=1, name="Sekretessförbindelse")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("alert")).to_contain_text("Kryssa i rutan")
    page.get_by_label("Jag har läst sekretessförbindelsen").check()
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("heading", level=1, name="Mina brevlådor")).to_be_visible()


def test_the_administration_pages_are_accessible(new_context, demo_site, demo_password):
    url = demo_site.url
    admin = as_user(new_context, url, "admin", demo_password)
    reports: list[str] = []
    admin.on("console", lambda msg: reports.append(msg.text) if msg.type == "error" else None)
    admin.get_by_role("link", name="Förvalta brevlådor").click()
    assert serious_violations(admin) == []
    admin.get_by_role("link", name=KARLSTAD_FBL).click()
    assert serious_violations(admin) == []
    admin.get_by_role("link", name="Ändra lokal rutin").click()
    assert serious_violations(admin) == []
    admin.go_back()
    admin.get_by_role("link", name="Stäng brevlådan…").click()
    expect(admin.get_by_text("Brevlådan kan inte öppnas igen.")).to_be_visible()
    assert serious_violations(admin) == []
    admin.goto(f"{url}/forvaltning/brevlador/ny/")
    assert serious_violations(admin) == []
    admin.get_by_role("link", name="Förvalslistor").click()
    admin.get_by_role("link", name="Karlstads kommun").click()
    assert serious_violations(admin) == []
    admin.get_by_role("link", name="Roller").click()
    admin.get_by_role("link", name="Karlstads kommun").click()
    assert serious_violations(admin) == []
    admin.get_by_role("link", name=re.compile("Ändra roller.*Eva Ek")).click()
    assert serious_violations(admin) == []
    # Strict CSP holds on every page visited: no inline script or style was needed.
    assert [r for r in reports if "Content Security Policy" in r] == []
