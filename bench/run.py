"""Benchmarks: how hot views scale with data. Reports ratios measured in one run, never absolutes.

Builds a throwaway test database, fills a mailbox with few and with many threads, and times each
view's median over repeated requests in both states, with its query count. A ratio near 1 and an
unchanged query count mean the view does not grow with data.

    make bench            # or: .venv/bin/python bench/run.py [--many 500] [--repeat 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import reverse  # noqa: E402

from accounts.agreement import CURRENT_VERSION  # noqa: E402
from accounts.models import Employment, Organisation, Role, User  # noqa: E402
from accounts.services import agreement_accept  # noqa: E402
from mailboxes.models import AccessGrant, Mailbox  # noqa: E402
from messenger.categories import ensure_categories  # noqa: E402
from messenger.demo import TEST_PATIENTS  # noqa: E402
from messenger.models import Category, Thread  # noqa: E402
from messenger.services import thread_start  # noqa: E402


def build() -> tuple[Client, Client, Mailbox, Employment, Mailbox]:
    ensure_categories(Category)
    kommun = Organisation.objects.create(
        kind="municipality", name="Benchkommun", hsa_id="SE9999999991-B1", region="R"
    )
    centre = Organisation.objects.create(
        kind="health_centre", name="Vc Bench", hsa_id="SE9999999992-B2", region="R"
    )
    sender_box = Mailbox.objects.create(kind="functional", organisation=kommun, name="K (FBL)")
    inbox = Mailbox.objects.create(kind="functional", organisation=centre, name="Vc (FBL)")
    sender = User.objects.create_user("bench_sender")
    reader = User.objects.create_user("bench_reader")
    job = Employment.objects.create(
        user=sender, organisation=kommun, profession="Sjuksköterska", roles=[Role.STAFF]
    )
    reader_job = Employment.objects.create(
        user=reader, organisation=centre, profession="Sjuksköterska", roles=[Role.STAFF]
    )
    AccessGrant.objects.create(
        user=sender, employment=job, mailbox=sender_box, level=AccessGrant.Level.SEND
    )
    AccessGrant.objects.create(
        user=reader, employment=reader_job, mailbox=inbox, level=AccessGrant.Level.SEND
    )
    for user in (sender, reader):
        agreement_accept(user=user, version=CURRENT_VERSION)
    client = Client()
    client.force_login(reader)
    sender_client = Client()
    sender_client.force_login(sender)
    return client, sender_client, inbox, job, sender_box


def fill(count: int, job: Employment, sender_box: Mailbox, inbox: Mailbox) -> None:
    category = Category.objects.get(name="Läkemedel")
    for n in range(count):
        thread_start(
            author=job.user,
            employment=job,
            sender_mailbox=sender_box,
            recipient_mailbox=inbox,
            category=category,
            subject=f"Fråga {n}",
            patient_id=TEST_PATIENTS[n % len(TEST_PATIENTS)],
            body="Kan dosen ändras?",
        )


def measure(client: Client, url: str, repeat: int, data: dict | None = None) -> tuple[float, int]:
    def request() -> Any:
        return client.post(url, data) if data else client.get(url)

    request()
    with CaptureQueriesContext(connection) as captured:
        request()
    queries = len(captured)  # now: later requests clear the connection's query log
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = request()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, url
    return statistics.median(times), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        client, sender_client, inbox, job, sender_box = build()
        fill(args.few, job, sender_box, inbox)
        focus = Thread.objects.order_by("pk").first()
        assert focus is not None
        views = {
            "home": (client, reverse("messenger:home"), None),
            "inbox": (client, reverse("messenger:mailbox", args=[inbox.pk]), None),
            "thread": (client, reverse("messenger:thread", args=[inbox.pk, focus.pk]), None),
            "compose": (sender_client, reverse("messenger:compose", args=[sender_box.pk]), None),
            "search": (
                client,
                reverse("messenger:search", args=[inbox.pk]),
                {"text": "dosen", "state": "unanswered"},
            ),
        }
        few = {name: measure(c, url, args.repeat, data) for name, (c, url, data) in views.items()}
        fill(args.many - args.few, job, sender_box, inbox)
        many = {name: measure(c, url, args.repeat, data) for name, (c, url, data) in views.items()}
        urls = views
        print(
            f"{'view':10} {'queries':>14} {'time ratio':>11}  ({args.many} vs {args.few} threads)"
        )
        for name in urls:
            (t_few, q_few), (t_many, q_many) = few[name], many[name]
            print(f"{name:10} {q_few:>6} → {q_many:<6} {t_many / t_few:>10.2f}x")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
