"""Refused mailbox and thread URLs are in the access log as denied attempts (issue 10, item 6).

The user still gets the plain 404 that tells nothing; the log reviewers see who tried which
ids, and no more than the URL said: never the mailbox's name, never a patient.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AccessLog
from audit.services import DENIED_LOG_LIMIT, DENIED_LOG_WINDOW
from mailboxes.models import AccessGrant, Mailbox
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS

THREAD_POSTS = ["reply", "attach_link", "follow_up", "move", "mark_unread", "forward"]
MAILBOX_POSTS = ["search", "empty_trash", "absence", "compose"]


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def denied():
    return AccessLog.objects.filter(action=AccessLog.Action.DENIED)


def assert_tells_nothing_more_than_the_url(entry: AccessLog, *mailboxes: Mailbox) -> None:
    # Whose log control sees the attempt: the mailbox's owner (no user reads this column).
    assert entry.mailbox_organisation_name == (mailboxes[0].organisation.name if mailboxes else "")
    values = [str(v) for k, v in entry.__dict__.items() if v is not None and k != "_state"]
    for patient in PATIENTS:
        assert not any(patient in v or patient.replace("-", "") in v for v in values)
    for mailbox in mailboxes:
        assert not any(mailbox.name in v for v in values)
    assert entry.mailbox_name == entry.patient_id == ""


def assert_plain_404(response) -> None:
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert "Sidan finns inte" in response.content.decode()


def test_an_outsider_opening_another_mailbox_is_logged_by_ids(world):
    response = world.outsider.client().get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk]))
    assert_plain_404(response)
    entry = denied().get()
    assert entry.user_id_snapshot == world.outsider.user.pk
    assert entry.user_name == world.outsider.user.display_name()
    assert entry.organisation_name == "Arvika kommun"  # the outsider's own, not Gripen's
    assert entry.detail == f"brevlåda {world.gripen_fbl.pk}"
    assert entry.thread_id_snapshot is None
    assert_tells_nothing_more_than_the_url(entry, world.gripen_fbl)


def test_an_outsider_opening_a_thread_is_logged_once_with_the_thread_asked_for(world, thread):
    url = thread_url("thread", world.gripen_fbl, thread)
    response = world.outsider.client().get(url)
    assert_plain_404(response)
    # Both doors said no (the thread's door asks the mailbox's first): one row.
    entry = denied().get()
    assert entry.user_id_snapshot == world.outsider.user.pk
    assert entry.detail == f"brevlåda {world.gripen_fbl.pk}, ärende {thread.pk}"
    assert entry.thread_id_snapshot == thread.pk
    assert_tells_nothing_more_than_the_url(entry, world.gripen_fbl, world.karlstad_fbl)
    assert not AccessLog.objects.filter(action=AccessLog.Action.VIEW_THREAD).exists()


def test_a_thread_its_own_mailbox_does_not_hold_is_logged_too(world, thread):
    # The outsider may read Arvika's mailbox, but Arvika holds no copy of this thread.
    response = world.outsider.client().get(thread_url("print", world.arvika_fbl, thread))
    assert_plain_404(response)
    entry = denied().get()
    assert entry.detail == f"brevlåda {world.arvika_fbl.pk}, ärende {thread.pk}"
    assert entry.thread_id_snapshot == thread.pk
    assert_tells_nothing_more_than_the_url(entry, world.arvika_fbl, world.gripen_fbl)


def test_a_mailbox_that_does_not_exist_is_logged_the_same_way(world):
    missing = Mailbox.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    client = world.outsider.client()
    assert_plain_404(client.get(reverse("messenger:mailbox", args=[missing])))
    assert_plain_404(client.get(reverse("messenger:thread", args=[missing, 424242])))
    assert list(denied().order_by("pk").values_list("detail", "thread_id_snapshot")) == [
        (f"brevlåda {missing}", None),
        (f"brevlåda {missing}, ärende 424242", 424242),
    ]


def test_someone_with_a_grant_leaves_no_denied_row(world, thread):
    client = world.hc_nurse.client()
    assert client.get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk])).status_code == 200
    assert client.get(thread_url("thread", world.gripen_fbl, thread)).status_code == 200
    assert client.get(thread_url("forward", world.gripen_fbl, thread)).status_code == 200
    assert not denied().exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.VIEW_THREAD).count() == 2


def test_a_grant_too_low_for_the_action_is_a_denied_attempt(world, thread):
    AccessGrant.objects.filter(user=world.hc_nurse.user, mailbox=world.gripen_fbl).update(
        level=AccessGrant.Level.READ
    )
    response = world.hc_nurse.client().post(
        thread_url("reply", world.gripen_fbl, thread), {"body": "x"}
    )
    assert_plain_404(response)
    entry = denied().get()
    assert entry.user_id_snapshot == world.hc_nurse.user.pk
    assert entry.organisation_name == "Vårdcentralen Gripen"
    assert entry.detail == f"brevlåda {world.gripen_fbl.pk}, ärende {thread.pk}"


@pytest.mark.parametrize("name", THREAD_POSTS)
def test_an_outsiders_post_to_a_thread_is_logged_once(world, thread, name):
    response = world.outsider.client().post(
        thread_url(name, world.gripen_fbl, thread), {"body": "x", "folder": "trash"}
    )
    assert_plain_404(response)
    entry = denied().get()
    assert entry.detail == f"brevlåda {world.gripen_fbl.pk}, ärende {thread.pk}"
    assert thread.messages.count() == 1


@pytest.mark.parametrize("name", MAILBOX_POSTS)
def test_an_outsiders_post_to_a_mailbox_is_logged_once(world, name):
    mailbox = world.doctor.mailbox if name == "absence" else world.gripen_fbl
    response = world.outsider.client().post(
        reverse(f"messenger:{name}", args=[mailbox.pk]), {"patient": PATIENTS[0], "text": "x"}
    )
    assert_plain_404(response)
    entry = denied().get()
    assert entry.detail == f"brevlåda {mailbox.pk}"
    assert_tells_nothing_more_than_the_url(entry, mailbox)


@pytest.mark.django_db(transaction=True)
def test_the_row_outlives_the_thread_views_rolled_back_transaction(world, thread):
    # The thread view opens the delivery inside transaction.atomic(), which the 404 rolls back.
    # Here nothing wraps the request (no test transaction): the row is committed, or it is lost.
    world.outsider.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert not connection.in_atomic_block
    entry = denied().get()
    assert entry.thread_id_snapshot == thread.pk


def test_a_crawler_fills_at_most_the_limit_per_window(world, time_machine):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    client = world.outsider.client()
    gripen = world.gripen_fbl.pk

    def refuse(number: int) -> None:
        url = reverse("messenger:thread", args=[gripen, 1000 + number])
        assert_plain_404(client.get(url))

    for number in range(DENIED_LOG_LIMIT):
        refuse(number)
    assert denied().count() == DENIED_LOG_LIMIT == 10
    # The 11th within ten minutes: still a plain 404, but nothing more written.
    time_machine.move_to(start + DENIED_LOG_WINDOW - timedelta(seconds=1), tick=False)
    refuse(DENIED_LOG_LIMIT)
    assert denied().count() == 10
    # Others are not held back by one user's limit.
    response = world.doctor.client().get(reverse("messenger:mailbox", args=[gripen]))
    assert_plain_404(response)
    assert denied().filter(user_id_snapshot=world.doctor.user.pk).count() == 1
    # Once the window has moved past the first ten, the next refusal is written again.
    time_machine.move_to(start + DENIED_LOG_WINDOW + timedelta(seconds=1), tick=False)
    refuse(DENIED_LOG_LIMIT + 1)
    outsiders = denied().filter(user_id_snapshot=world.outsider.user.pk)
    assert outsiders.count() == 11
    assert outsiders.first().detail == f"brevlåda {gripen}, ärende {1000 + DENIED_LOG_LIMIT + 1}"
