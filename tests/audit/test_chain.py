"""R18: the access log is append-only in the database, and a hash chain shows any change made
behind the app's back (issue 10)."""

from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AccessLog, AccessLogSeal, AccessLogUnsealed
from audit.services import (
    GENESIS,
    access_log,
    access_log_retention,
    access_log_seal,
    access_log_verify,
)
from mailboxes.models import NotificationKind, OutboxItem
from messenger.jobs import JOBS, AccessLogBroken, access_log_check, job_run
from messenger.models import JobStatus

pytestmark = pytest.mark.django_db


def write(n: int, **fields) -> list[AccessLog]:
    return [
        access_log(action=AccessLog.Action.VIEW_THREAD, detail=f"rad {i}", **fields)
        for i in range(n)
    ]


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def behind_the_apps_back(statement: str, params=None) -> None:
    """What someone with the database's owner rights can do: switch the guard off. (The
    chain's foreign key is checked at commit; check it now, or the table cannot be altered.)"""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql("ALTER TABLE audit_accesslog DISABLE TRIGGER audit_accesslog_append_only")
    sql("ALTER TABLE audit_accesslogseal DISABLE TRIGGER audit_accesslogseal_append_only")
    sql(statement, params)
    sql("ALTER TABLE audit_accesslog ENABLE TRIGGER audit_accesslog_append_only")
    sql("ALTER TABLE audit_accesslogseal ENABLE TRIGGER audit_accesslogseal_append_only")


def test_a_row_gets_its_content_hash_from_the_database_and_waits_to_be_chained():
    (row,) = write(1, patient_id="191212121212")
    row.refresh_from_db()
    assert len(row.content_hash) == 64
    assert AccessLogUnsealed.objects.filter(entry_id=row.pk).exists()
    # Rows that differ in any field differ in hash.
    (other,) = write(1, patient_id="191212121213")
    other.refresh_from_db()
    assert other.content_hash != row.content_hash


def test_sealing_chains_the_rows_in_order_and_empties_the_queue():
    rows = write(3)
    assert access_log_seal() == {"sealed": 3}
    links = list(AccessLogSeal.objects.order_by("seq"))
    assert [link.entry_id for link in links] == [row.pk for row in rows]
    assert links[0].prev_hash == GENESIS
    assert [link.prev_hash for link in links[1:]] == [link.hash for link in links[:-1]]
    assert not AccessLogUnsealed.objects.exists()
    assert access_log_seal() == {"sealed": 0}
    verdict = access_log_verify()
    assert verdict.broken is None
    assert (verdict.rows, verdict.links, verdict.head) == (3, 3, links[-1].hash)


def test_sealing_works_through_a_backlog_in_batches():
    write(7)
    assert access_log_seal(batch=3) == {"sealed": 7}
    assert access_log_verify().broken is None


def test_a_row_rolled_back_with_its_transaction_leaves_no_gap():
    def write_then_fail() -> None:
        with transaction.atomic():
            write(1)
            raise RuntimeError

    write(1)
    with pytest.raises(RuntimeError):
        write_then_fail()
    write(1)
    access_log_seal()
    assert AccessLogSeal.objects.count() == 2
    assert access_log_verify().broken is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_accesslog SET detail = 'ändrad'",
        "UPDATE audit_accesslog SET patient_id = ''",
        "DELETE FROM audit_accesslog",
        "UPDATE audit_accesslogseal SET hash = repeat('a', 64)",
        "DELETE FROM audit_accesslogseal",
    ],
)
def test_updates_and_deletes_are_refused_by_the_database(statement):
    write(2)
    access_log_seal()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)
    assert AccessLog.objects.count() == 2
    assert access_log_verify().broken is None


