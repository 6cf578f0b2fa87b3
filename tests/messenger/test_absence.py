"""Out-of-office: for a person's own mailbox only, never for a functional mailbox (R13)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mailboxes.models import AccessGrant, Mailbox
from mailboxes.services import absence_set
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS


def absence_url(mailbox: Mailbox) -> str:
    return reverse("messenger:absence", args=[mailbox.pk])


def test_a_person_marks_their_own_mailbox_absent_and_colleagues_see_it(world, categories):
    until = timezone.localdate() + timedelta(days=7)
    response = world.doctor.client().post(
        absence_url(world.doctor.mailbox),
        {"until": until.isoformat(), "note": "Bo tar mina ärenden."},
    )
    assert response.status_code == 302
    world.doctor.mailbox.refresh_from_db()
    assert world.doctor.mailbox.is_absent()
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    page = world.hc_nurse.client().get(thread_url("forward", world.gripen_fbl, thread))
    text = page.content.decode()
    assert f"är frånvarande till och med {until:%Y-%m-%d}" in text
    assert "Bo tar mina ärenden." in text


def test_a_functional_mailbox_has_no_absence_form_and_refuses_one(world):
    AccessGrant.objects.filter(user=world.hc_nurse.user).update(level=AccessGrant.Level.MANAGE)
    client = world.hc_nurse.client()
    page = client.get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk])).content.decode()
    assert "Spara frånvaro" not in page
    until = timezone.localdate() + timedelta(days=3)
    response = client.post(absence_url(world.gripen_fbl), {"until": until.isoformat()}, follow=True)
    assert "får inte användas för funktionsbrevlådor" in response.content.decode()
    world.gripen_fbl.refresh_from_db()
    assert world.gripen_fbl.absence_until is None


def test_the_database_refuses_an_absence_on_a_functional_mailbox(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=world.gripen_fbl.pk).update(absence_until=timezone.localdate())


def test_only_the_owner_sets_it(world):
    # The owner's colleague cannot reach the personal mailbox at all; the service says no too.
    response = world.hc_nurse.client().post(
        absence_url(world.doctor.mailbox), {"until": timezone.localdate().isoformat()}
    )
    assert response.status_code == 404
    with pytest.raises(ValidationError):
        absence_set(
            user=world.hc_nurse.user,
            mailbox=world.doctor.mailbox,
            until=timezone.localdate(),
            note="",
        )


@pytest.mark.parametrize(
    ("until", "message"),
    [("2020-01-01", "redan passerat"), ("12/24/2026", "ÅÅÅÅ-MM-DD"), ("i morgon", "ÅÅÅÅ-MM-DD")],
)
def test_a_bad_date_gets_a_message_and_changes_nothing(world, until, message):
    response = world.doctor.client().post(
        absence_url(world.doctor.mailbox), {"until": until}, follow=True
    )
    assert message in response.content.decode()
    world.doctor.mailbox.refresh_from_db()
    assert world.doctor.mailbox.absence_until is None


def test_an_empty_date_means_back_again(world):
    absence_set(
        user=world.doctor.user,
        mailbox=world.doctor.mailbox,
        until=timezone.localdate(),
        note="Kurs",
    )
    world.doctor.client().post(absence_url(world.doctor.mailbox), {"until": "", "note": "x"})
    world.doctor.mailbox.refresh_from_db()
    assert (world.doctor.mailbox.absence_until, world.doctor.mailbox.absence_note) == (None, "")


def test_a_personnummer_in_the_absence_note_is_refused(world):
    # The note shows to colleagues about to forward any thread, outside the patient's own.
    until = timezone.localdate() + timedelta(days=7)
    response = world.doctor.client().post(
        absence_url(world.doctor.mailbox),
        {"until": until.isoformat(), "note": "Ring om 19121212–1212"},
        follow=True,
    )
    assert "Skriv inte personnummer i frånvaromeddelandet" in response.content.decode()
    world.doctor.mailbox.refresh_from_db()
    assert (world.doctor.mailbox.absence_until, world.doctor.mailbox.absence_note) == (None, "")
