"""Mailbox-check monitoring (R5, R24): checks on inbox opening, check times and closed days, and
the superusers' door to their own organisation's routines."""

import importlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Role
from audit.models import AccessLog
from mailboxes.models import (
    AccessGrant,
    MailboxCheck,
    MonitoringRoutine,
)
from mailboxes.selectors import may_edit_routine
from mailboxes.services import mailbox_check_record, routine_update
from tests.conftest import Persona
from tests.factories import AccessGrantFactory, EmploymentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


def inbox_url(mailbox) -> str:
    return reverse("messenger:mailbox", args=[mailbox.pk])


def routine_url(mailbox) -> str:
    return reverse("mailboxes:admin_routine", args=[mailbox.pk])


def open_inbox(persona: Persona, mailbox=None, **params):
    # A fresh login at the travelled-to time: a session from another day would have expired.
    return persona.client().get(inbox_url(mailbox or persona.mailbox), params)


def superuser_of(organisation, username: str, mailbox=None) -> Persona:
    employment = EmploymentFactory.create(
        user__username=username, organisation=organisation, roles=[Role.STAFF, Role.SUPERUSER]
    )
    if mailbox is not None:
        AccessGrantFactory.create(user=employment.user, mailbox=mailbox)
    return Persona(user=employment.user, employment=employment, mailbox=mailbox)


@pytest.fixture
def gripen_superuser(world) -> Persona:
    return superuser_of(world.gripen, "t_siv", world.gripen_fbl)


@pytest.fixture
def arvika_superuser(world) -> Persona:
    return superuser_of(world.arvika, "t_arne")


