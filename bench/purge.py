"""Benchmark: the nightly purge (R16) over a large throwaway database. Reports one run's time.

Builds a throwaway test database as bench/run.py does, fills it with bulk SQL (INSERT … SELECT
generate_series): by default 200,000 threads holding 50,000 messages more than a year old, some
threads entirely old, some mixed with recent replies, a hundred of the old ones on legal hold,
with deliveries, question clocks, history events, journal links and an access log of two rows
per thread. Then it runs the purge once, times it, and checks what it did: every year-old message
outside the held threads gone, the held threads whole, and the access log grown by the purge's
own summary rows only. Patients are only Skatteverket's test numbers
(messenger/testpersonnummer.txt).

    make bench-jobs    # or: .venv/bin/python bench/purge.py [--threads 200000]
                       #     [--old-messages 50000] [--batch-size 500]

Not part of `make test`. The test database is `test_bench_purge` unless TEST_DATABASE_NAME is
set, so a test run in the same checkout keeps its own.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_bench_purge")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Employment, Organisation, Role, User  # noqa: E402
from audit.models import AccessLog  # noqa: E402
from mailboxes.models import Mailbox  # noqa: E402
from messenger.categories import ensure_categories  # noqa: E402
from messenger.demo import TEST_PATIENTS  # noqa: E402
from messenger.models import Category, Message, Question, Thread  # noqa: E402
from messenger.services import PURGE_AFTER, messages_purge  # noqa: E402

HELD = 100  # threads on legal hold, all among the entirely old ones


def build(threads: int, old_messages: int) -> dict[str, int]:
    """Fill the database; return the row counts the purge should leave or remove.

    Thread k (0-based, in id order) is one of three kinds:
    - k < entirely_old: question and answer both 400–700 days old: the thread goes;
    - then `mixed` threads: a question 380–480 days old, answered within the last 300 days;
    - the rest: a question within the last 300 days, every other one answered an hour later.
    """
    entirely_old = old_messages * 2 // 5
    mixed = old_messages - 2 * entirely_old
    if entirely_old + mixed > threads or entirely_old < HELD:
        raise SystemExit("--old-messages does not fit in --threads")
    ensure_categories(Category)
    category = Category.objects.get(name="Läkemedel")
    kommun = Organisation.objects.create(
        kind="municipality", name="Benchkommun", hsa_id="SE9999999991-B1", region="R"
    )
    centre = Organisation.objects.create(
        kind="health_centre", name="Vc Bench", hsa_id="SE9999999992-B2", region="R"
    )
    sender_box = Mailbox.objects.create(kind="functional", organisation=kommun, name="K (FBL)")
    inbox = Mailbox.objects.create(kind="functional", organisation=centre, name="Vc (FBL)")
    sender = User.objects.create_user("bench_sender", first_name="Anna", last_name="Bench")
    reader = User.objects.create_user("bench_reader", first_name="Bo", last_name="Bench")
    admin = User.objects.create_user("bench_admin", is_superuser=True)
    for user, organisation in ((sender, kommun), (reader, centre)):
        Employment.objects.create(
            user=user, organisation=organisation, profession="Sjuksköterska", roles=[Role.STAFF]
        )
    params: dict[str, Any] = {
        "n": threads,
        "old": entirely_old,
        "mixed": mixed,
        "held": HELD,
        "now": timezone.now(),
        "category": category.pk,
        "sender_box": sender_box.pk,
        "inbox": inbox.pk,
        "sender": sender.pk,
        "reader": reader.pk,
        "admin": admin.pk,
        "patients": TEST_PATIENTS,
    }
    with connection.cursor() as cursor:
        # The question's time per thread kind, as above; k counts from 0.
        cursor.execute(
            """
            INSERT INTO messenger_thread (category_id, subject, patient_id, sender_mailbox_id,
                recipient_mailbox_id, created_at, reply_due_at, answered_at, last_message_at,
                legal_hold_at, legal_hold_by_id, legal_hold_reason)
            SELECT %(category)s, 'Fråga om ordination ' || k,
                (%(patients)s::text[])[1 + k %% cardinality(%(patients)s::text[])],
                %(sender_box)s, %(inbox)s, asked, asked + interval '72 hours', answered,
                coalesce(answered, asked),
                CASE WHEN k < %(held)s THEN asked + interval '30 days' END,
                CASE WHEN k < %(held)s THEN %(admin)s END,
                CASE WHEN k < %(held)s THEN 'Tillsynsärende' ELSE '' END
            FROM (
                SELECT k, asked, CASE
                    WHEN k < %(old)s THEN asked + interval '1 day'
                    WHEN k < %(old)s + %(mixed)s THEN %(now)s - (k %% 300) * interval '1 day'
                    WHEN k %% 2 = 0 THEN asked + interval '1 hour'
                END AS answered
                FROM (
                    SELECT k, CASE
                        WHEN k < %(old)s THEN %(now)s - (400 + k %% 300) * interval '1 day'
                        WHEN k < %(old)s + %(mixed)s
                            THEN %(now)s - (380 + k %% 100) * interval '1 day'
                        ELSE %(now)s - (k %% 300) * interval '1 day' - interval '2 hours'
                    END AS asked
                    FROM generate_series(0, %(n)s - 1) AS k
                ) AS questions
            ) AS timed
            ORDER BY k
            """,
            params,
        )
        cursor.execute(
            """
            CREATE TEMPORARY TABLE bench_thread AS
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, created_at, answered_at
            FROM messenger_thread
            """
        )
        cursor.execute(
            """
            INSERT INTO messenger_message (thread_id, author_id, author_name, author_profession,
                author_organisation, sender_mailbox_id, body, sent_at)
            SELECT id, %(sender)s, 'Anna Bench', 'Sjuksköterska', 'Benchkommun', %(sender_box)s,
                'Kan dosen av Waran ändras? INR var högt i morse.', created_at
            FROM bench_thread
            UNION ALL
            SELECT id, %(reader)s, 'Bo Bench', 'Sjuksköterska', 'Vc Bench', %(inbox)s,
                'Dosen är sänkt, nytt prov om en vecka.', answered_at
            FROM bench_thread WHERE answered_at IS NOT NULL
            """,
            params,
        )
        # Each thread's question clock, as thread_start leaves it; answered ones stopped.
        cursor.execute(
            """
            INSERT INTO messenger_question (thread_id, asked_by_id, asked_by_name, asked_from_id,
                asked_at, due_at, remind_at, answered_at, answered_by_name, reminded_at,
                alerted_at, followed_up_by_name, followed_up_note)
            SELECT id, %(sender)s, 'Anna Bench', %(sender_box)s, created_at,
                created_at + interval '72 hours', created_at + interval '48 hours', answered_at,
                CASE WHEN answered_at IS NULL THEN '' ELSE 'Bo Bench' END,
                created_at + interval '48 hours', created_at + interval '72 hours', '', ''
            FROM bench_thread
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO messenger_delivery (thread_id, mailbox_id, folder, read_at,
                last_message_at)
            SELECT t.id, %(sender_box)s, 'sent', t.created_at, th.last_message_at
            FROM bench_thread t JOIN messenger_thread th ON th.id = t.id
            UNION ALL
            SELECT t.id, %(inbox)s, 'archive', t.created_at, th.last_message_at
            FROM bench_thread t JOIN messenger_thread th ON th.id = t.id
            """,
            params,
        )
        # Every tenth thread forwarded two hours after the question; every twentieth with a
        # journal link sent to the municipality.
        cursor.execute(
            """
            INSERT INTO messenger_threadevent (thread_id, kind, at, actor_name,
                from_mailbox_name, to_name, comment)
            SELECT id, 'forwarded', created_at + interval '2 hours', 'Bo Bench', 'Vc (FBL)',
                'Cecilia Bench', 'Titta på detta'
            FROM bench_thread WHERE k %% 10 = 0
            """,
            params,
        )
        cursor.execute(
            """
            WITH links AS (
                INSERT INTO messenger_journallink (thread_id, kind, title, reference,
                    attached_by_id, attached_by_name, attached_from_id, attached_at)
                SELECT id, 'journal_note', 'Anteckning', 'J-' || k, %(reader)s, 'Bo Bench',
                    %(inbox)s, created_at + interval '3 hours'
                FROM bench_thread WHERE k %% 20 = 0
                RETURNING id, attached_at
            )
            INSERT INTO messenger_journallinkrecipient (link_id, via, mailbox_name,
                person_name, by_name, at)
            SELECT id, 'sent', 'K (FBL)', '', 'Bo Bench', attached_at FROM links
            """,
            params,
        )
        # The access log as sending and reading leave it: two rows per thread.
        cursor.execute(
            """
            INSERT INTO audit_accesslog (at, action, user_id_snapshot, user_name,
                organisation_name, mailbox_name, mailbox_organisation_name,
                thread_id_snapshot, patient_id, detail)
            SELECT t.created_at, 'send', %(sender)s, 'Anna Bench', 'Benchkommun', 'K (FBL)',
                'Benchkommun', t.id, th.patient_id, ''
            FROM bench_thread t JOIN messenger_thread th ON th.id = t.id
            UNION ALL
            SELECT t.created_at + interval '1 hour', 'view_thread', %(reader)s, 'Bo Bench',
                'Vc Bench', 'Vc (FBL)', 'Vc Bench', t.id, th.patient_id, ''
            FROM bench_thread t JOIN messenger_thread th ON th.id = t.id
            """,
            params,
        )
        cursor.execute(
            """
            UPDATE messenger_thread t SET search_vector =
                setweight(to_tsvector('swedish', t.subject), 'A') ||
                setweight(to_tsvector('swedish', coalesce(
                    (SELECT string_agg(m.body, ' ') FROM messenger_message m
                     WHERE m.thread_id = t.id), '')), 'B')
            """
        )
        cursor.execute("DROP TABLE bench_thread")
        # As autovacuum would have by night: the planner knows the tables' sizes.
        cursor.execute("ANALYZE")
    return {"entirely_old": entirely_old, "mixed": mixed, "old_messages": old_messages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=200_000)
    parser.add_argument("--old-messages", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        start = time.perf_counter()
        plan = build(args.threads, args.old_messages)
        built = time.perf_counter() - start
        cutoff = timezone.now() - PURGE_AFTER
        messages_before = Message.objects.count()
        old_before = Message.objects.filter(sent_at__lt=cutoff).count()
        held_messages = Message.objects.filter(thread__legal_hold_at__isnull=False).count()
        log_before = AccessLog.objects.count()
        purge_rows_before = AccessLog.objects.filter(action=AccessLog.Action.PURGE).count()
        print(
            f"built in {built:.0f} s: {Thread.objects.count()} threads, {messages_before} "
            f"messages ({old_before} more than a year old, {held_messages} in {HELD} threads "
            f"on legal hold), {log_before} access-log rows"
        )

        start = time.perf_counter()
        purged = messages_purge(batch_size=args.batch_size)
        took = time.perf_counter() - start

        summaries = (
            AccessLog.objects.filter(action=AccessLog.Action.PURGE).count() - purge_rows_before
        )
        log_after = AccessLog.objects.count()
        expected_messages = old_before - held_messages
        expected_threads = plan["entirely_old"] - HELD
        checks = {
            "messages removed": (purged.messages, expected_messages),
            "threads removed": (purged.threads, expected_threads),
            "old messages left outside holds": (
                Message.objects.filter(
                    sent_at__lt=cutoff, thread__legal_hold_at__isnull=True
                ).count(),
                0,
            ),
            "year-old question clocks left outside holds": (
                Question.objects.filter(
                    asked_at__lt=cutoff, thread__legal_hold_at__isnull=True
                ).count(),
                0,
            ),
            "messages left in held threads": (
                Message.objects.filter(thread__legal_hold_at__isnull=False).count(),
                held_messages,
            ),
            "access-log rows added besides the purge's summaries": (
                log_after - log_before - summaries,
                0,
            ),
        }
        print(
            f"purge: {took:.1f} s for {purged.messages} messages and {purged.threads} threads, "
            f"{summaries} summary rows (batches of {args.batch_size} threads); "
            f"access log {log_before} → {log_after}"
        )
        failed = False
        for name, (got, want) in checks.items():
            ok = got == want
            failed |= not ok
            print(f"  {'ok' if ok else 'FAILED'}: {name}: {got}" + ("" if ok else f" ≠ {want}"))
        if failed:
            raise SystemExit(1)
        print(f"  threads left: {Thread.objects.count()}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
