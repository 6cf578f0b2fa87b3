import uuid

import pytest
from django.urls import reverse

from audit.models import AccessLog
from mailboxes.models import AccessGrant, AddressList, AddressListEntry
from messenger.models import Delivery, Message, Thread
from tests.factories import MailboxFactory
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS

INVALID_CHECKSUM = "20000101-2385"  # deliberately wrong last digit


@pytest.fixture
def compose_url(world):
    return reverse("messenger:compose", args=[world.karlstad_fbl.pk])


@pytest.fixture
def form(world, categories):
    return {
        "client_token": str(uuid.uuid4()),
        "recipient": world.gripen_fbl.pk,
        "category": categories["Läkemedel"].pk,
        "subject": "Dosering av Waran",
        "patient": "20000101-2384",
        "body": "INR 3,8 i dag. Ska dosen ändras inför helgen?",
    }


def test_it_sends_a_thread_to_the_recipients_inbox(world, compose_url, form):
    response = world.nurse.client().post(compose_url, form)
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "messenger:thread", args=[world.karlstad_fbl.pk, thread.pk]
    )
    assert thread.patient_id == PATIENTS[0]
    assert thread.recipient_mailbox == world.gripen_fbl
    assert thread.reply_due_at is not None
    message = thread.messages.get()
    assert message.author_name == world.nurse.user.display_name()
    assert message.author_organisation == "Karlstads kommun"
    inbox = Delivery.objects.get(thread=thread, mailbox=world.gripen_fbl)
    assert (inbox.folder, inbox.read_at) == (Delivery.Folder.INBOX, None)
    sent = Delivery.objects.get(thread=thread, mailbox=world.karlstad_fbl)
    assert sent.folder == Delivery.Folder.SENT
    assert AccessLog.objects.filter(
        action=AccessLog.Action.SEND, thread_id_snapshot=thread.pk, patient_id=PATIENTS[0]
    ).exists()
    assert PATIENTS[0] not in response["Location"]


@pytest.mark.parametrize("written", ["20000101-2384", "200001012384", "000101-2384", "0001012384"])
def test_it_accepts_the_usual_written_forms_of_a_personnummer(world, compose_url, form, written):
    form["patient"] = written
    world.nurse.client().post(compose_url, form)
    assert Thread.objects.get().patient_id == "200001012384"


def test_the_form_lists_the_preset_list_first(world, compose_url):
    address_list = AddressList.objects.create(organisation=world.karlstad)
    AddressListEntry.objects.create(address_list=address_list, mailbox=world.gripen_fbl)
    page = world.nurse.client().get(compose_url).content.decode()
    assert "Förvalslistan" in page
    assert f'value="{world.gripen_fbl.pk}"' in page
    assert "Inte för brådskande ärenden" in page  # R9
    assert "Cosmic Link" in page  # R4


def test_the_picker_tells_senders_to_choose_the_allmanmedicinska_mailbox(world, compose_url):
    page = world.nurse.client().get(compose_url).content.decode()
    # R2: a health centre may have other mailboxes; the picker says which one to choose.
    assert "Allmänmedicinska mottagningen (FBL)”, inte någon av dess andra brevlådor (R2)" in page


def test_the_global_address_list_is_searched_as_you_type(world):
    closed = MailboxFactory.create(name="Vc Gripen Gamla (FBL)")
    closed.closed_at = closed.created_at
    closed.save(update_fields=["closed_at"])
    url = reverse("messenger:recipients", args=[world.karlstad_fbl.pk])
    body = world.nurse.client().get(url, {"q": "gripen"}, headers={"HX-Request": "true"})
    text = body.content.decode()
    assert world.gripen_fbl.name in text
    assert "Gamla" not in text  # R14: closed mailboxes cannot be chosen


def test_a_recipient_chosen_from_an_earlier_search_stays_chosen(world):
    url = reverse("messenger:recipients", args=[world.karlstad_fbl.pk])
    htmx = {"HX-Request": "true"}
    client = world.nurse.client()
    chosen = f'value="{world.gripen_fbl.pk}" checked'
    body = client.get(url, {"q": "arvika", "recipient": world.gripen_fbl.pk}, headers=htmx)
    assert chosen in body.content.decode()
    assert world.arvika_fbl.name in body.content.decode()
    # The chosen one is listed once even when the new search finds it too; junk is ignored.
    again = client.get(url, {"q": "gripen", "recipient": world.gripen_fbl.pk}, headers=htmx)
    assert again.content.decode().count(f'value="{world.gripen_fbl.pk}"') == 1
    junk = client.get(url, {"q": "gripen", "recipient": "²"}, headers=htmx)
    assert junk.status_code == 200
    assert "checked" not in junk.content.decode()


