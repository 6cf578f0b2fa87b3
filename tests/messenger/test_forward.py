import re
import uuid

import pytest

from audit.models import AccessLog
from messenger.models import Delivery, JournalLinkRecipient, ThreadEvent
from messenger.services import journal_link_attach
from tests.factories import EmploymentFactory, MailboxFactory, UserFactory
from tests.helpers import delivery_of, send, thread_url
from tests.testdata import PATIENTS


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def forward(persona, mailbox, thread, **data):
    data.setdefault("client_token", str(uuid.uuid4()))
    return persona.client().post(thread_url("forward", mailbox, thread), data)


def test_it_forwards_to_a_named_colleagues_personal_mailbox(world, thread):
    response = forward(
        world.hc_nurse,
        world.gripen_fbl,
        thread,
        colleague=world.doctor.user.pk,
        colleague_told="on",
        comment="Kan du titta på dosen?",
    )
    assert response.status_code == 302
    copy = delivery_of(thread, world.doctor.mailbox)
    assert (copy.folder, copy.read_at, copy.forwarded_from) == (
        Delivery.Folder.INBOX,
        None,
        world.gripen_fbl,
    )
    event = ThreadEvent.objects.get(thread=thread)
    assert event.to_name == world.doctor.user.display_name()
    assert event.comment == "Kan du titta på dosen?"
    assert AccessLog.objects.filter(action=AccessLog.Action.FORWARD).exists()
    # The colleague reads it in her own mailbox, and the history shows the forward.
    page = world.doctor.client().get(thread_url("thread", world.doctor.mailbox, thread))
    assert page.status_code == 200
    assert "vidarebefordrade" in page.content.decode()


def test_a_double_submitted_forward_is_saved_once(world, thread):
    journal_link_attach(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        kind="medication_list",
        title="Läkemedelslista",
        reference="LM-1",
    )
    client = world.hc_nurse.client()
    page = client.get(thread_url("forward", world.gripen_fbl, thread)).content.decode()
    token = re.search(r'name="client_token" value="([^"]+)"', page)
    assert token is not None
    data = {
        "client_token": token[1],
        "colleague": world.doctor.user.pk,
        "colleague_told": "on",
        "comment": "Kan du titta på dosen?",
    }
    client.post(thread_url("forward", world.gripen_fbl, thread), data)
    world.doctor.client().get(thread_url("thread", world.doctor.mailbox, thread))
    read_at = delivery_of(thread, world.doctor.mailbox).read_at
    assert read_at is not None

    again = client.post(thread_url("forward", world.gripen_fbl, thread), data, follow=True)
    assert "Ärendet var redan vidarebefordrat" in again.content.decode()
    assert ThreadEvent.objects.filter(thread=thread, kind="forwarded").count() == 1
    assert JournalLinkRecipient.objects.filter(via="forwarded").count() == 1
    assert AccessLog.objects.filter(action=AccessLog.Action.FORWARD).count() == 1
    assert delivery_of(thread, world.doctor.mailbox).read_at == read_at


def test_a_token_from_another_threads_forward_form_forwards_nothing(world, thread, categories):
    token = str(uuid.uuid4())
    forward(
        world.hc_nurse,
        world.gripen_fbl,
        thread,
        client_token=token,
        colleague=world.doctor.user.pk,
        colleague_told="on",
    )
    other = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[1])
    response = forward(
        world.hc_nurse,
        world.gripen_fbl,
        other,
        client_token=token,
        colleague=world.doctor.user.pk,
        colleague_told="on",
    )
    assert response.status_code == 400
    assert "Formuläret är för gammalt" in response.content.decode()
    assert not Delivery.objects.filter(thread=other, mailbox=world.doctor.mailbox).exists()


def test_a_closed_mailbox_forwards_nothing(world, thread):
    world.gripen_fbl.closed_at = thread.created_at
    world.gripen_fbl.save(update_fields=["closed_at"])
    response = forward(
        world.hc_nurse,
        world.gripen_fbl,
        thread,
        colleague=world.doctor.user.pk,
        colleague_told="on",
    )
    assert response.status_code == 400
    assert "Brevlådan är stängd" in response.content.decode()
    assert not Delivery.objects.filter(mailbox=world.doctor.mailbox).exists()
    assert not ThreadEvent.objects.exists()


