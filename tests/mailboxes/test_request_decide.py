from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from audit.models import AccessLog
from mailboxes.models import AccessGrant, AccessRequest, OutboxItem
from mailboxes.notifications import outbox_send
from mailboxes.services import access_request_approve, mailbox_close
from tests.mailboxes.conftest import apply


def decide_url(access_request: AccessRequest) -> str:
    return reverse("mailboxes:request_decide", args=[access_request.pk])


def decision(action: str | None = "approve", **overrides) -> dict:
    data = {
        "risk_assessed": "on",
        "risk_note": "Arbetar i området; låg risk med läsbehörighet",
        "reason": "Behovet är styrkt av enhetschefen",
        "decision": action,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_approver_sees_pending_requests_for_their_organisation_only(
    world, applicant, arvika_approver
):
    karlstad_request = apply(applicant, world.karlstad_fbl)
    arvika_request = apply(applicant, world.arvika_fbl)
    page = world.approver.client().get(reverse("mailboxes:approvals")).content.decode()
    assert decide_url(karlstad_request) in page
    assert decide_url(arvika_request) not in page


def test_approving_creates_the_grant_and_notifies_the_applicant(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    assert (
        applicant.client()
        .get(reverse("messenger:mailbox", args=[world.karlstad_fbl.pk]))
        .status_code
        == 404
    )

    response = world.approver.client().post(decide_url(access_request), decision())

    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.APPROVED
    assert access_request.decided_by == world.approver.user
    assert access_request.risk_assessed
    assert "låg risk" in access_request.risk_note
    grant = access_request.grant
    assert grant is not None
    assert grant.level == AccessGrant.Level.READ
    assert grant.granted_by == world.approver.user
    assert grant.valid_until is None
    assert (
        applicant.client()
        .get(reverse("messenger:mailbox", args=[world.karlstad_fbl.pk]))
        .status_code
        == 200
    )
    # Told through the outbox, in the app only (the text is the decision's), once.
    assert not Notification.objects.filter(user=applicant.user).exists()
    assert list(OutboxItem.objects.filter(user=applicant.user).values_list("kind", "channel")) == [
        ("access", "app")
    ]
    outbox_send()
    outbox_send()
    notice = Notification.objects.get(user=applicant.user)
    assert "beviljad" in notice.text
    assert world.karlstad_fbl.name in notice.text
    assert notice.url == reverse("mailboxes:my_access")
    entry = AccessLog.objects.get(detail__startswith="Beviljade")
    assert entry.user_id_snapshot == world.approver.user.pk
    assert "Behovet är styrkt" in entry.detail
    assert LogEntry.objects.get_for_object(grant).exists()


def test_a_grant_may_have_an_end_date(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    last_day = timezone.localdate() + timedelta(days=30)
    world.approver.client().post(
        decide_url(access_request), decision(valid_until=last_day.isoformat())
    )
    grant = AccessGrant.objects.get(user=applicant.user)
    assert timezone.localtime(grant.valid_until).date() == last_day + timedelta(days=1)


def test_denying_records_the_reason_and_grants_nothing(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    response = world.approver.client().post(
        decide_url(access_request), decision("deny", reason="Behovet är inte styrkt")
    )
    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.DENIED
    assert access_request.decision_reason == "Behovet är inte styrkt"
    assert not AccessGrant.objects.filter(user=applicant.user).exists()
    outbox_send()  # the decision is told through the outbox
    assert "avslagen" in Notification.objects.get(user=applicant.user).text


def test_approving_twice_is_refused_and_changes_nothing(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    client = world.approver.client()
    client.post(decide_url(access_request), decision())
    response = client.post(decide_url(access_request), decision())
    assert response.status_code == 200
    assert AccessGrant.objects.filter(user=applicant.user).count() == 1
    assert AccessLog.objects.filter(detail__startswith="Beviljade").count() == 1
    with pytest.raises(ValidationError, match="redan beslutad"):
        access_request_approve(
            access_request=access_request,
            approver=world.approver.user,
            approver_employment=world.approver.employment,
            risk_assessed=True,
            risk_note="x",
            reason="x",
        )


def test_an_approver_cannot_approve_their_own_request(world):
    access_request = apply(world.approver, world.karlstad_fbl)
    response = world.approver.client().post(decide_url(access_request), decision())
    assert response.status_code == 200
    assert "din egen ansökan" in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.is_pending
    assert not AccessGrant.objects.filter(user=world.approver.user).exists()


def test_an_approver_cannot_decide_for_another_organisations_mailbox(world, applicant):
    access_request = apply(applicant, world.arvika_fbl)
    client = world.approver.client()
    assert client.get(decide_url(access_request)).status_code == 404
    assert client.post(decide_url(access_request), decision()).status_code == 404
    with pytest.raises(ValidationError, match="organisationen"):
        access_request_approve(
            access_request=access_request,
            approver=world.approver.user,
            approver_employment=world.approver.employment,
            risk_assessed=True,
            risk_note="x",
            reason="x",
        )
    access_request.refresh_from_db()
    assert access_request.is_pending


def test_users_without_the_role_get_404(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    for persona in (world.nurse, world.hc_nurse, world.log_reviewer):
        client = persona.client()
        assert client.get(reverse("mailboxes:approvals")).status_code == 404
        assert client.get(decide_url(access_request)).status_code == 404
        assert client.post(decide_url(access_request), decision()).status_code == 404
    access_request.refresh_from_db()
    assert access_request.is_pending


def test_without_the_risk_assessment_nothing_is_decided_and_text_is_kept(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    response = world.approver.client().post(
        decide_url(access_request), decision(risk_assessed=None, reason="Mitt skäl här")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Bekräfta att behovs- och riskanalysen är gjord." in body
    assert "Mitt skäl här" in body
    access_request.refresh_from_db()
    assert access_request.is_pending


def test_an_end_date_in_the_past_is_refused(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = world.approver.client().post(
        decide_url(access_request), decision(valid_until=yesterday.isoformat())
    )
    assert "Datumet har redan passerat" in response.content.decode()
    assert not AccessGrant.objects.filter(user=applicant.user).exists()


def test_granting_on_a_closed_mailbox_is_refused(world, applicant, sysadmin):
    access_request = apply(applicant, world.karlstad_fbl)
    # A request still pending when the mailbox closed (closing denies them; simulate a race).
    mailbox_close(actor=sysadmin.user, mailbox=world.karlstad_fbl, reason="Sammanslagen")
    AccessRequest.objects.filter(pk=access_request.pk).update(status="pending")
    response = world.approver.client().post(decide_url(access_request), decision())
    assert response.status_code == 200
    assert "stängd" in response.content.decode()
    assert not AccessGrant.objects.filter(user=applicant.user).exists()


def test_approving_replaces_an_earlier_grant_of_another_level(world):
    access_request = apply(world.nurse, world.karlstad_fbl, level=AccessGrant.Level.MANAGE)
    world.approver.client().post(decide_url(access_request), decision())
    grants = AccessGrant.objects.filter(user=world.nurse.user, mailbox=world.karlstad_fbl)
    assert grants.count() == 2
    assert grants.current().get().level == AccessGrant.Level.MANAGE


def test_the_working_organisation_decides_whether_one_may_approve(world, applicant):
    # Eva approves in Karlstad, but also works at Vc Gripen without the role.
    from tests.factories import EmploymentFactory

    EmploymentFactory.create(user=world.approver.user, organisation=world.gripen)
    access_request = apply(applicant, world.karlstad_fbl)
    client = world.approver.client()
    client.post(reverse("accounts:switch_organisation"), {"organisation": world.gripen.pk})
    assert client.get(reverse("mailboxes:approvals")).status_code == 404
    assert client.post(decide_url(access_request), decision()).status_code == 404
    client.post(reverse("accounts:switch_organisation"), {"organisation": world.karlstad.pk})
    assert client.post(decide_url(access_request), decision()).status_code == 302


def test_the_change_history_names_the_approver(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    world.approver.client().post(decide_url(access_request), decision())
    access_request.refresh_from_db()
    history = LogEntry.objects.get_for_object(access_request).order_by("-timestamp").first()
    assert history is not None
    assert history.actor == world.approver.user
