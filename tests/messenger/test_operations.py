"""The operators' page: the jobs' last runs and the outbox's backlog and failures."""

import smtplib

from django.urls import reverse
from django.utils import timezone

from mailboxes.models import NotificationKind, OutboxItem
from messenger.jobs import job_run

URL = reverse("messenger:operations")


def failed_item(world, error="SMTPServerDisconnected: Connection unexpectedly closed"):
    return OutboxItem.objects.create(
        key="overdue-1:1:email",
        user=world.nurse.user,
        channel=OutboxItem.Channel.EMAIL,
        kind=NotificationKind.OVERDUE,
        mailbox_name=world.karlstad_fbl.name,
        url="/",
        attempts=8,
        failed_at=timezone.now(),
        last_error=error,
    )


def test_it_shows_each_job_and_how_it_last_ran(world, sysadmin):  # noqa: F811
    job_run("deadlines")
    body = sysadmin.client().get(URL).content.decode()
    assert "deadlines" in body
    assert "reminders=0 alerts=0" in body
    assert "Har inte körts" in body  # the outbox has not run yet


def test_it_shows_the_backlog_and_the_failures(world, sysadmin):  # noqa: F811
    failed_item(world, error=str(smtplib.SMTPServerDisconnected("Connection unexpectedly closed")))
    body = sysadmin.client().get(URL).content.decode()
    assert "Connection unexpectedly closed" in body
    assert world.nurse.user.display_name() in body


def test_the_failures_can_be_tried_again(world, sysadmin):  # noqa: F811
    item = failed_item(world)
    response = sysadmin.client().post(reverse("messenger:outbox_retry"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.failed_at is None
    assert item.attempts == 0


def test_nobody_else_sees_or_retries(world):
    item = failed_item(world)
    for persona in (world.nurse, world.approver, world.log_reviewer):
        assert persona.client().get(URL).status_code == 404
        assert persona.client().post(reverse("messenger:outbox_retry")).status_code == 404
    item.refresh_from_db()
    assert item.failed_at is not None
