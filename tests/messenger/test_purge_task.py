"""The nightly purge (R16) as beat runs it: the `purge` job, in a Celery task on a real worker."""

import time
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessLog
from messenger.celery import app
from messenger.models import JobStatus, Thread
from messenger.tasks import run_job
from tests.helpers import send
from tests.testdata import PATIENTS


def test_beat_runs_the_purge_job_every_night_at_half_past_two():
    entry = app.conf.beat_schedule["purge"]
    assert (entry["task"], entry["args"]) == ("messenger.tasks.run_job", ("purge",))
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_runs_on_a_real_worker_over_redis(world, categories):
    """Sent through the embedded Redis and run by a Celery worker. Not pinned in time: the
    worker and Redis need a running clock, so the thread is made a year before the real now."""
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        old = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=20):
        run_job.delay("purge")
        deadline = time.monotonic() + 30
        while not JobStatus.objects.filter(name="purge").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not Thread.objects.filter(pk=old.pk).exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.PURGE).exists()
    assert JobStatus.objects.get(name="purge").last_summary == "messages=1 threads=1"


def test_run_jobs_says_what_the_purge_removed(world, categories):
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    out = StringIO()
    call_command("run_jobs", "purge", stdout=out)
    assert "purge: messages=1 threads=1" in out.getvalue()