def test_the_colleague_must_have_been_told(world, thread):
    response = forward(world.hc_nurse, world.gripen_fbl, thread, colleague=world.doctor.user.pk)
    assert response.status_code == 400
    assert "Bekräfta att kollegan vet" in response.content.decode()
    assert not Delivery.objects.filter(mailbox=world.doctor.mailbox).exists()


def test_someone_without_an_account_here_cannot_be_chosen(world, thread):
    no_mailbox = UserFactory.create()
    for colleague in (no_mailbox.pk, 999999, "anna@example.se"):
        response = forward(
            world.hc_nurse, world.gripen_fbl, thread, colleague=colleague, colleague_told="on"
        )
        assert response.status_code == 400
        assert "Använd en annan kanal" in response.content.decode()
    assert Delivery.objects.filter(thread=thread).count() == 2


def test_municipal_staff_forward_too(world, thread, categories):
    colleague = world.approver.user
    MailboxFactory.create(
        kind="personal", owner=colleague, organisation=world.karlstad, name="Eva T", hsa_id=""
    )
    response = forward(
        world.nurse, world.karlstad_fbl, thread, colleague=colleague.pk, colleague_told="on"
    )
    assert response.status_code == 302
    assert Delivery.objects.filter(thread=thread, mailbox__owner=colleague).exists()


def test_the_form_offers_only_colleagues_of_the_working_organisation(world, thread):
    page = world.hc_nurse.client().get(thread_url("forward", world.gripen_fbl, thread))
    text = page.content.decode()
    assert world.doctor.user.display_name() in text
    assert world.nurse.user.display_name() not in text
    assert PATIENTS[0] not in text  # masked here: only the thread page shows it whole


def test_the_form_offers_only_people_with_an_open_personal_mailbox(world, thread):
    no_mailbox = EmploymentFactory.create(organisation=world.gripen).user
    closed = EmploymentFactory.create(organisation=world.gripen).user
    MailboxFactory.create(
        kind="personal",
        owner=closed,
        organisation=world.gripen,
        name="Stängd T",
        hsa_id="",
        closed_at=thread.created_at,
    )
    page = world.hc_nurse.client().get(thread_url("forward", world.gripen_fbl, thread))
    text = page.content.decode()
    assert f'value="{world.doctor.user.pk}"' in text
    assert f'value="{no_mailbox.pk}"' not in text
    assert f'value="{closed.pk}"' not in text


def test_a_forward_is_written_in_the_journal_links_ledger(world, thread):
    journal_link_attach(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        kind="medication_list",
        title="Läkemedelslista",
        reference="LM-1",
    )
    forward(
        world.hc_nurse,
        world.gripen_fbl,
        thread,
        colleague=world.doctor.user.pk,
        colleague_told="on",
    )
    ledger = JournalLinkRecipient.objects.order_by("pk")
    assert [(r.via, r.mailbox_name, r.person_name) for r in ledger] == [
        ("sent", world.karlstad_fbl.name, ""),
        ("forwarded", world.doctor.mailbox.name, world.doctor.user.display_name()),
    ]


def test_forwarding_needs_a_send_grant(world, thread):
    response = forward(
        world.doctor,
        world.gripen_fbl,
        thread,
        colleague=world.hc_nurse.user.pk,
        colleague_told="on",
    )
    # The doctor has no grant on Gripen's functional mailbox: the thread does not exist for her.
    assert response.status_code == 404
    assert not ThreadEvent.objects.filter(thread=thread).exists()
    assert Delivery.objects.filter(thread=thread).count() == 2


def test_a_form_with_errors_shows_the_thread_and_logs_the_view(world, thread):
    response = forward(world.hc_nurse, world.gripen_fbl, thread, colleague=world.doctor.user.pk)
    assert response.status_code == 400
    assert thread.subject in response.content.decode()
    (row,) = AccessLog.objects.filter(action=AccessLog.Action.VIEW_THREAD)
    assert row.thread_id_snapshot == thread.pk
    assert row.user_id_snapshot == world.hc_nurse.user.pk
    assert row.patient_id == thread.patient_id
