"""R9 on the pages: the thread's questions and their outcomes, the follow-up by phone, and
each mailbox's "Väntar på svar"."""

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from mailboxes.models import Mailbox
from messenger.models import ThreadEvent
from messenger.services import deadlines_sweep, question_follow_up
from tests.helpers import delivery_of, reply, send, thread_url
from tests.messenger.test_deadline import at
from tests.testdata import PATIENTS


def overdue_thread(world, categories, patient=PATIENTS[0], subject="Fråga om ordination"):
    with time_machine.travel(at(2027, 1, 11, 9, 0), tick=False):
        return send(
            world.nurse, world.gripen_fbl, categories["Recept"], patient_id=patient, subject=subject
        )


def test_the_asker_of_an_overdue_question_is_told_to_phone_and_offered_the_follow_up(
    world, categories
):
    world.gripen_fbl.phone = "054-61 00 00"
    world.gripen_fbl.save()
    thread = overdue_thread(world, categories)
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        page = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    body = page.content.decode()
    assert "Svarstiden har gått ut." in body
    assert "054-61 00 00" in body
    assert reverse("messenger:follow_up", args=[world.karlstad_fbl.pk, thread.pk]) in body
    assert "Obesvarad, svarstiden har gått ut" in body


def test_the_receiving_side_is_not_offered_the_follow_up(world, categories):
    thread = overdue_thread(world, categories)
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        body = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert "follow-up-heading" not in body.content.decode()


def test_following_up_by_phone_stops_the_clock_and_shows_in_the_history(world, categories):
    thread = overdue_thread(world, categories)
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        client = world.nurse.client()  # signed in now: the session's clock starts here
        response = client.post(
            thread_url("follow_up", world.karlstad_fbl, thread),
            {"note": "Ringde Bo på Gripen, receptet skrivs i dag."},
        )
        assert response["Location"] == thread_url("thread", world.karlstad_fbl, thread)
        body = client.get(response["Location"]).content.decode()
    assert "följde upp per telefon" in body
    assert "receptet skrivs i dag" in body
    assert "Uppföljd per telefon" in body
    assert "follow-up-heading" not in body
    assert AccessLog.objects.filter(action=AccessLog.Action.FOLLOW_UP, patient_id=PATIENTS[0])


def test_an_empty_note_is_a_message_and_nothing_is_saved(world, categories):
    thread = overdue_thread(world, categories)
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        response = world.nurse.client().post(
            thread_url("follow_up", world.karlstad_fbl, thread), {"note": ""}
        )
    assert response.status_code == 400
    assert "Skriv kort vad som sades i telefon." in response.content.decode()
    assert not ThreadEvent.objects.filter(kind=ThreadEvent.Kind.FOLLOWED_UP).exists()


def test_an_outsider_cannot_follow_up(world, categories):
    thread = overdue_thread(world, categories)
    response = world.outsider.client().post(
        thread_url("follow_up", world.karlstad_fbl, thread), {"note": "x"}
    )
    assert response.status_code == 404
    assert not ThreadEvent.objects.exists()


def test_the_thread_lists_each_question_with_its_outcome(world, categories):
    thread = overdue_thread(world, categories)
    with time_machine.travel(at(2027, 1, 12, 9, 0), tick=False):
        reply(world.hc_nurse, thread)
    with time_machine.travel(at(2027, 1, 13, 9, 0), tick=False):
        reply(world.nurse, thread, body="Och kvällsdosen?")
    with time_machine.travel(at(2027, 1, 17, 9, 0), tick=False):
        reply(world.hc_nurse, thread)
        body = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    text = body.content.decode()
    assert "Besvarad i tid av" in text
    assert "Besvarad för sent av" in text


def test_waiting_lists_the_mailboxs_open_questions_overdue_first(world, categories):
    late = overdue_thread(world, categories, subject="Försenad fråga")
    with time_machine.travel(at(2027, 1, 13, 9, 0), tick=False):
        send(
            world.nurse,
            world.gripen_fbl,
            categories["Recept"],
            patient_id=PATIENTS[1],
            subject="Ny fråga",
        )
        answered = send(
            world.nurse,
            world.gripen_fbl,
            categories["Recept"],
            patient_id=PATIENTS[2],
            subject="Besvarad fråga",
        )
        send(
            world.nurse,
            world.gripen_fbl,
            categories["För kännedom"],
            patient_id=PATIENTS[3],
            subject="Bara för kännedom",
        )
        reply(world.hc_nurse, answered)
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        body = (
            world.nurse.client()
            .get(reverse("messenger:waiting", args=[world.karlstad_fbl.pk]))
            .content.decode()
        )
    assert body.index("Försenad fråga") < body.index("Ny fråga")
    assert "Besvarad fråga" not in body
    assert "Bara för kännedom" not in body
    assert PATIENTS[0] not in body  # masked in lists
    assert reverse("messenger:thread", args=[world.karlstad_fbl.pk, late.pk]) in body


def test_waiting_is_for_the_mailboxs_own_people_only(world):
    url = reverse("messenger:waiting", args=[world.karlstad_fbl.pk])
    assert world.outsider.client().get(url).status_code == 404


def test_a_thread_emptied_from_the_senders_trash_leaves_its_waiting_list(world, categories):
    from messenger.models import Delivery
    from messenger.services import trash_empty

    overdue_thread(world, categories, subject="Slängd fråga")
    Delivery.objects.filter(mailbox=world.karlstad_fbl).update(folder=Delivery.Folder.TRASH)
    trash_empty(
        user=world.nurse.user, employment=world.nurse.employment, mailbox=world.karlstad_fbl
    )
    with time_machine.travel(at(2027, 1, 14, 10, 0), tick=False):
        body = (
            world.nurse.client()
            .get(reverse("messenger:waiting", args=[world.karlstad_fbl.pk]))
            .content.decode()
        )
        assert deadlines_sweep()["alerts"] == 0  # nor is the mailbox alerted about it
    assert "Slängd fråga" not in body


def test_a_closed_mailbox_cannot_follow_up(world, categories):
    thread = overdue_thread(world, categories)
    Mailbox.objects.filter(pk=world.karlstad_fbl.pk).update(closed_at=timezone.now())
    with pytest.raises(ValidationError, match="stängd"):
        question_follow_up(
            actor=world.nurse.user,
            employment=world.nurse.employment,
            delivery=delivery_of(thread, world.karlstad_fbl),
            note="Ringde.",
        )
    assert not ThreadEvent.objects.filter(kind=ThreadEvent.Kind.FOLLOWED_UP).exists()
