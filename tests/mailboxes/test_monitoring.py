"""Mailbox-check monitoring (R5, R24): checks on inbox opening, check times, working days, the
alarm sweep, and the superusers' door to their own organisation's routines."""

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
    MissedCheck,
    MonitoringRoutine,
    NotificationKind,
    OutboxItem,
)
from mailboxes.selectors import may_edit_routine
from mailboxes.services import mailbox_check_record, mailbox_checks_sweep, routine_update
from messenger.jobs import job_run
from tests.conftest import Persona
from tests.factories import AccessGrantFactory, EmploymentFactory
from tests.helpers import assert_num_queries, send
from tests.testdata import PATIENTS

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


def sweep_at(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return mailbox_checks_sweep()


def alarmed_users(mailbox) -> set[int]:
    return set(
        OutboxItem.objects.filter(kind=NotificationKind.CHECK_MISSED, mailbox_name=mailbox.name)
        .values_list("user_id", flat=True)
        .distinct()
    )


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

    The personas' grants are dated back, so they hold on every day a test travels to. The
    municipalities' mailboxes get routines without check times, so only Gripen's is watched.
    """
    AccessGrant.objects.update(valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    for other in (world.karlstad_fbl, world.arvika_fbl):
        MonitoringRoutine.objects.create(mailbox=other, check_times=[])
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


# The alarm sweep


def test_a_check_time_passed_unchecked_alarms_the_monitors_and_the_superusers(
    world, monitored, gripen_superuser, arvika_superuser, categories
):
    with time_machine.travel(local(2026, 12, 4, 9, 0), tick=False):
        # Patient data exists around the mailbox; the alarm must carry none of it.
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    # Yesterday's check (a Friday afternoon) does not count for Monday morning.
    mailbox_check_record(
        user=world.hc_nurse.user,
        mailbox=world.gripen_fbl,
        routine=monitored,
        now=local(2026, 12, 4, 16, 0),
    )
    assert sweep_at(local(2026, 12, 7, 10, 0, 30)) == {"missed": 0, "notices": 0}
    counts = sweep_at(local(2026, 12, 7, 10, 1))
    assert counts["missed"] == 1
    assert alarmed_users(world.gripen_fbl) == {world.hc_nurse.user.pk, gripen_superuser.user.pk}
    for item in OutboxItem.objects.filter(kind=NotificationKind.CHECK_MISSED):
        assert item.key.startswith(f"check-{world.gripen_fbl.pk}-2026-12-07-1000:")
        assert item.mailbox_name == world.gripen_fbl.name
        assert item.detail == "10:00"
        assert item.category_name == ""
        assert item.url == inbox_url(world.gripen_fbl)
        assert PATIENTS[0] not in f"{item.key}{item.mailbox_name}{item.detail}{item.url}"
    assert (
        counts["notices"] == OutboxItem.objects.filter(kind=NotificationKind.CHECK_MISSED).count()
    )
    missed = MissedCheck.objects.get()
    assert (missed.day, missed.check_time) == (date(2026, 12, 7), time(10))


def test_without_monitors_everyone_with_access_is_alarmed(world, monitored, gripen_superuser):
    monitored.monitors.clear()
    sweep_at(local(2026, 12, 7, 10, 1))
    assert alarmed_users(world.gripen_fbl) == {world.hc_nurse.user.pk, gripen_superuser.user.pk}


def test_a_check_at_09_50_keeps_10_00_quiet_but_not_15_00(world, monitored):
    with time_machine.travel(local(2026, 12, 7, 9, 50), tick=False):
        open_inbox(world.hc_nurse)
    assert sweep_at(local(2026, 12, 7, 10, 1))["missed"] == 0
    assert sweep_at(local(2026, 12, 7, 14, 59))["missed"] == 0
    assert sweep_at(local(2026, 12, 7, 15, 1))["missed"] == 1
    assert list(MissedCheck.objects.values_list("check_time", flat=True)) == [time(15)]


def test_a_check_within_the_check_times_minute_counts(world, monitored):
    with time_machine.travel(local(2026, 12, 7, 10, 0, 59), tick=False):
        open_inbox(world.hc_nurse)
    assert sweep_at(local(2026, 12, 7, 10, 1))["missed"] == 0
    with time_machine.travel(local(2026, 12, 7, 15, 1), tick=False):
        open_inbox(world.hc_nurse)  # too late for 15:00
    assert sweep_at(local(2026, 12, 7, 15, 2))["missed"] == 1


def test_sweeping_again_alarms_each_check_time_once(world, monitored):
    sweep_at(local(2026, 12, 7, 10, 1))
    rows = OutboxItem.objects.count()
    assert rows > 0
    assert sweep_at(local(2026, 12, 7, 10, 2)) == {"missed": 0, "notices": 0}
    assert sweep_at(local(2026, 12, 7, 12, 0)) == {"missed": 0, "notices": 0}
    assert OutboxItem.objects.count() == rows
    assert sweep_at(local(2026, 12, 7, 15, 1))["missed"] == 1
    assert MissedCheck.objects.count() == 2


def test_a_sweep_with_nothing_new_reads_only_today(world, monitored):
    for day in range(1, 5):  # checks on the days before
        mailbox_check_record(
            user=world.hc_nurse.user,
            mailbox=world.gripen_fbl,
            routine=monitored,
            now=local(2026, 12, day, 9, 0),
        )
    with time_machine.travel(local(2026, 12, 7, 9, 30), tick=False):
        open_inbox(world.hc_nurse)
    # The routines, today's checks, today's alarms.
    with time_machine.travel(local(2026, 12, 7, 10, 1), tick=False), assert_num_queries(3):
        assert mailbox_checks_sweep() == {"missed": 0, "notices": 0}


@pytest.mark.parametrize(
    ("day", "alarms"),
    [
        (date(2026, 12, 23), 2),  # an ordinary Wednesday
        (date(2026, 12, 5), 0),  # a Saturday
        (date(2026, 12, 6), 0),  # a Sunday
        (date(2026, 12, 24), 0),  # Christmas Eve, a Thursday
        (date(2027, 6, 25), 0),  # Midsummer Eve, a Friday
        (date(2026, 12, 31), 0),  # New Year's Eve
        (date(2027, 5, 6), 0),  # Ascension Day
        (date(2026, 12, 28), 0),  # the routine's own closed day, a Monday
    ],
)
def test_weekends_holidays_and_closed_days_are_quiet(world, monitored, day, alarms):
    counts = sweep_at(local(day.year, day.month, day.day, 16, 0))
    assert counts["missed"] == alarms
    assert MissedCheck.objects.count() == alarms


def test_beat_runs_the_sweep_every_minute_as_the_mailbox_checks_job(world, monitored):
    from messenger.celery import app

    assert app.conf.beat_schedule["mailbox_checks"]["args"] == ("mailbox_checks",)
    with time_machine.travel(local(2026, 12, 7, 10, 1), tick=False):
        status = job_run("mailbox_checks")
    assert status.last_ok
    assert status.last_summary == "missed=1 notices=4"  # Bo and Siv, in the app and by e-mail
    assert MissedCheck.objects.count() == 1


def test_a_closed_mailbox_is_not_alarmed(world, monitored):
    world.gripen_fbl.closed_at = local(2026, 12, 1, 12, 0)
    world.gripen_fbl.save(update_fields=["closed_at"])
    assert sweep_at(local(2026, 12, 7, 16, 0))["missed"] == 0


# Clock changes: check times are Stockholm wall-clock times all year


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # Thursday before and Tuesday after the spring change of 2027-03-28 (the Friday is Good
        # Friday, the Monday Easter Monday): 10:01 is 09:01 UTC in winter, 08:01 UTC in summer.
        (datetime(2027, 3, 25, 9, 0, 30, tzinfo=UTC), datetime(2027, 3, 25, 9, 1, tzinfo=UTC)),
        (datetime(2027, 3, 30, 8, 0, 30, tzinfo=UTC), datetime(2027, 3, 30, 8, 1, tzinfo=UTC)),
        # Friday before and Monday after the autumn change of 2026-10-25.
        (datetime(2026, 10, 23, 8, 0, 30, tzinfo=UTC), datetime(2026, 10, 23, 8, 1, tzinfo=UTC)),
        (datetime(2026, 10, 26, 9, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 9, 1, tzinfo=UTC)),
    ],
)
def test_the_alarm_comes_at_10_01_local_time_on_both_sides_of_a_clock_change(
    world, monitored, before, after
):
    assert sweep_at(before)["missed"] == 0
    assert sweep_at(after)["missed"] == 1
    assert MissedCheck.objects.get().check_time == time(10)


def test_the_days_of_the_clock_changes_are_sundays_and_quiet(world, monitored):
    assert sweep_at(local(2027, 3, 28, 16, 0))["missed"] == 0
    assert sweep_at(local(2026, 10, 25, 16, 0))["missed"] == 0


def test_check_periods_follow_the_wall_clock_over_a_clock_change(monitored):
    spring = monitored.check_periods(date(2027, 3, 28))
    # Midnight is still winter time; 10:01 is summer time: a first period of 9 hours 1 minute.
    assert spring[0].starts == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    assert spring[0].due == datetime(2027, 3, 28, 8, 1, tzinfo=UTC)
    autumn = monitored.check_periods(date(2026, 10, 25))
    assert autumn[0].starts == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert autumn[0].due == datetime(2026, 10, 25, 9, 1, tzinfo=UTC)
    assert autumn[1].due == datetime(2026, 10, 25, 14, 1, tzinfo=UTC)


def test_the_day_starts_at_local_midnight_after_the_autumn_change(world, monitored):
    # 22:30 UTC on the Sunday is 23:30 Sunday in Stockholm: it does not count for Monday.
    mailbox_check_record(
        user=world.hc_nurse.user,
        mailbox=world.gripen_fbl,
        routine=monitored,
        now=datetime(2026, 10, 25, 22, 30, tzinfo=UTC),
    )
    assert sweep_at(local(2026, 10, 26, 10, 1))["missed"] == 1
    MissedCheck.objects.all().delete()
    OutboxItem.objects.all().delete()
    # 23:30 UTC is 00:30 Monday in Stockholm: it does.
    mailbox_check_record(
        user=world.hc_nurse.user,
        mailbox=world.gripen_fbl,
        routine=monitored,
        now=datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
    )
    assert sweep_at(local(2026, 10, 26, 10, 1))["missed"] == 0


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


def test_a_mailbox_without_a_routine_is_watched_at_the_default_times(world, monitored):
    # Karlstad's mailbox without a routine of its own: 10:00 and 15:00, everyone with access.
    MonitoringRoutine.objects.filter(mailbox=world.karlstad_fbl).delete()
    assert sweep_at(local(2027, 1, 12, 9, 59))["missed"] == 0
    sweep_at(local(2027, 1, 12, 10, 1))
    assert alarmed_users(world.karlstad_fbl) == {world.nurse.user.pk}
    assert alarmed_users(world.arvika_fbl) == set()  # its routine names no check time
