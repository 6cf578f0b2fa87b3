from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from mailboxes.models import AccessGrant, AccessRequest
from mailboxes.services import access_request_create, mailbox_close
from tests.mailboxes.conftest import apply

URL = reverse("mailboxes:request_create")


def test_a_user_applies_for_read_access_with_a_justification(world, applicant):
    response = applicant.client().post(
        URL,
        {
            "mailbox": world.karlstad_fbl.pk,
            "level": AccessGrant.Level.READ,
            "justification": "Ny sjuksköterska i hemsjukvården",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mailboxes:my_access")
    request = AccessRequest.objects.get()
    assert request.applicant == applicant.user
    assert request.requested_by == applicant.user
    assert request.status == AccessRequest.Status.PENDING
    assert request.level == AccessGrant.Level.READ
    entry = AccessLog.objects.get(action=AccessLog.Action.ADMIN, detail__startswith="Ansökan")
    assert entry.mailbox_name == world.karlstad_fbl.name
    assert "Ny sjuksköterska" in entry.detail


def test_the_form_lists_every_open_functional_mailbox_across_organisations(world, applicant):
    page = applicant.client().get(URL).content.decode()
    for box in (world.karlstad_fbl, world.arvika_fbl, world.gripen_fbl):
        assert box.name in page
    # Only approvers apply on someone's behalf.
    assert 'name="applicant"' not in page


def test_an_approver_applies_on_behalf_of_a_colleague(world, applicant):
    response = world.approver.client().post(
        URL,
        {
            "applicant": applicant.user.pk,
            "mailbox": world.karlstad_fbl.pk,
            "level": AccessGrant.Level.SEND,
            "justification": "Börjar i nattpatrullen",
        },
    )
    assert response.status_code == 302
    request = AccessRequest.objects.get()
    assert request.applicant == applicant.user
    assert request.requested_by == world.approver.user


def test_an_approver_cannot_apply_for_someone_in_another_organisation(world):
    with pytest.raises(ValidationError, match="egna organisationen"):
        access_request_create(
            applicant=world.outsider.user,
            requested_by=world.approver.user,
            requested_by_employment=world.approver.employment,
            mailbox=world.karlstad_fbl,
            level=AccessGrant.Level.READ,
            justification="x",
        )
    # Nor does the form offer them.
    page = world.approver.client().get(URL).content.decode()
    assert world.outsider.user.username not in page


def test_a_plain_user_cannot_apply_for_someone_else(world, applicant):
    with pytest.raises(ValidationError):
        access_request_create(
            applicant=applicant.user,
            requested_by=world.nurse.user,
            requested_by_employment=world.nurse.employment,
            mailbox=world.karlstad_fbl,
            level=AccessGrant.Level.READ,
            justification="x",
        )
    assert not AccessRequest.objects.exists()


def test_a_second_pending_request_for_the_same_mailbox_is_refused(world, applicant):
    apply(applicant, world.karlstad_fbl)
    response = applicant.client().post(
        URL,
        {
            "mailbox": world.karlstad_fbl.pk,
            "level": AccessGrant.Level.READ,
            "justification": "Igen, med samma text",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "väntar på beslut" in body
    assert "Igen, med samma text" in body  # the typed text is kept
    assert AccessRequest.objects.count() == 1


def test_an_end_date_in_the_past_is_refused_and_the_text_kept(world, applicant):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = applicant.client().post(
        URL,
        {
            "mailbox": world.karlstad_fbl.pk,
            "level": AccessGrant.Level.READ,
            "justification": "Sommarvikarie",
            "requested_until": yesterday.isoformat(),
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Datumet har redan passerat" in body
    assert "Sommarvikarie" in body
    assert not AccessRequest.objects.exists()


def test_a_us_style_date_is_refused(world, applicant):
    response = applicant.client().post(
        URL,
        {
            "mailbox": world.karlstad_fbl.pk,
            "level": AccessGrant.Level.READ,
            "justification": "Sommarvikarie",
            "requested_until": "12/31/2099",
        },
    )
    assert "ÅÅÅÅ-MM-DD" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_closed_mailbox_cannot_be_applied_for(world, applicant, sysadmin):
    mailbox_close(actor=sysadmin.user, mailbox=world.arvika_fbl, reason="Sammanslagen")
    with pytest.raises(ValidationError, match="stängd"):
        apply(applicant, world.arvika_fbl)
    page = applicant.client().get(URL).content.decode()
    assert world.arvika_fbl.name not in page


def test_a_missing_justification_gets_a_swedish_message(world, applicant):
    response = applicant.client().post(
        URL, {"mailbox": world.karlstad_fbl.pk, "level": AccessGrant.Level.READ}
    )
    assert "Motivera varför behörigheten behövs." in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_post_without_the_csrf_token_is_refused(world, applicant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant.user)
    response = client.post(
        URL,
        {"mailbox": world.karlstad_fbl.pk, "level": 10, "justification": "Utan token"},
    )
    assert response.status_code == 403
    assert not AccessRequest.objects.exists()


def test_a_personal_mailbox_cannot_be_applied_for(world, applicant):
    from tests.factories import MailboxFactory

    personal = MailboxFactory.create(
        kind="personal", owner=world.nurse.user, organisation=world.karlstad, hsa_id=""
    )
    with pytest.raises(ValidationError, match="funktionsbrevlådor"):
        apply(applicant, personal)
    assert personal.name not in applicant.client().get(URL).content.decode()
