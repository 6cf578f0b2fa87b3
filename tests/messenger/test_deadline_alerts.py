"""R9: the deadline job reminds the receiving mailbox and alerts the asking side, each once.

Times are after the personas' grants begin (they are given at the real now), so grants hold.
"""

import pytest
import time_machine
from django.core import mail
from django.db import connection

from accounts.models import Notification
from mailboxes.models import MonitoringRoutine, NotificationKind, OutboxItem
from mailboxes.notifications import outbox_send
from messenger.models import Question
from messenger.services import deadlines_sweep, question_follow_up
from tests.factories import AccessGrantFactory, EmploymentFactory
from tests.helpers import at_once, delivery_of, reply, send
from tests.messenger.test_deadline import at
from tests.testdata import PATIENT

SUBJECT = "Dosering av Waran"
BODY = "Kan kvällsdosen sänkas till 2,5 mg?"


@pytest.fixture
def question(world, categories):
    world.gripen_fbl.phone = "054-123 45 67"
    world.gripen_fbl.save()
    with time_machine.travel(at(2027, 1, 11, 9, 0), tick=False):
        return send(
            world.nurse,
            world.gripen_fbl,
            categories["Läkemedel"],
            patient_id=PATIENT,
            subject=SUBJECT,
            body=BODY,
        )


def sweep(year, month, day, hour, minute=0):
    moment = at(year, month, day, hour, minute)
    with time_machine.travel(moment, tick=False):
        return deadlines_sweep(now=moment)


def deliver(year, month, day, hour, minute=0):
    moment = at(year, month, day, hour, minute)
    with time_machine.travel(moment, tick=False):
        return outbox_send(now=moment)


def rows(kind):
    return OutboxItem.objects.filter(kind=kind)


def test_no_reminder_before_a_day_is_left(question):
    assert sweep(2027, 1, 13, 8, 59) == {"reminders": 0, "alerts": 0}
    assert not OutboxItem.objects.exists()


def test_without_a_routine_everyone_with_access_is_reminded(world, question):
    colleague = EmploymentFactory.create(organisation=world.gripen)
    AccessGrantFactory.create(user=colleague.user, mailbox=world.gripen_fbl)
    assert sweep(2027, 1, 13, 9, 0) == {"reminders": 1, "alerts": 0}
    reminded = set(rows(NotificationKind.REMINDER).values_list("user_id", flat=True))
    assert reminded == {world.hc_nurse.user.pk, colleague.user.pk}


def test_with_a_routine_only_its_monitors_are_reminded(world, question):
    colleague = EmploymentFactory.create(organisation=world.gripen)
    AccessGrantFactory.create(user=colleague.user, mailbox=world.gripen_fbl)
    routine = MonitoringRoutine.objects.create(mailbox=world.gripen_fbl)
    routine.monitors.set([colleague.user])
    sweep(2027, 1, 13, 9, 0)
    assert set(rows(NotificationKind.REMINDER).values_list("user_id", flat=True)) == {
        colleague.user.pk
    }


def test_a_reminder_is_sent_once_however_often_the_job_runs(world, question):
    sweep(2027, 1, 13, 9, 0)
    sweep(2027, 1, 13, 9, 1)
    sweep(2027, 1, 13, 9, 2)
    # One in the app and one e-mail for the one person with access.
    assert rows(NotificationKind.REMINDER).count() == 2
    deliver(2027, 1, 13, 9, 3)
    deliver(2027, 1, 13, 9, 4)
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 1
    assert len(mail.outbox) == 1
    assert "24 h" in mail.outbox[0].body


def test_an_unanswered_question_alerts_the_author_and_the_asking_mailbox(world, question):
    colleague = EmploymentFactory.create(organisation=world.karlstad)
    AccessGrantFactory.create(user=colleague.user, mailbox=world.karlstad_fbl)
    assert sweep(2027, 1, 14, 8, 59)["alerts"] == 0
    assert sweep(2027, 1, 14, 9, 0) == {"reminders": 0, "alerts": 1}
    alerted = set(rows(NotificationKind.OVERDUE).values_list("user_id", flat=True))
    assert alerted == {world.nurse.user.pk, colleague.user.pk}
    deliver(2027, 1, 14, 9, 1)
    notice = Notification.objects.get(user=world.nurse.user, kind=NotificationKind.OVERDUE)
    assert "följ nu upp" in notice.text.lower()
    assert f"per telefon med {world.gripen_fbl.name}, 054-123 45 67." in notice.text
    assert notice.url == f"/brevlador/{world.karlstad_fbl.pk}/arenden/{question.pk}/"


def test_no_alert_or_email_holds_patient_subject_or_text(world, question):
    sweep(2027, 1, 14, 9, 0)
    deliver(2027, 1, 14, 9, 1)
    assert mail.outbox
    written = [f"{m.subject} {m.body}" for m in mail.outbox]
    written += list(Notification.objects.values_list("text", flat=True))
    for text in written:
        assert PATIENT not in text
        assert PATIENT[2:8] not in text
        assert SUBJECT not in text
        assert "Waran" not in text
        assert "kvällsdosen" not in text


