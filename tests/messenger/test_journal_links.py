import pytest
from django.core.exceptions import ValidationError

from accounts.models import Organisation
from audit.models import AccessLog
from messenger.models import JournalLink, JournalLinkRecipient, ThreadEvent
from messenger.services import journal_link_attach
from tests.conftest import _persona
from tests.factories import MailboxFactory, OrganisationFactory
from tests.helpers import delivery_of, send, thread_url
from tests.testdata import PATIENTS

LINK = {
    "kind": "medication_list",
    "title": "Aktuell läkemedelslista",
    "reference": "LM-2026-11",
    "client_token": "6f1c7c1e-4a55-4c1b-9d2e-0d6c1d1e2f30",
}


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def test_health_centre_staff_attach_a_medication_list_link(world, thread):
    response = world.hc_nurse.client().post(
        thread_url("attach_link", world.gripen_fbl, thread), LINK
    )
    assert response.status_code == 302
    link = JournalLink.objects.get()
    assert (link.kind, link.reference, link.attached_from) == (
        "medication_list",
        "LM-2026-11",
        world.gripen_fbl,
    )
    # R11: the ledger says which mailbox it went to; municipal staff read it there.
    recipient = JournalLinkRecipient.objects.get()
    assert recipient.mailbox_name == world.karlstad_fbl.name
    assert ThreadEvent.objects.filter(kind="link_attached").exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.LINK).exists()
    page = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    text = page.content.decode()
    assert "Aktuell läkemedelslista" in text
    assert "LM-2026-11" in text


def test_municipal_staff_are_refused_by_the_server(world, thread):
    page = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    assert "Bifoga länk" not in page.content.decode()
    response = world.nurse.client().post(
        thread_url("attach_link", world.karlstad_fbl, thread), LINK
    )
    assert response.status_code == 403
    assert "Endast personal på Regionens enheter" in response.content.decode()
    assert not JournalLink.objects.exists()
    assert not JournalLinkRecipient.objects.exists()


def test_a_closed_mailbox_attaches_no_links(world, thread):
    world.gripen_fbl.closed_at = thread.created_at
    world.gripen_fbl.save(update_fields=["closed_at"])
    response = world.hc_nurse.client().post(
        thread_url("attach_link", world.gripen_fbl, thread), LINK
    )
    assert response.status_code == 403
    assert "Brevlådan är stängd" in response.content.decode()
    assert not JournalLink.objects.exists()
    assert not ThreadEvent.objects.exists()


