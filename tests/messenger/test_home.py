from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailboxes.models import AccessGrant
from messenger.models import Delivery
from tests.factories import AccessGrantFactory, MailboxFactory
from tests.helpers import assert_num_queries, send
from tests.testdata import PATIENTS


def names_listed(client) -> str:
    return client.get(reverse("messenger:home")).content.decode()


def test_it_lists_exactly_the_mailboxes_the_user_holds_a_grant_for(world):
    page = names_listed(world.nurse.client())
    assert world.karlstad_fbl.name in page
    assert world.gripen_fbl.name not in page
    assert world.arvika_fbl.name not in page


def test_outsider_sees_nothing_of_karlstad(world):
    page = names_listed(world.outsider.client())
    assert world.arvika_fbl.name in page
    assert world.karlstad_fbl.name not in page
    assert "Karlstad" not in page


def test_it_shows_the_unread_count_of_each_inbox(world, categories):
    for patient in PATIENTS[:3]:
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=patient)
    first = Delivery.objects.filter(mailbox=world.gripen_fbl).order_by("pk")[0]
    first.read_at = timezone.now()
    first.save(update_fields=["read_at"])

    response = world.hc_nurse.client().get(reverse("messenger:home"))
    gripen = next(m for m in response.context["mailboxes"] if m.pk == world.gripen_fbl.pk)
    assert gripen.unread == 2
    # The sender's own copies sit in Skickat, read: nothing unread there.
    response = world.nurse.client().get(reverse("messenger:home"))
    karlstad = next(m for m in response.context["mailboxes"] if m.pk == world.karlstad_fbl.pk)
    assert karlstad.unread == 0


@pytest.mark.parametrize(
    "grant_change",
    [
        {"ended_at": timezone.now() - timedelta(minutes=1)},
        {"valid_until": timezone.now() - timedelta(minutes=1)},
        {"valid_from": timezone.now() + timedelta(days=1)},
    ],
    ids=["ended", "expired", "not-yet-valid"],
)
def test_a_grant_that_is_not_current_hides_the_mailbox(world, grant_change):
    AccessGrant.objects.filter(user=world.nurse.user).update(**grant_change)
    page = names_listed(world.nurse.client())
    assert world.karlstad_fbl.name not in page
    assert "ingen behörighet" in page


def test_the_nav_fragment_refreshes_unread_counts(world, categories):
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    response = world.hc_nurse.client().get(reverse("messenger:nav"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert world.gripen_fbl.name in body
    assert '<span class="badge">1' in body
    assert "HX-Request" in response["Vary"]


def test_home_query_count_does_not_grow_with_mailboxes_or_threads(world, categories):
    client = world.hc_nurse.client()
    client.get(reverse("messenger:home"))  # warm the session

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("messenger:home")).status_code == 200
        return len(captured)

    few = count_queries()
    for _ in range(5):
        AccessGrantFactory(user=world.hc_nurse.user, mailbox=MailboxFactory())
    for patient in PATIENTS[:20]:
        send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=patient)
    assert count_queries() == few
    # session, user, employments, mailboxes with their unread counts and the count of unread
    # notifications (one query), whether the first-sign-in tour is still to be shown (R23),
    # then the session's save: savepoint, update, release
    with assert_num_queries(8):
        client.get(reverse("messenger:home"))


def test_an_access_approver_sees_the_applications_waiting_for_them(world):
    from tests.mailboxes.conftest import apply

    apply(world.outsider, world.karlstad_fbl)
    page = world.approver.client().get(reverse("messenger:home")).content.decode()
    assert "1 ansökan om behörighet väntar på ditt beslut" in page
    assert reverse("mailboxes:approvals") in page
    # A nurse has no such tasks.
    nurse_page = world.outsider.client().get(reverse("messenger:home")).content.decode()
    assert "Dina uppgifter" not in nurse_page
