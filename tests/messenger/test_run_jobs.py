"""Operators run the background jobs by hand with `manage.py run_jobs`."""

import re
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.models import Notification
from mailboxes.models import OutboxItem
from messenger.jobs import JOBS
from messenger.models import JobStatus
from tests.helpers import send
from tests.messenger.test_deadline import at
from tests.testdata import PATIENT


def run_jobs(*args: str) -> str:
    out = StringIO()
    call_command("run_jobs", *args, stdout=out)
    return out.getvalue()


def test_an_unknown_name_lists_the_jobs_and_runs_nothing(world):
    with pytest.raises(CommandError) as refused:
        run_jobs("deadlines", "nosuchjob")
    message = str(refused.value)
    assert "nosuchjob" in message
    for name in JOBS:
        assert name in message
    assert not JobStatus.objects.exists()


def test_the_named_jobs_run_now_and_say_what_they_did(world, categories):
    with time_machine.travel(at(2027, 1, 11, 9, 0), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    with time_machine.travel(at(2027, 1, 13, 9, 0), tick=False):
        assert "deadlines: reminders=1 alerts=0" in run_jobs("deadlines")
    with time_machine.travel(at(2027, 1, 14, 9, 0), tick=False):
        output = run_jobs("deadlines", "outbox")
    assert "deadlines: reminders=0 alerts=1" in output
    assert "outbox: sent=4 retry=0 failed=0" in output
    assert Notification.objects.count() == 2
    assert not OutboxItem.objects.pending().exists()
    status = JobStatus.objects.get(name="deadlines")
    assert status.last_ok
    assert status.last_summary == "reminders=0 alerts=1"


def test_list_shows_every_job_with_its_schedule(world):
    output = run_jobs("--list")
    assert "deadlines" in output
    assert "varje minut" in output
    assert not JobStatus.objects.exists()


def test_a_failing_job_is_recorded_as_failed(world, monkeypatch):
    def broken() -> None:
        raise RuntimeError("database gone")

    monkeypatch.setitem(JOBS, "deadlines", JOBS["deadlines"].__class__("deadlines", "", broken))
    with pytest.raises(RuntimeError):
        run_jobs("deadlines")
    status = JobStatus.objects.get(name="deadlines")
    assert not status.last_ok
    assert "database gone" in status.last_summary


def test_no_timer_waits_in_redis():
    """Due times live in PostgreSQL: beat's schedule ticks often, and no task is sent with an
    ETA or a countdown, which Redis would redeliver after its visibility timeout."""
    from celery.schedules import crontab
    from django.conf import settings

    from messenger.celery import app

    for name, entry in app.conf.beat_schedule.items():
        schedule = entry["schedule"]
        assert isinstance(schedule, crontab) or float(schedule) <= 300, name
    pattern = re.compile(r"\b(countdown|eta)\s*=|apply_async\(")
    apps = ["accounts", "audit", "mailboxes", "messenger"]
    sources = [p for app_name in apps for p in (settings.BASE_DIR / app_name).rglob("*.py")]
    assert sources
    offending = [str(p) for p in sources if pattern.search(p.read_text(encoding="utf-8"))]
    assert offending == []
