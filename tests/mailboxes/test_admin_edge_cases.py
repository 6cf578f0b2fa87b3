"""Access and mailbox administration at its edges: odd dates, long names, races, four eyes."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from audit.models import AccessLog
from mailboxes.models import AccessGrant, AccessRequest, Mailbox, MonitoringRoutine
from mailboxes.notifications import outbox_send
from mailboxes.services import (
    grant_end,
    mailbox_create,
    routine_update,
)
from tests.factories import EmploymentFactory
from tests.helpers import at_once
from tests.mailboxes.conftest import apply, approve, order
from tests.mailboxes.test_request_decide import decide_url, decision


def test_an_end_date_thousands_of_years_ahead_is_refused_not_a_crash(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    response = world.approver.client().post(
        decide_url(access_request), decision(valid_until="9999-12-31")
    )
    assert response.status_code == 200
    assert "Välj ett datum högst 10 år fram." in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.is_pending
    with pytest.raises(ValidationError, match="högst 10 år"):
        apply(applicant, world.arvika_fbl, requested_until=timezone.localdate().replace(year=9999))


def test_a_denial_is_not_held_up_by_a_requested_date_that_has_passed(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    yesterday = timezone.localdate() - timedelta(days=1)
    AccessRequest.objects.filter(pk=access_request.pk).update(requested_until=yesterday)
    client = world.approver.client()
    page = client.get(decide_url(access_request)).content.decode()
    assert f'value="{yesterday:%Y-%m-%d}"' not in page  # not offered as the grant's end
    response = client.post(
        decide_url(access_request),
        decision("deny", valid_until=f"{yesterday:%Y-%m-%d}"),
    )
    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.DENIED


def test_a_post_without_a_decision_asks_for_one(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    response = world.approver.client().post(decide_url(access_request), decision(None))
    assert "Välj att bevilja eller avslå." in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.is_pending


def test_a_long_mailbox_name_and_reason_still_fit_the_notification(
    world, applicant, sysadmin, gripen_approver
):
    mailbox = mailbox_create(
        actor=sysadmin.user,
        organisation=world.gripen,
        name=f"Vc Gripen {'Norra ' * 25}Allmänmedicinska mottagningen (FBL)",
        hsa_id="",
        phone="",
    )
    access_request = apply(applicant, mailbox)
    response = gripen_approver.client().post(
        decide_url(access_request), decision("deny", reason="Behovet är inte styrkt. " * 20)
    )
    assert response.status_code == 302
    outbox_send()  # the decision is told through the outbox
    notice = Notification.objects.get(user=applicant.user)
    assert len(notice.text) <= 300
    assert notice.text.endswith("…")


def test_an_approver_does_not_grant_what_they_ordered_themself(world, applicant):
    ordered = order(world.approver, applicant, world.karlstad_fbl)
    response = world.approver.client().post(decide_url(ordered), decision())
    assert "En annan behörighetsbeställare beslutar om den." in response.content.decode()
    ordered.refresh_from_db()
    assert ordered.is_pending


def test_someone_without_an_ongoing_employment_gets_no_grant(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    applicant.employment.ended_at = timezone.now()
    applicant.employment.save(update_fields=["ended_at"])
    response = world.approver.client().post(decide_url(access_request), decision())
    assert "ingen pågående anställning" in response.content.decode()
    assert not AccessGrant.objects.filter(user=applicant.user).exists()


def test_a_replaced_grant_is_named_in_the_log(world):
    access_request = apply(world.nurse, world.karlstad_fbl, level=AccessGrant.Level.READ)
    world.approver.client().post(decide_url(access_request), decision())
    entry = AccessLog.objects.get(detail__startswith="Beviljade")
    assert "ersätter behörigheten" in entry.detail


def test_decisions_are_logged_under_the_mailboxs_organisation_for_log_control(world, applicant):
    access_request = apply(applicant, world.karlstad_fbl)
    world.approver.client().post(decide_url(access_request), decision())
    for entry in AccessLog.objects.filter(action=AccessLog.Action.ADMIN):
        assert entry.mailbox_organisation_name == world.karlstad.name
        assert entry.mailbox_name == world.karlstad_fbl.name
    approval = AccessLog.objects.get(detail__startswith="Beviljade")
    assert approval.organisation_name == world.approver.employment.organisation.name


def test_a_grant_shows_its_last_day_and_can_be_ended_from_the_day_after(world, applicant):
    last_day = timezone.localdate() + timedelta(days=10)
    access_request = apply(applicant, world.karlstad_fbl)
    grant = approve(world.approver, access_request, valid_until=last_day)
    assert grant.last_day() == last_day
    page = applicant.client().get(reverse("mailboxes:my_access")).content.decode()
    assert f"{last_day:%Y-%m-%d}" in page
    # Ending it when it would lapse anyway changes nothing and is no reason to refuse.
    ended = grant_end(
        grant=grant,
        actor=world.approver.user,
        actor_employment=world.approver.employment,
        reason="Slutar",
        from_date=last_day + timedelta(days=1),
    )
    assert ended.last_day() == last_day


def appoint_monitor(sysadmin, mailbox, persona) -> None:
    routine_update(
        actor=sysadmin.user,
        mailbox=mailbox,
        monitors=[persona.user],
        check_times=[time(8), time(13)],
        emptied_by="",
        holiday_cover="",
        access_updated_by="",
    )


def test_a_monitor_whose_grant_ended_is_pointed_out(world, sysadmin):
    appoint_monitor(sysadmin, world.karlstad_fbl, world.nurse)
    url = reverse("mailboxes:admin_mailbox", args=[world.karlstad_fbl.pk])
    assert "inte längre har behörighet" not in sysadmin.client().get(url).content.decode()
    grant = AccessGrant.objects.get(user=world.nurse.user, mailbox=world.karlstad_fbl)
    grant_end(
        grant=grant,
        actor=world.approver.user,
        actor_employment=world.approver.employment,
        reason="Har slutat",
    )
    page = sysadmin.client().get(url).content.decode()
    assert "inte längre har behörighet" in page
    assert world.nurse.user.display_name() in page
    assert MonitoringRoutine.objects.get(mailbox=world.karlstad_fbl).monitors.exists()


def test_a_monitor_whose_job_ended_is_pointed_out_and_cannot_be_chosen_again(world, sysadmin):
    appoint_monitor(sysadmin, world.karlstad_fbl, world.nurse)
    world.nurse.employment.ended_at = timezone.now()
    world.nurse.employment.save(update_fields=["ended_at"])
    url = reverse("mailboxes:admin_mailbox", args=[world.karlstad_fbl.pk])
    assert "inte längre har behörighet" in sysadmin.client().get(url).content.decode()
    with pytest.raises(ValidationError, match="Bevakare måste ha behörighet"):
        appoint_monitor(sysadmin, world.karlstad_fbl, world.nurse)


def test_editing_a_mailbox_logs_what_changed(world, sysadmin):
    url = reverse("mailboxes:admin_mailbox", args=[world.karlstad_fbl.pk])
    sysadmin.client().post(
        url,
        {"name": world.karlstad_fbl.name, "hsa_id": world.karlstad_fbl.hsa_id, "phone": "054-1"},
    )
    entry = AccessLog.objects.get(detail__startswith="Ändrade brevlådans uppgifter")
    assert "telefon" in entry.detail
    assert "054-1" in entry.detail
    assert "namn" not in entry.detail


@pytest.mark.django_db(transaction=True)
def test_two_administrators_creating_the_same_mailbox_at_once_get_a_message(world, sysadmin):
    def create() -> Mailbox:
        return mailbox_create(
            actor=sysadmin.user,
            organisation=world.gripen,
            name="Vc Gripen Södra Allmänmedicinska mottagningen (FBL)",
            hsa_id="",
            phone="",
        )

    created, errors = at_once(create)
    assert len(created) == 1
    # Either the name check saw the other's row, or the database refused the second insert:
    # both end in a message, never a 500.
    [error] = errors
    assert isinstance(error, ValidationError)
    assert "finns redan" in " ".join(error.messages)
    assert Mailbox.objects.filter(name__startswith="Vc Gripen Södra").count() == 1


def test_a_nurse_who_moves_to_another_employer_reads_nothing_more_of_the_old_mailbox(world):
    thread_page = reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])
    assert world.nurse.client().get(thread_page).status_code == 200
    world.nurse.employment.ended_at = timezone.now()
    world.nurse.employment.save(update_fields=["ended_at"])
    EmploymentFactory.create(user=world.nurse.user, organisation=world.arvika)
    # Her Karlstad grant is not ended yet, but the job it was given for is.
    assert AccessGrant.objects.filter(user=world.nurse.user, ended_at__isnull=True).exists()
    assert world.nurse.client().get(thread_page).status_code == 404


def test_a_grant_follows_the_job_it_was_applied_for(world, applicant):
    # David in Arvika may be granted Karlstad's mailbox: his Arvika job is the one that needs it.
    access_request = apply(world.outsider, world.karlstad_fbl)
    assert access_request.applicant_employment == world.outsider.employment
    # An approver applying for a colleague names the colleague's job in the approver's
    # organisation.
    ordered = order(world.approver, applicant, world.karlstad_fbl)
    assert ordered.applicant_employment == applicant.employment
    grant = approve(world.approver, access_request, reason="Samarbete över kommungränsen")
    assert grant.employment == world.outsider.employment