def test_an_answered_question_alerts_nobody(world, question):
    with time_machine.travel(at(2027, 1, 12, 9, 0), tick=False):
        reply(world.hc_nurse, question)
    assert sweep(2027, 1, 15, 9, 0) == {"reminders": 0, "alerts": 0}


def test_a_follow_up_by_phone_stops_the_alerts(world, question):
    with time_machine.travel(at(2027, 1, 13, 8, 0), tick=False):
        question_follow_up(
            actor=world.nurse.user,
            employment=world.nurse.employment,
            delivery=delivery_of(question, world.karlstad_fbl),
            note="Pratade med Bo, löst.",
        )
    assert sweep(2027, 1, 15, 9, 0) == {"reminders": 0, "alerts": 0}


def test_the_clock_does_not_stop_for_christmas(world, categories):
    # R9 counts hours, not working days: the alert comes on Christmas Eve.
    with time_machine.travel(at(2027, 12, 21, 15, 0), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    assert sweep(2027, 12, 24, 14, 59)["alerts"] == 0
    assert sweep(2027, 12, 24, 15, 0)["alerts"] == 1


def test_across_the_autumn_dst_change_the_alert_comes_after_72_real_hours(world, categories):
    # Winter time starts 2027-10-31 at 03:00: Friday 12:00 + 72 h is Monday 11:00.
    with time_machine.travel(at(2027, 10, 29, 12, 0), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    assert sweep(2027, 11, 1, 10, 59)["alerts"] == 0
    assert sweep(2027, 11, 1, 11, 0)["alerts"] == 1


def test_over_midsummer_the_reminder_comes_a_day_before(world, categories):
    with time_machine.travel(at(2027, 6, 24, 16, 45), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Provtagning"], patient_id=PATIENT)
    assert sweep(2027, 6, 26, 16, 44)["reminders"] == 0
    assert sweep(2027, 6, 26, 16, 45)["reminders"] == 1


def test_a_short_window_is_reminded_halfway(world, categories):
    short = categories["Recept"]
    short.reply_window_hours = 12
    short.save()
    with time_machine.travel(at(2027, 1, 11, 8, 0), tick=False):
        send(world.nurse, world.gripen_fbl, short, patient_id=PATIENT)
    assert sweep(2027, 1, 11, 13, 59)["reminders"] == 0
    assert sweep(2027, 1, 11, 14, 0)["reminders"] == 1


def test_a_sweep_that_dies_half_way_leaves_nothing_half_done(world, categories, monkeypatch):
    with time_machine.travel(at(2027, 1, 11, 9, 0), tick=False):
        for _ in range(3):
            send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    import messenger.services

    calls = []
    real = messenger.services.mailbox_watchers

    def dies_on_the_third(mailbox):
        calls.append(mailbox)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real(mailbox)

    monkeypatch.setattr(messenger.services, "mailbox_watchers", dies_on_the_third)
    with pytest.raises(SystemExit):
        sweep(2027, 1, 13, 9, 0)
    assert not OutboxItem.objects.exists()
    assert not Question.objects.filter(reminded_at__isnull=False).exists()
    monkeypatch.setattr(messenger.services, "mailbox_watchers", real)
    assert sweep(2027, 1, 13, 9, 1)["reminders"] == 3
    assert rows(NotificationKind.REMINDER).filter(channel="app").count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_once(world, categories):
    with time_machine.travel(at(2027, 1, 11, 9, 0), tick=False):
        for _ in range(5):
            send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    moment = at(2027, 1, 13, 9, 0)
    results, errors = at_once(lambda: deadlines_sweep(now=moment, batch_size=2))
    assert errors == []
    assert sum(r["reminders"] for r in results) == 5
    assert rows(NotificationKind.REMINDER).filter(channel="app").count() == 5
    connection.close()


def test_after_the_job_was_down_an_overdue_question_gets_its_alert_and_no_late_reminder(
    world, question
):
    # Nothing ran between the reminder time and the due time.
    assert sweep(2027, 1, 14, 12, 0) == {"reminders": 0, "alerts": 1}
    assert not rows(NotificationKind.REMINDER).exists()
    assert Question.objects.get(thread=question).reminded_at is not None
    assert sweep(2027, 1, 14, 12, 1) == {"reminders": 0, "alerts": 0}


def test_across_the_spring_dst_change_reminder_and_alert_keep_real_hours(world, categories):
    # Summer time starts 2027-03-28 at 02:00: Friday 12:00 + 48 h is Sunday 13:00 local,
    # + 72 h Monday 13:00.
    with time_machine.travel(at(2027, 3, 26, 12, 0), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    assert sweep(2027, 3, 28, 12, 59)["reminders"] == 0
    assert sweep(2027, 3, 28, 13, 0)["reminders"] == 1
    assert sweep(2027, 3, 29, 12, 59)["alerts"] == 0
    assert sweep(2027, 3, 29, 13, 0)["alerts"] == 1


def test_across_the_autumn_dst_change_the_reminder_keeps_real_hours(world, categories):
    # Winter time starts 2027-10-31 at 03:00: Friday 12:00 + 48 h is Sunday 11:00 local.
    with time_machine.travel(at(2027, 10, 29, 12, 0), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    assert sweep(2027, 10, 31, 10, 59)["reminders"] == 0
    assert sweep(2027, 10, 31, 11, 0)["reminders"] == 1
