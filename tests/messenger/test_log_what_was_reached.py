"""FORWARD and LINK rows name the mailboxes and people they reached, in Swedish, so the trail
outlives the one-year purge of the thread (the ledger and the history go with it)."""

import pytest
from django.utils import timezone

from accounts.models import Role
from audit.models import AccessLog
from mailboxes.models import Mailbox
from messenger.models import Delivery, JournalLinkRecipient, Thread
from messenger.services import journal_link_attach, message_forward
from tests.factories import EmploymentFactory, MailboxFactory, UserFactory
from tests.helpers import delivery_of, send
from tests.testdata import PATIENTS


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def attach(world, thread: Thread, title: str = "Aktuell läkemedelslista"):
    return journal_link_attach(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        kind="medication_list",
        title=title,
        reference="LM-2026-11",
    )


def forward_to_doctor(world, thread: Thread) -> None:
    message_forward(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        colleague=world.doctor.user,
        comment="Kan du titta på dosen?",
        colleague_told=True,
        client_token=None,
    )


def detail(action: str) -> str:
    return AccessLog.objects.get(action=action).detail


def test_a_forward_names_the_colleague_and_their_mailbox(world, thread):
    forward_to_doctor(world, thread)
    doctor = world.doctor.user.display_name()
    assert detail(AccessLog.Action.FORWARD) == (
        f"Vidarebefordrade till {doctor} (personlig brevlåda {world.doctor.mailbox.name})"
    )


def test_a_forward_says_how_many_journal_links_went_along(world, thread):
    attach(world, thread)
    forward_to_doctor(world, thread)
    assert detail(AccessLog.Action.FORWARD).endswith(
        f"(personlig brevlåda {world.doctor.mailbox.name}), med 1 journallänk"
    )


def test_a_link_names_its_title_and_the_mailbox_whose_ledger_got_it(world, thread):
    attach(world, thread)
    assert detail(AccessLog.Action.LINK) == (
        "Bifogade läkemedelslista «Aktuell läkemedelslista», "
        f"nådde funktionsbrevlådan {world.karlstad_fbl.name}"
    )


def test_a_link_names_every_mailbox_and_person_in_the_ledger(world, thread):
    forward_to_doctor(world, thread)
    attach(world, thread, title="Provsvar november")
    doctor = world.doctor.user.display_name()
    assert detail(AccessLog.Action.LINK) == (
        "Bifogade läkemedelslista «Provsvar november», "
        f"nådde funktionsbrevlådan {world.karlstad_fbl.name}, "
        f"{doctor} (personlig brevlåda {world.doctor.mailbox.name})"
    )
    ledger = JournalLinkRecipient.objects.values_list("mailbox_name", "person_name")
    assert list(ledger) == [(world.karlstad_fbl.name, ""), (world.doctor.mailbox.name, doctor)]


def test_the_rows_hold_no_personnummer_and_no_message_text(world, thread):
    attach(world, thread, title=f"Läkemedel för {PATIENTS[0]}")
    forward_to_doctor(world, thread)
    body = thread.messages.get().body
    for action in (AccessLog.Action.LINK, AccessLog.Action.FORWARD):
        text = detail(action)
        assert PATIENTS[0] not in text
        assert PATIENTS[0][2:8] not in text
        assert body not in text
    assert "«rubriken utelämnad, den liknar ett personnummer»" in detail(AccessLog.Action.LINK)


def test_a_link_that_reached_many_stays_within_the_field_and_counts_the_rest(world, thread):
    now = timezone.now()
    for n in range(30):
        employment = EmploymentFactory.create(
            user=UserFactory.create(first_name="Kollega", last_name=f"Nummer{n:02d}"),
            organisation=world.karlstad,
            roles=[Role.STAFF],
        )
        mailbox = MailboxFactory.create(
            kind=Mailbox.Kind.PERSONAL,
            owner=employment.user,
            organisation=world.karlstad,
            name=f"Kollega Nummer{n:02d} personlig",
        )
        Delivery.objects.create(thread=thread, mailbox=mailbox, last_message_at=now)
    attach(world, thread, title="L" * 200)
    text = detail(AccessLog.Action.LINK)
    assert len(text) <= 500  # AccessLog.detail
    assert text.startswith(f"Bifogade läkemedelslista «{'L' * 119}…», nådde funktionsbrevlådan")
    named = text.count("(personlig brevlåda ")
    assert named >= 1
    assert text.endswith(f" … och {30 - named} till")
    assert JournalLinkRecipient.objects.count() == 31