@pytest.mark.parametrize("query", ["gripen\x00", "\x00", "gri\x00pen", "gripen\x7f"])
def test_a_control_character_in_the_address_search_finds_nothing(world, query):
    url = reverse("messenger:recipients", args=[world.karlstad_fbl.pk])
    response = world.nurse.client().get(url, {"q": query}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert world.gripen_fbl.name not in response.content.decode()


def test_a_token_from_a_reply_form_starts_no_thread(world, compose_url, form, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    world.hc_nurse.client().post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "Svar", "client_token": form["client_token"]},
    )
    response = world.nurse.client().post(compose_url, form)
    assert response.status_code == 400
    assert "Formuläret är för gammalt" in response.content.decode()
    assert Thread.objects.count() == 1


def test_for_information_needs_the_no_action_confirmation_and_has_no_deadline(
    world, compose_url, form, categories
):
    form["category"] = categories["För kännedom"].pk
    response = world.nurse.client().post(compose_url, form)
    assert response.status_code == 400
    assert "inte kräver någon åtgärd" in response.content.decode()
    assert not Thread.objects.exists()

    form["fyi_understood"] = "on"
    world.nurse.client().post(compose_url, form)
    assert Thread.objects.get().reply_due_at is None


BAD_INPUT = [
    ("patient", "", "Detta fält måste fyllas i"),
    ("patient", INVALID_CHECKSUM, "Kontrollsiffran stämmer inte"),
    ("patient", "2000-01-01", "ÅÅÅÅMMDD-NNNN"),
    ("patient", "20001301-2384", "Kontrollsiffran"),
    ("body", "", "Detta fält måste fyllas i"),
    ("body", "x" * 10_001, "10000"),
    ("subject", "Recept 20000101-2384", "Skriv inte personnummer i ämnet"),
    ("subject", "Recept 0001012384", "Skriv inte personnummer i ämnet"),
    ("subject", "Recept 19121212–1212", "Skriv inte personnummer i ämnet"),
    ("subject", "Recept 19 12 12-12 12", "Skriv inte personnummer i ämnet"),
    ("recipient", "999999", "Mottagaren finns inte eller är stängd"),
    ("recipient", "", "Välj vilken funktionsbrevlåda"),
    ("category", "999999", "Kategorin finns inte"),
    ("category", "Brådskande", "Kategorin finns inte"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_gets_a_swedish_message_keeps_the_text_and_saves_nothing(
    world, compose_url, form, field, value, message
):
    form[field] = value
    response = world.nurse.client().post(compose_url, form)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert not Thread.objects.exists()
    assert not Message.objects.exists()
    if field != "subject":
        assert "Dosering av Waran" in page  # what the user typed is still there


def test_a_closed_recipient_is_refused(world, compose_url, form):
    world.gripen_fbl.closed_at = world.gripen_fbl.created_at
    world.gripen_fbl.save(update_fields=["closed_at"])
    response = world.nurse.client().post(compose_url, form)
    assert "Mottagaren finns inte eller är stängd" in response.content.decode()
    assert not Thread.objects.exists()


def test_a_personal_mailbox_cannot_be_addressed_directly(world, compose_url, form):
    form["recipient"] = world.doctor.mailbox.pk
    response = world.nurse.client().post(compose_url, form)
    assert response.status_code == 400
    assert not Thread.objects.exists()


def test_posting_the_same_form_twice_sends_once(world, compose_url, form):
    client = world.nurse.client()
    first = client.post(compose_url, form)
    second = client.post(compose_url, form, follow=True)
    assert Message.objects.count() == 1
    assert first["Location"] == second.redirect_chain[0][0]
    assert "redan skickat" in second.content.decode()


def test_sending_needs_a_send_grant(world, compose_url, form):
    AccessGrant.objects.filter(user=world.nurse.user).update(level=AccessGrant.Level.READ)
    client = world.nurse.client()
    assert client.get(compose_url).status_code == 404
    assert client.post(compose_url, form).status_code == 404
    assert not Thread.objects.exists()


def test_outsider_cannot_send_from_another_municipalitys_mailbox(world, compose_url, form):
    assert world.outsider.client().post(compose_url, form).status_code == 404
    assert not Thread.objects.exists()