def test_a_token_from_another_threads_link_form_attaches_nothing(world, thread, categories):
    client = world.hc_nurse.client()
    client.post(thread_url("attach_link", world.gripen_fbl, thread), LINK)
    other = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[1])
    response = client.post(thread_url("attach_link", world.gripen_fbl, other), LINK)
    assert "Formuläret är för gammalt" in response.content.decode()
    assert not JournalLink.objects.filter(thread=other).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "lab_result", "Välj ett giltigt alternativ"),
        ("title", "", "Detta fält måste fyllas i"),
        ("reference", "<img src=x>", "HTML eller skript"),
    ],
)
def test_a_bad_link_is_refused_with_a_message(world, thread, field, value, message):
    data = {**LINK, field: value}
    response = world.hc_nurse.client().post(
        thread_url("attach_link", world.gripen_fbl, thread), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JournalLink.objects.exists()


def test_a_double_clicked_link_is_attached_once(world, thread):
    client = world.hc_nurse.client()
    client.post(thread_url("attach_link", world.gripen_fbl, thread), LINK)
    client.post(thread_url("attach_link", world.gripen_fbl, thread), LINK)
    assert JournalLink.objects.count() == 1
    assert JournalLinkRecipient.objects.count() == 1


def test_a_dual_employee_cannot_link_from_a_municipal_mailbox(world, thread):
    # R11 follows the mailbox: working as Gripen does not make Karlstad's mailbox a health centre.
    from mailboxes.models import AccessGrant
    from tests.factories import EmploymentFactory

    karlstad_job = EmploymentFactory.create(user=world.hc_nurse.user, organisation=world.karlstad)
    AccessGrant.objects.create(
        user=world.hc_nurse.user,
        employment=karlstad_job,
        mailbox=world.karlstad_fbl,
        level=AccessGrant.Level.SEND,
    )
    response = world.hc_nurse.client().post(
        thread_url("attach_link", world.karlstad_fbl, thread), LINK
    )
    assert response.status_code == 403
    assert not JournalLink.objects.exists()


def test_with_htmx_only_the_links_part_changes_and_errors_show_in_it(world, thread):
    client = world.hc_nurse.client()
    url = thread_url("attach_link", world.gripen_fbl, thread)
    htmx = {"HX-Request": "true"}
    response = client.post(url, LINK, headers=htmx)
    assert response.status_code == 200  # no redirect: htmx swaps #journal-links in place
    page = response.content.decode()
    assert "Länken är bifogad." in page
    assert JournalLink.objects.count() == 1
    # A fresh form to attach another, with a new one-time token.
    assert str(JournalLink.objects.get().client_token) not in page
    wrong = client.post(url, {**LINK, "reference": ""}, headers=htmx)
    assert wrong.status_code == 200  # htmx shows errors only from a 200
    assert 'id="journal-links"' in wrong.content.decode()
    assert "Länken är bifogad." not in wrong.content.decode()
    assert JournalLink.objects.count() == 1


def test_the_reply_box_says_where_the_reply_goes(world, thread):
    page = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert f"Svaret går till: {world.karlstad_fbl.name}" in page.content.decode()


@pytest.fixture
def clinic(world):
    """A hospital clinic: a region unit that is no health centre (R11: "the region side")."""
    unit = OrganisationFactory.create(
        name="Centralsjukhuset Karlstad, Medicinkliniken", kind=Organisation.Kind.REGION_UNIT
    )
    mailbox = MailboxFactory.create(organisation=unit, name="CSK Medicinkliniken (FBL)")
    return _persona("t_klinik", unit, mailbox)


def test_region_unit_staff_attach_a_journal_note_link(world, categories, clinic):
    thread = send(world.nurse, clinic.mailbox, categories["Läkemedel"], patient_id=PATIENTS[0])
    client = clinic.client()
    page = client.get(thread_url("thread", clinic.mailbox, thread)).content.decode()
    assert "Bifoga länk" in page
    assert 'value="medication_list"' not in page  # the medication list is the health centre's
    response = client.post(
        thread_url("attach_link", clinic.mailbox, thread),
        {**LINK, "kind": "journal_note", "title": "Epikris"},
    )
    assert response.status_code == 302
    link = JournalLink.objects.get()
    assert (link.kind, link.attached_from) == ("journal_note", clinic.mailbox)
    assert JournalLinkRecipient.objects.get().mailbox_name == world.karlstad_fbl.name


def test_region_unit_staff_are_refused_the_medication_list(world, categories, clinic):
    thread = send(world.nurse, clinic.mailbox, categories["Läkemedel"], patient_id=PATIENTS[0])
    response = clinic.client().post(thread_url("attach_link", clinic.mailbox, thread), LINK)
    assert response.status_code == 400  # not among the choices offered
    assert not JournalLink.objects.exists()


def test_the_service_refuses_the_medication_list_from_a_region_unit(world, categories, clinic):
    thread = send(world.nurse, clinic.mailbox, categories["Läkemedel"], patient_id=PATIENTS[0])
    with pytest.raises(ValidationError, match="bara från vårdcentraler"):
        journal_link_attach(
            actor=clinic.user,
            employment=clinic.employment,
            delivery=delivery_of(thread, clinic.mailbox),
            kind="medication_list",
            title="Läkemedelslista",
            reference="LM-1",
        )
    assert not JournalLink.objects.exists()