def test_the_orm_cannot_change_or_delete_a_row_either():
    (row,) = write(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(user_name="Någon annan")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        row.delete()


def test_a_row_changed_behind_the_apps_back_is_named(capsys):
    rows = write(3)
    access_log_seal()
    behind_the_apps_back(
        "UPDATE audit_accesslog SET detail = 'ingen läste' WHERE id = %s", [rows[1].pk]
    )
    verdict = access_log_verify()
    assert verdict.broken is not None
    assert verdict.broken.entry_id == rows[1].pk
    assert "innehållet" in verdict.broken.problem
    with pytest.raises(CommandError, match=f"rad {rows[1].pk}"):
        call_command("audit_verify")


def test_a_row_changed_with_its_hash_recomputed_breaks_the_chain_there():
    rows = write(3)
    access_log_seal()
    behind_the_apps_back(
        "UPDATE audit_accesslog SET detail = 'ingen läste',"
        " content_hash = audit_hash(audit_accesslog_content(audit_accesslog)"
        "   || '') WHERE id = %s",
        [rows[1].pk],
    )
    # The content hash above was computed before the change took effect: compute it again.
    behind_the_apps_back(
        "UPDATE audit_accesslog SET content_hash = audit_hash(audit_accesslog_content("
        "audit_accesslog)) WHERE id = %s",
        [rows[1].pk],
    )
    broken = access_log_verify().broken
    assert broken is not None
    assert (broken.entry_id, broken.problem) == (rows[1].pk, "länken följer inte kedjan")


def test_a_row_deleted_behind_the_apps_back_breaks_the_chain_at_the_next_row():
    rows = write(3)
    access_log_seal()
    behind_the_apps_back("DELETE FROM audit_accesslogseal WHERE entry_id = %s", [rows[1].pk])
    behind_the_apps_back("DELETE FROM audit_accesslog WHERE id = %s", [rows[1].pk])
    broken = access_log_verify().broken
    assert broken is not None
    assert broken.entry_id == rows[2].pk


def test_a_row_taken_out_of_the_queue_is_named():
    rows = write(2)
    AccessLogUnsealed.objects.filter(entry_id=rows[0].pk).delete()
    broken = access_log_verify().broken
    assert broken is not None
    assert broken.entry_id == rows[0].pk


def test_audit_verify_says_the_chain_holds(capsys):
    write(2)
    access_log_seal()
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "2 loggrader, 2 i kedjan" in out
    assert "Kedjan håller." in out


def old_row(years: float) -> AccessLog:
    return AccessLog.objects.create(
        action=AccessLog.Action.VIEW_THREAD,
        at=timezone.now() - timedelta(days=365.25 * years),
        detail=f"{years} år gammal",
    )


def test_retention_removes_only_rows_past_their_time_and_the_chain_still_holds():
    for years in (7, 6, 5.1):
        old_row(years)
    kept = [old_row(4.9), old_row(1), *write(1)]
    access_log_seal()
    assert access_log_retention(years=5) == {"removed": 3}
    assert set(AccessLog.objects.exclude(actor_summary()).values_list("pk", flat=True)) == {
        row.pk for row in kept
    }
    access_log_seal()  # the summary row joins the chain
    verdict = access_log_verify()
    assert verdict.broken is None
    summary = AccessLog.objects.get(actor_summary())
    assert "Tog bort 3 loggrader" in summary.detail


def actor_summary():
    from django.db.models import Q

    return Q(user_name="Gallring av åtkomstloggen")


def test_retention_keeps_longer_when_asked_and_never_under_five_years():
    old_row(6)
    access_log_seal()
    assert access_log_retention(years=7) == {"removed": 0}
    with pytest.raises(ValueError, match="at least 5"):
        access_log_retention(years=4)
    assert AccessLog.objects.count() == 1


def test_a_cut_off_set_by_hand_cannot_delete_a_young_row():
    (row,) = write(1)
    access_log_seal()
    with transaction.atomic():
        sql("SELECT set_config('audit.retention_cutoff', %s, true)", [timezone.now().isoformat()])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            sql("DELETE FROM audit_accesslogseal WHERE entry_id = %s", [row.pk])
    assert AccessLogSeal.objects.count() == 1


def test_the_nightly_check_alarms_the_system_administrators_when_broken(sysadmin):
    rows = write(2)
    access_log_seal()
    assert access_log_check()["rows"] == 2
    assert not OutboxItem.objects.filter(kind=NotificationKind.LOG_ALARM).exists()
    behind_the_apps_back("UPDATE audit_accesslog SET detail = '' WHERE id = %s", [rows[0].pk])
    with pytest.raises(AccessLogBroken):
        job_run("audit_verify")
    alarms = OutboxItem.objects.filter(kind=NotificationKind.LOG_ALARM)
    assert {(a.user_id, a.channel) for a in alarms} == {
        (sysadmin.user.pk, OutboxItem.Channel.APP),
        (sysadmin.user.pk, OutboxItem.Channel.EMAIL),
    }
    assert f"rad {rows[0].pk}" in alarms[0].detail
    status = JobStatus.objects.get(name="audit_verify")
    assert not status.last_ok
    # Run again the same night: nobody is told twice.
    with pytest.raises(AccessLogBroken):
        access_log_check()
    assert OutboxItem.objects.filter(kind=NotificationKind.LOG_ALARM).count() == 2


def test_the_jobs_are_on_beats_schedule():
    from messenger.celery import app

    for name in ("audit_seal", "audit_verify", "audit_retention"):
        assert name in JOBS
        assert app.conf.beat_schedule[name]["args"] == (name,)


@pytest.mark.django_db(transaction=True)
def test_a_second_sealer_at_the_same_moment_leaves_the_work_to_the_first():
    write(2)
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=False) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtext('audit_seal'))")
        assert access_log_seal() == {"sealed": 0, "busy": 1}
    assert access_log_seal() == {"sealed": 2}


def test_a_user_with_the_longest_names_is_logged_not_refused(world):
    user = world.nurse.user
    user.first_name, user.last_name = "A" * 150, "B" * 150
    user.save()
    row = access_log(action=AccessLog.Action.LOGIN, user=user)
    row.refresh_from_db()
    assert row.user_name == ("A" * 150 + " " + "B" * 150)[:300]
