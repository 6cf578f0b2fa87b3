"""End to end, on the real servers: a Celery worker and beat against the embedded Redis and the
test database deliver an overdue alert as an e-mail file; and with Redis down, sending still
works at once and the notices wait in the outbox until a worker runs again."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from mailboxes.models import EmailSetting, NotificationKind, OutboxItem
from messenger.celery import app
from messenger.jobs import job_run
from messenger.models import Thread
from tests.helpers import send, thread_url
from tests.testdata import PATIENT

SUBJECT = "Dosering av Waran"


def database_url_for_children() -> str:
    """The test database, as a URL the worker and beat processes can use."""
    db = connection.settings_dict
    url = f"postgresql://{quote(db['USER'])}@/{quote(db['NAME'])}?host={quote(db['HOST'])}"
    return url + (f"&port={db['PORT']}" if db["PORT"] else "")


def start(role: str, tmp_path: Path, mail_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_children(),
        "REDIS_URL": settings.REDIS_URL,
        "VAR_DIR": str(tmp_path),
        "EMAIL_FILE_PATH": str(mail_dir),
        "JOB_INTERVAL_SECONDS": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "messenger", role, "--loglevel", "INFO"]
    if role == "worker":
        command += ["--pool", "solo", "--without-mingle", "--without-gossip"]
    else:
        command += ["--schedule", str(tmp_path / "beat-schedule")]
    return subprocess.Popen(  # noqa: S603  (our own interpreter, fixed arguments)
        command,
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_deliver_an_overdue_alert_as_an_email_file(
    world, categories, tmp_path
):
    with time_machine.travel(timezone.now() - timedelta(hours=73), tick=False):
        thread = send(
            world.nurse,
            world.gripen_fbl,
            categories["Recept"],
            patient_id=PATIENT,
            subject=SUBJECT,
        )
    mail_dir = tmp_path / "mail"
    processes = [start("worker", tmp_path, mail_dir), start("beat", tmp_path, mail_dir)]
    try:
        found: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not found:
            time.sleep(0.5)
            files = sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []
            found = [f.read_text() for f in files]
            found = [text for text in found if "Svarstiden har gått ut" in text]
            assert all(p.poll() is None for p in processes), "worker or beat stopped"
    finally:
        for process in processes:
            process.terminate()
        output = "".join(p.communicate(timeout=30)[0] for p in processes)
    assert found, output[-3000:]
    alert = found[0]
    assert f"To: {world.nurse.user.email}" in alert
    assert f"/brevlador/{world.karlstad_fbl.pk}/arenden/{thread.pk}/" in alert
    assert PATIENT not in alert
    assert PATIENT[2:8] not in alert
    assert SUBJECT not in alert
    assert Notification.objects.filter(user=world.nurse.user, kind="overdue").count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_sending_replying_and_forwarding_return_at_once(world, categories):
    EmailSetting.objects.create(
        user=world.hc_nurse.user, mailbox=world.gripen_fbl, kind=NotificationKind.NEW_MESSAGE
    )
    real_broker = app.conf.broker_url
    # A port nobody listens on: any call to the broker would fail or wait for its timeout.
    app.conf.update(broker_url="redis://127.0.0.1:9/0")
    took = []

    def post(client, url, data):
        started = time.monotonic()
        response = client.post(url, {"client_token": str(uuid.uuid4()), **data})
        took.append(time.monotonic() - started)
        assert response.status_code == 302, response.content.decode()[-500:]

    try:
        nurse, hc_nurse = world.nurse.client(), world.hc_nurse.client()
        post(
            nurse,
            reverse("messenger:compose", args=[world.karlstad_fbl.pk]),
            {
                "recipient": world.gripen_fbl.pk,
                "category": categories["Recept"].pk,
                "subject": SUBJECT,
                "patient": PATIENT,
                "body": "Kan dosen sänkas?",
            },
        )
        thread = Thread.objects.get(subject=SUBJECT)
        post(hc_nurse, thread_url("reply", world.gripen_fbl, thread), {"body": "Ja, till 2,5 mg."})
        post(
            hc_nurse,
            thread_url("forward", world.gripen_fbl, thread),
            {"colleague": world.doctor.user.pk, "colleague_told": "on", "comment": ""},
        )
    finally:
        app.conf.update(broker_url=real_broker)
    assert max(took) < settings.CELERY_BROKER_CONNECTION_TIMEOUT
    # Each is saved, and its notices wait in the outbox: the health centre's e-mail of the new
    # message, the nurse's notice of the reply (her personal choice: none, so nothing), and the
    # doctor's notices of the forward, in the app and by e-mail.
    waiting = OutboxItem.objects.pending()
    assert set(waiting.values_list("user__username", "channel")) == {
        (world.hc_nurse.user.username, "email"),
        (world.doctor.user.username, "app"),
        (world.doctor.user.username, "email"),
    }
    assert mail.outbox == []
    # Redis is back and beat runs the outbox job: each goes out, once.
    job_run("outbox")
    job_run("outbox")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.hc_nurse.user.email, world.doctor.user.email]
    )
    assert Notification.objects.filter(user=world.doctor.user).count() == 1