@pytest.fixture
def monitored(world, sysadmin, gripen_superuser) -> MonitoringRoutine:
    """Gripen's mailbox, watched by Bo at 10:00 and 15:00, closed on 2026-12-28.

    The personas' grants are dated back, so they hold on every day a test travels to.
    """
    AccessGrant.objects.update(valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    return routine_update(
        actor=sysadmin.user,
        mailbox=world.gripen_fbl,
        monitors=[world.hc_nurse.user],
        check_times=[time(15), time(10)],
        closed_days=[date(2026, 12, 28)],
        emptied_by="",
        holiday_cover="",
        access_updated_by="",
    )


# Recording checks


def test_opening_the_inbox_records_one_check_per_person_and_check_period(world, monitored):
    with time_machine.travel(local(2026, 12, 7, 9, 50), tick=False):
        page = open_inbox(world.hc_nurse).content.decode()
    check = MailboxCheck.objects.get()
    assert check.mailbox == world.gripen_fbl
    assert check.user == world.hc_nurse.user
    assert check.user_name == world.hc_nurse.user.display_name()
    assert check.at == local(2026, 12, 7, 9, 50)
    assert (
        f'Bevakad i dag: <time datetime="2026-12-07T09:50:00+01:00">09:50</time> {check.user_name}'
        in page
    )

    with time_machine.travel(local(2026, 12, 7, 10, 0, 40), tick=False):
        open_inbox(world.hc_nurse)  # still the 10:00 period: nothing new
    with time_machine.travel(local(2026, 12, 7, 10, 5), tick=False):
        page = open_inbox(world.hc_nurse).content.decode()
    assert [c.at for c in MailboxCheck.objects.all()] == [
        local(2026, 12, 7, 9, 50),
        local(2026, 12, 7, 10, 5),
    ]
    assert ">09:50</time>" in page
    assert ">10:05</time>" in page


def test_the_page_shows_only_todays_checks(world, monitored):
    mailbox_check_record(
        user=world.hc_nurse.user,
        mailbox=world.gripen_fbl,
        routine=monitored,
        now=local(2026, 12, 4, 16, 20),
    )
    with time_machine.travel(local(2026, 12, 7, 8, 0), tick=False):
        page = open_inbox(world.hc_nurse, mapp="skickat").content.decode()
    assert "Ingen har bevakat brevlådan i dag." in page
    assert "16:20" not in page
    assert "10:00, 15:00" in page  # the check times


def test_other_folders_personal_mailboxes_and_outsiders_record_nothing(world, monitored):
    assert open_inbox(world.hc_nurse, mapp="skickat").status_code == 200
    assert open_inbox(world.hc_nurse, mapp="arkiv").status_code == 200
    assert open_inbox(world.doctor).status_code == 200
    assert open_inbox(world.outsider, world.gripen_fbl).status_code == 404
    assert not MailboxCheck.objects.exists()
    assert open_inbox(world.hc_nurse).status_code == 200
    assert MailboxCheck.objects.get().user == world.hc_nurse.user


# The routine form


def routine_data(**changes) -> dict:
    return {"check_times": "10:00, 15:00", "closed_days": "", **changes}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("10:00, 25:00", "”25:00” är inte en tid"),
        ("10:00 och 15:00", "”och” är inte en tid"),
        ("kl 10", "”kl” är inte en tid"),
        ("10:60", "”10:60” är inte en tid"),
        ("", "Ange minst en tid då brevlådan bevakas"),
    ],
)
def test_a_check_time_that_is_not_a_time_is_refused_and_nothing_saved(
    world, sysadmin, monitored, typed, message
):
    response = sysadmin.client().post(
        routine_url(world.gripen_fbl), routine_data(check_times=typed, emptied_by="Ny")
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    monitored.refresh_from_db()
    assert monitored.check_times == [time(10), time(15)]
    assert monitored.emptied_by == ""


@pytest.mark.parametrize("typed", ["24/12/2026", "12/24/2026", "2026-02-30", "20261228", "28 dec"])
def test_a_closed_day_not_written_yyyy_mm_dd_is_refused(world, sysadmin, monitored, typed):
    response = sysadmin.client().post(
        routine_url(world.gripen_fbl), routine_data(closed_days=f"2027-01-05, {typed}")
    )
    assert response.status_code == 200
    assert "är inte ett datum. Skriv dagarna som ÅÅÅÅ-MM-DD" in response.content.decode()
    monitored.refresh_from_db()
    assert monitored.closed_days == [date(2026, 12, 28)]


def test_times_and_closed_days_are_saved_sorted_and_shown_as_typed(world, sysadmin, monitored):
    client = sysadmin.client()
    response = client.post(
        routine_url(world.gripen_fbl),
        routine_data(check_times="14:30; 8.15, 14:30", closed_days="2027-05-07 2027-01-05"),
    )
    assert response.status_code == 302
    monitored.refresh_from_db()
    assert monitored.check_times == [time(8, 15), time(14, 30)]
    assert monitored.closed_days == [date(2027, 1, 5), date(2027, 5, 7)]
    form = client.get(routine_url(world.gripen_fbl)).content.decode()
    assert 'value="08:15, 14:30"' in form
    assert 'value="2027-01-05, 2027-05-07"' in form


def test_the_old_free_text_check_times_are_read_by_the_migration():
    migration = importlib.import_module("mailboxes.migrations.0004_mailbox_checks")
    parse = migration.parse_check_times
    assert parse("08:00 och 13:00") == [time(8), time(13)]
    assert parse("08 och 13") == [time(8), time(13)]
    assert parse("kl. 13.30 och 8") == [time(8), time(13, 30)]
    assert parse("förmiddag och eftermiddag") == [time(10), time(15)]
    assert parse("25:00") == [time(10), time(15)]


# Who edits the routine (R24)


def test_a_superuser_of_the_mailboxs_organisation_edits_its_routine(
    world, monitored, gripen_superuser
):
    client = gripen_superuser.client()
    page = client.get(inbox_url(world.gripen_fbl)).content.decode()
    assert routine_url(world.gripen_fbl) in page  # the link from the mailbox page
    assert client.get(routine_url(world.gripen_fbl)).status_code == 200
    response = client.post(
        routine_url(world.gripen_fbl),
        routine_data(check_times="09:00, 14:00", monitors=[gripen_superuser.user.pk]),
    )
    assert response["Location"] == inbox_url(world.gripen_fbl)
    monitored.refresh_from_db()
    assert monitored.check_times == [time(9), time(14)]
    assert list(monitored.monitors.all()) == [gripen_superuser.user]
    log = AccessLog.objects.filter(detail__startswith="Ändrade lokal rutin").latest("pk")
    assert log.user_id_snapshot == gripen_superuser.user.pk
    assert log.organisation_name == world.gripen.name
    assert "bevakas 09:00, 14:00" in log.detail


def test_a_superuser_may_appoint_only_grant_holders(world, monitored, gripen_superuser):
    response = gripen_superuser.client().post(
        routine_url(world.gripen_fbl), routine_data(monitors=[world.doctor.user.pk])
    )
    assert response.status_code == 200
    assert list(monitored.monitors.all()) == [world.hc_nurse.user]


def test_a_superuser_of_another_organisation_and_a_nurse_get_404(
    world, monitored, arvika_superuser
):
    for persona in (arvika_superuser, world.hc_nurse, world.log_reviewer):
        client = persona.client()
        assert client.get(routine_url(world.gripen_fbl)).status_code == 404
        assert client.post(routine_url(world.gripen_fbl), routine_data()).status_code == 404
    assert routine_url(world.gripen_fbl) not in open_inbox(world.hc_nurse).content.decode()
    monitored.refresh_from_db()
    assert monitored.check_times == [time(10), time(15)]
    with pytest.raises(ValidationError, match="superanvändare i brevlådans organisation"):
        routine_update(
            actor=arvika_superuser.user,
            actor_employment=arvika_superuser.employment,
            mailbox=world.gripen_fbl,
            monitors=[],
            check_times=[time(8)],
            emptied_by="",
            holiday_cover="",
            access_updated_by="",
        )


def test_a_superuser_edits_only_while_working_in_that_organisation(world, gripen_superuser):
    other_job = EmploymentFactory.create(user=gripen_superuser.user, organisation=world.arvika)
    assert may_edit_routine(gripen_superuser.user, gripen_superuser.employment, world.gripen_fbl)
    assert not may_edit_routine(gripen_superuser.user, other_job, world.gripen_fbl)
    assert not may_edit_routine(gripen_superuser.user, None, world.gripen_fbl)
    assert not may_edit_routine(
        gripen_superuser.user, gripen_superuser.employment, world.doctor.mailbox
    )


def test_system_administrators_still_edit_every_routine(world, sysadmin, monitored):
    response = sysadmin.client().post(routine_url(world.gripen_fbl), routine_data())
    assert response["Location"] == reverse("mailboxes:admin_mailbox", args=[world.gripen_fbl.pk])
