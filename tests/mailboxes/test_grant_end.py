from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from audit.models import AccessLog
from mailboxes.models import AccessGrant
from mailboxes.notifications import outbox_send
from mailboxes.services import grant_end


def nurse_grant(world) -> AccessGrant:
    return AccessGrant.objects.current().get(user=world.nurse.user, mailbox=world.karlstad_fbl)


def end_url(grant: AccessGrant) -> str:
    return reverse("mailboxes:grant_end", args=[grant.pk])


def mailbox_url(world) -> str:
    return reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])


def test_an_approver_ends_a_grant_at_once_and_the_next_request_gets_404(world):
    grant = nurse_grant(world)
    nurse = world.nurse.client()
    assert nurse.get(mailbox_url(world)).status_code == 200
    response = world.approver.client().post(
        end_url(grant), {"when": "now", "reason": "Slutat på enheten"}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert grant.ended_by == world.approver.user
    assert grant.end_reason == "Slutat på enheten"
    assert nurse.get(mailbox_url(world)).status_code == 404
    outbox_send()  # the decision is told through the outbox
    assert "är avslutad" in Notification.objects.get(user=world.nurse.user).text
    entry = AccessLog.objects.get(detail__startswith="Avslutade")
    assert "Slutat på enheten" in entry.detail
    assert entry.mailbox_name == world.karlstad_fbl.name


def test_an_approver_ends_a_grant_from_a_later_date(world):
    grant = nurse_grant(world)
    day = timezone.localdate() + timedelta(days=10)
    world.approver.client().post(
        end_url(grant), {"when": "date", "from_date": day.isoformat(), "reason": "Flyttar"}
    )
    grant.refresh_from_db()
    assert grant.ended_at is None
    nurse = world.nurse.client()
    assert nurse.get(mailbox_url(world)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        # A fresh login: the old session has long expired.
        assert world.nurse.client().get(mailbox_url(world)).status_code == 404


def test_a_date_in_the_past_is_refused_and_the_reason_kept(world):
    grant = nurse_grant(world)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = world.approver.client().post(
        end_url(grant), {"when": "date", "from_date": yesterday.isoformat(), "reason": "Flyttar"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Datumet har redan passerat" in body
    assert "Flyttar" in body
    grant.refresh_from_db()
    assert grant.is_current()


def test_choosing_a_date_without_one_is_refused(world):
    grant = nurse_grant(world)
    response = world.approver.client().post(end_url(grant), {"when": "date", "reason": "x"})
    assert "Välj datumet" in response.content.decode()
    grant.refresh_from_db()
    assert grant.is_current()


def test_an_approver_of_another_organisation_gets_404(world, arvika_approver):
    grant = nurse_grant(world)
    response = arvika_approver.client().post(end_url(grant), {"when": "now", "reason": "x"})
    assert response.status_code == 404
    with pytest.raises(ValidationError, match="organisationen"):
        grant_end(
            grant=grant,
            actor=arvika_approver.user,
            actor_employment=arvika_approver.employment,
            reason="x",
        )
    grant.refresh_from_db()
    assert grant.is_current()


def test_users_without_the_role_get_404(world):
    grant = nurse_grant(world)
    for persona in (world.nurse, world.outsider, world.log_reviewer):
        response = persona.client().post(end_url(grant), {"when": "now", "reason": "x"})
        assert response.status_code == 404
    grant.refresh_from_db()
    assert grant.is_current()


def test_a_user_gives_up_their_own_grant(world):
    grant = nurse_grant(world)
    client = world.nurse.client()
    response = client.post(reverse("mailboxes:grant_give_up", args=[grant.pk]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ended_by == world.nurse.user
    assert grant.end_reason == "Lämnade själv tillbaka behörigheten"
    assert client.get(mailbox_url(world)).status_code == 404
    # No notice to oneself.
    outbox_send()  # the decision is told through the outbox
    assert not Notification.objects.filter(user=world.nurse.user).exists()


def test_nobody_gives_up_someone_elses_grant(world):
    grant = nurse_grant(world)
    for persona in (world.outsider, world.approver):
        url = reverse("mailboxes:grant_give_up", args=[grant.pk])
        assert persona.client().post(url).status_code == 404
    grant.refresh_from_db()
    assert grant.is_current()


def test_ending_an_ended_grant_is_refused(world):
    grant = nurse_grant(world)
    grant_end(grant=grant, actor=world.nurse.user, actor_employment=None, reason="")
    with pytest.raises(ValidationError, match="redan avslutad"):
        grant_end(
            grant=grant,
            actor=world.approver.user,
            actor_employment=world.approver.employment,
            reason="x",
        )
    assert AccessLog.objects.filter(detail__startswith="Avslutade").count() == 1


def test_giving_up_asks_first_and_a_get_changes_nothing(world):
    grant = nurse_grant(world)
    url = reverse("mailboxes:grant_give_up", args=[grant.pk])
    page = world.nurse.client().get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Den upphör direkt." in body
    assert "ansöka igen" in body
    grant.refresh_from_db()
    assert grant.is_current()
    assert url in world.nurse.client().get(reverse("mailboxes:my_access")).content.decode()


def test_a_personal_mailbox_grant_cannot_be_given_up(world):
    from tests.factories import AccessGrantFactory, MailboxFactory

    personal = MailboxFactory.create(
        kind="personal", owner=world.nurse.user, organisation=world.karlstad, hsa_id=""
    )
    grant = AccessGrantFactory.create(user=world.nurse.user, mailbox=personal, level=30)
    url = reverse("mailboxes:grant_give_up", args=[grant.pk])
    assert world.nurse.client().post(url).status_code == 404
    grant.refresh_from_db()
    assert grant.is_current()


def test_ending_later_than_the_grant_already_ends_is_refused(world):
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from mailboxes.models import AccessGrant
    from mailboxes.services import grant_end

    grant = AccessGrant.objects.get(user=world.nurse.user, mailbox=world.karlstad_fbl)
    soon = timezone.now() + timedelta(days=2)
    AccessGrant.objects.filter(pk=grant.pk).update(valid_until=soon)
    grant.refresh_from_db()
    with pytest.raises(ValidationError, match="förlänga"):
        grant_end(
            grant=grant,
            actor=world.approver.user,
            actor_employment=world.approver.employment,
            reason="Slutar",
            from_date=timezone.localdate() + timedelta(days=300),
        )
    grant.refresh_from_db()
    assert grant.valid_until == soon
