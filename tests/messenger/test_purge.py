"""R16: threads whose last message is more than a year old are removed; the access log stays."""

import time
from datetime import timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessLog
from messenger.celery import app
from messenger.models import Delivery, JournalLink, Message, Thread
from messenger.services import threads_purge
from messenger.tasks import purge_old_threads
from tests.helpers import reply, send
from tests.testdata import PATIENTS


def send_at(when, world, categories, patient):
    with time_machine.travel(when, tick=False):
        return send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=patient)


def test_it_removes_threads_idle_for_a_year_and_keeps_the_rest(world, categories):
    now = timezone.now()
    old = send_at(now - timedelta(days=366), world, categories, PATIENTS[0])
    recent = send_at(now - timedelta(days=364), world, categories, PATIENTS[1])
    revived = send_at(now - timedelta(days=400), world, categories, PATIENTS[2])
    with time_machine.travel(now - timedelta(days=10), tick=False):
        reply(world.hc_nurse, revived)

    assert threads_purge(now=now) == 1
    assert set(Thread.objects.values_list("pk", flat=True)) == {recent.pk, revived.pk}
    assert not Message.objects.filter(thread_id=old.pk).exists()
    assert not Delivery.objects.filter(thread_id=old.pk).exists()
    # The access log still says who sent what about whom, without the thread.
    sent = AccessLog.objects.get(action=AccessLog.Action.SEND, thread_id_snapshot=old.pk)
    assert sent.patient_id == PATIENTS[0]
    assert AccessLog.objects.filter(action=AccessLog.Action.PURGE).count() == 1


def test_a_thread_on_legal_hold_is_not_purged(world, categories, sysadmin):
    from messenger.services import thread_legal_hold

    held = send_at(timezone.now() - timedelta(days=400), world, categories, PATIENTS[0])
    thread_legal_hold(actor=sysadmin.user, thread_id=held.pk, reason="IVO-ärende")
    assert threads_purge() == 0
    assert Message.objects.filter(thread=held).exists()


def test_it_works_in_batches_and_is_safe_to_run_again(world, categories):
    now = timezone.now()
    for patient in PATIENTS[:5]:
        send_at(now - timedelta(days=400), world, categories, patient)
    assert threads_purge(now=now, batch_size=2) == 5
    assert threads_purge(now=now, batch_size=2) == 0
    assert AccessLog.objects.filter(action=AccessLog.Action.PURGE).count() == 3


def test_linked_journal_references_go_with_the_thread(world, categories):
    from messenger.services import journal_link_attach
    from tests.helpers import delivery_of

    now = timezone.now()
    old = send_at(now - timedelta(days=400), world, categories, PATIENTS[0])
    with time_machine.travel(now - timedelta(days=399), tick=False):
        journal_link_attach(
            actor=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=delivery_of(old, world.gripen_fbl),
            kind="journal_note",
            title="Anteckning",
            reference="J-1",
        )
    threads_purge(now=now)
    assert not JournalLink.objects.exists()


def test_the_operator_command_counts_then_removes(world, categories, capsys):
    send_at(timezone.now() - timedelta(days=400), world, categories, PATIENTS[0])
    call_command("purge_threads", "--dry-run")
    assert "1 threads are more than a year old" in capsys.readouterr().out
    assert Thread.objects.count() == 1
    call_command("purge_threads")
    assert Thread.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_runs_on_a_real_worker_over_redis(world, categories):
    """The beat job's task, sent through the embedded Redis and run by a Celery worker."""
    old = send_at(timezone.now() - timedelta(days=400), world, categories, PATIENTS[0])
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=20):
        purge_old_threads.delay()
        deadline = time.monotonic() + 30
        while Thread.objects.filter(pk=old.pk).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not Thread.objects.filter(pk=old.pk).exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.PURGE).exists()
