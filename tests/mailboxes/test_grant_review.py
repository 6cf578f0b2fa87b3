from datetime import timedelta

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailboxes.models import AccessGrant

URL = reverse("mailboxes:grant_review")


def test_the_approver_sees_their_organisations_grants_with_age_and_last_use(world):
    AccessGrant.objects.filter(user=world.nurse.user).update(
        valid_from=timezone.now() - timedelta(days=40),
        last_used_at=timezone.now() - timedelta(days=2),
    )
    response = world.approver.client().get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["grant"].user for r in rows] == [world.nurse.user]
    assert rows[0]["age_days"] == 40
    assert not rows[0]["flagged"]
    body = response.content.decode()
    assert world.nurse.user.display_name() in body
    assert world.outsider.user.display_name() not in body  # Arvika's grants are not Karlstad's


@override_settings(GRANT_REVIEW_DAYS=30)
def test_grants_unused_for_the_configured_period_are_flagged(world):
    AccessGrant.objects.filter(user=world.nurse.user).update(
        valid_from=timezone.now() - timedelta(days=200),
        last_used_at=timezone.now() - timedelta(days=31),
    )
    response = world.approver.client().get(URL)
    assert response.context["rows"][0]["flagged"]
    assert "1 behörighet behöver granskas." in response.content.decode()


def test_a_grant_whose_job_has_ended_is_flagged_and_says_so(world):
    AccessGrant.objects.filter(user=world.nurse.user).update(last_used_at=timezone.now())
    world.nurse.employment.ended_at = timezone.now()
    world.nurse.employment.save(update_fields=["ended_at"])
    response = world.approver.client().get(URL)
    [row] = [r for r in response.context["rows"] if r["grant"].user == world.nurse.user]
    assert row["flagged"]
    assert "anställningen har upphört" in response.content.decode()


def test_a_never_used_grant_is_flagged_once_it_is_old_enough(world):
    AccessGrant.objects.filter(user=world.nurse.user).update(
        valid_from=timezone.now() - timedelta(days=91), last_used_at=None
    )
    response = world.approver.client().get(URL)
    assert response.context["rows"][0]["flagged"]


def test_users_without_the_role_get_404(world):
    for persona in (world.nurse, world.outsider, world.hc_nurse, world.log_reviewer):
        assert persona.client().get(URL).status_code == 404


def test_an_approver_of_another_organisation_sees_only_theirs(world, arvika_approver):
    response = arvika_approver.client().get(URL)
    assert [r["grant"].user for r in response.context["rows"]] == [world.outsider.user]


def test_using_a_grant_refreshes_its_last_use_at_most_hourly(world):
    import time_machine

    from mailboxes.services import grant_mark_used

    grant = AccessGrant.objects.get(user=world.nurse.user, mailbox=world.karlstad_fbl)
    assert grant.last_used_at is None
    grant_mark_used(user=world.nurse.user, mailbox=world.karlstad_fbl)
    grant.refresh_from_db()
    first = grant.last_used_at
    assert first is not None
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        grant_mark_used(user=world.nurse.user, mailbox=world.karlstad_fbl)
    grant.refresh_from_db()
    assert grant.last_used_at == first
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        grant_mark_used(user=world.nurse.user, mailbox=world.karlstad_fbl)
    grant.refresh_from_db()
    assert grant.last_used_at > first
    # Someone without a grant changes nothing.
    grant_mark_used(user=world.outsider.user, mailbox=world.karlstad_fbl)
    assert not AccessGrant.objects.filter(user=world.outsider.user, mailbox=world.karlstad_fbl)


def test_the_inbox_writes_the_grants_last_use_once_an_hour_and_no_query_between(world):

    grant = AccessGrant.objects.get(user=world.hc_nurse.user, mailbox=world.gripen_fbl)
    client = world.hc_nurse.client()
    inbox = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    assert client.get(inbox).status_code == 200
    grant.refresh_from_db()
    first = grant.last_used_at
    assert first is not None

    def grant_updates() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(inbox).status_code == 200
        return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "mailboxes_accessgrant"')]

    assert grant_updates() == []
    grant.refresh_from_db()
    assert grant.last_used_at == first
    # An hour and more later (moved back in the database: a client idle that long is signed out).
    AccessGrant.objects.filter(pk=grant.pk).update(last_used_at=first - timedelta(hours=2))
    assert len(grant_updates()) == 1
    grant.refresh_from_db()
    assert grant.last_used_at > first
