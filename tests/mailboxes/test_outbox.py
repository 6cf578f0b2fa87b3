"""Flow 4: every notice is an outbox row first; the outbox job delivers each row once."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from mailboxes.models import EmailSetting, NotificationKind, OutboxItem
from mailboxes.notifications import notices_prune, notify, outbox_retry, outbox_send
from messenger.services import message_forward
from tests.helpers import at_once, delivery_of, send
from tests.testdata import PATIENT


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def channels(user, kind=NotificationKind.NEW_MESSAGE):
    return set(OutboxItem.objects.filter(user=user, kind=kind).values_list("channel", flat=True))


def test_a_new_message_in_a_functional_mailbox_is_no_notice_by_default(world, categories):
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    # The unread count in the navigation already says it.
    assert channels(world.hc_nurse.user) == set()
    assert channels(world.nurse.user) == set()  # the author is not told of their own message


def test_who_asks_for_it_gets_an_email_of_new_messages_in_a_functional_mailbox(world, categories):
    EmailSetting.objects.create(
        user=world.hc_nurse.user,
        mailbox=world.gripen_fbl,
        kind=NotificationKind.NEW_MESSAGE,
        enabled=True,
    )
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    assert channels(world.hc_nurse.user) == {"email"}


def test_a_thread_forwarded_to_a_personal_mailbox_notifies_in_the_app_and_by_email(
    world, categories
):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    message_forward(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        colleague=world.doctor.user,
        comment="",
        colleague_told=True,
    )
    assert channels(world.doctor.user) == {"app", "email"}
    outbox_send()
    notice = Notification.objects.get(user=world.doctor.user)
    assert notice.text == f"Nytt meddelande i {world.doctor.mailbox.name} (Recept)."
    assert notice.url == f"/brevlador/{world.doctor.mailbox.pk}/arenden/{thread.pk}/"
    (email,) = mail.outbox
    assert email.to == [world.doctor.user.email]
    assert f"http://127.0.0.1:8000/brevlador/{world.doctor.mailbox.pk}/" in email.body
    assert PATIENT not in email.body
    assert "Fråga om ordination" not in f"{email.subject} {email.body}"


def test_someone_who_turned_email_off_gets_the_notice_in_the_app_only(world):
    EmailSetting.objects.create(
        user=world.doctor.user,
        mailbox=world.doctor.mailbox,
        kind=NotificationKind.NEW_MESSAGE,
        enabled=False,
    )
    notify(
        event="test-1",
        kind=NotificationKind.NEW_MESSAGE,
        users=[world.doctor.user],
        mailbox=world.doctor.mailbox,
        url="/",
    )
    assert channels(world.doctor.user) == {"app"}


def test_no_email_row_for_someone_without_an_address(world):
    world.doctor.user.email = ""
    world.doctor.user.save()
    notify(
        event="test-1",
        kind=NotificationKind.REMINDER,
        users=[world.doctor.user],
        mailbox=world.doctor.mailbox,
        url="/",
    )
    assert channels(world.doctor.user, NotificationKind.REMINDER) == {"app"}


def test_the_same_event_noticed_twice_is_one_row_per_person_and_channel(world):
    for _ in range(2):
        notify(
            event="reminder-7",
            kind=NotificationKind.REMINDER,
            users=[world.hc_nurse.user, world.hc_nurse.user],
            mailbox=world.gripen_fbl,
            url="/",
        )
    assert OutboxItem.objects.count() == 2
    outbox_send()
    outbox_send()
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_each_email_has_a_message_id_of_its_own_row(world):
    notify(
        event="reminder-7",
        kind=NotificationKind.REMINDER,
        users=[world.hc_nurse.user, world.nurse.user],
        mailbox=world.gripen_fbl,
        url="/",
    )
    outbox_send()
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert len(ids) == 2


def test_a_failed_email_is_retried_with_a_growing_pause_then_given_up(world, settings):
    settings.EMAIL_BACKEND = "tests.mailboxes.test_outbox.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    notify(
        event="overdue-1",
        kind=NotificationKind.OVERDUE,
        users=[world.nurse.user],
        mailbox=world.karlstad_fbl,
        url="/",
    )
    start = timezone.now()
    assert outbox_send(now=start) == {"sent": 1, "retry": 1, "failed": 0}  # the app notice
    item = OutboxItem.objects.get(channel="email")
    assert item.due_at == start + timedelta(minutes=1)
    assert "SMTPServerDisconnected" in item.last_error
    assert outbox_send(now=start + timedelta(seconds=30))["retry"] == 0  # not due yet
    assert outbox_send(now=start + timedelta(minutes=1))["retry"] == 1
    item.refresh_from_db()
    assert item.due_at == start + timedelta(minutes=3)  # then two minutes' pause
    assert outbox_send(now=start + timedelta(minutes=3))["failed"] == 1
    item.refresh_from_db()
    assert item.failed_at is not None
    assert item.attempts == 3
    assert list(OutboxItem.objects.failed()) == [item]
    assert outbox_send(now=start + timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_retry(item_ids=[item.pk]) == 1
    assert outbox_send()["sent"] == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_outbox_runs_at_once_deliver_each_row_once(world):
    people = [world.nurse.user, world.hc_nurse.user, world.outsider.user, world.doctor.user]
    for n in range(5):
        notify(
            event=f"reminder-{n}",
            kind=NotificationKind.REMINDER,
            users=people,
            mailbox=world.gripen_fbl,
            url="/",
        )
    results, errors = at_once(lambda: outbox_send(batch_size=3))
    assert errors == []
    assert sum(r["sent"] for r in results) == 40
    assert Notification.objects.count() == 20
    assert len(mail.outbox) == 20
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 20
    connection.close()


def test_the_nightly_prune_keeps_what_is_new_or_undelivered(world):
    now = timezone.now()
    old, recent = now - timedelta(days=400), now - timedelta(days=2)
    notify(
        event="reminder-1",
        kind=NotificationKind.REMINDER,
        users=[world.nurse.user],
        mailbox=world.karlstad_fbl,
        url="/",
    )
    OutboxItem.objects.filter(channel="app").update(sent_at=old)  # delivered long ago
    OutboxItem.objects.filter(channel="email").update(failed_at=old)  # given up: stays
    Notification.objects.create(user=world.nurse.user, text="gammal", read_at=old)
    Notification.objects.create(user=world.nurse.user, text="oläst", created_at=old)
    Notification.objects.create(user=world.nurse.user, text="ny", read_at=recent)
    assert notices_prune(now=now) == {"outbox": 1, "notices": 1, "checks": 0, "missed_checks": 0}
    assert list(OutboxItem.objects.values_list("channel", flat=True)) == ["email"]
    assert set(Notification.objects.values_list("text", flat=True)) == {"oläst", "ny"}
    assert notices_prune(now=now)["notices"] == 0


def test_a_mail_server_that_is_down_stops_the_run_after_one_try(world, settings):
    settings.EMAIL_BACKEND = "tests.mailboxes.test_outbox.RefusingBackend"
    notify(
        event="reminder-1",
        kind=NotificationKind.REMINDER,
        users=[world.nurse.user, world.hc_nurse.user, world.outsider.user],
        mailbox=world.gripen_fbl,
        url="/",
    )
    # Three notices in the app go out; of the e-mails, one is tried and the rest wait.
    assert outbox_send() == {"sent": 3, "retry": 1, "failed": 0}
    assert OutboxItem.objects.filter(channel="email", attempts=0).count() == 2
