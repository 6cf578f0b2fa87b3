"""Benchmark: the deadline job's sweep with nothing new to do, at 2,000 and at 200,000 threads.

Builds a throwaway test database, fills it by bulk SQL (not the services one by one) with threads
whose questions are half past their deadline, already reminded and alerted, and half still
running, then times `deadlines_sweep` several times in each state. The sweep finds due questions
along partial indexes of open, unhandled ones, so its time must not grow with the table. Prints
the medians, their ratio, and PostgreSQL's plan of the sweep's query at the large size.

    make bench-jobs       # or: .venv/bin/python bench/deadlines.py [--many 200000]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Employment, Organisation, Role, User  # noqa: E402
from mailboxes.models import AccessGrant, Mailbox, OutboxItem  # noqa: E402
from messenger.categories import ensure_categories  # noqa: E402
from messenger.demo import TEST_PATIENTS  # noqa: E402
from messenger.models import Category, Question  # noqa: E402
from messenger.services import deadlines_sweep  # noqa: E402


def build() -> tuple[User, Mailbox, Mailbox, Category]:
    ensure_categories(Category)
    kommun = Organisation.objects.create(
        kind="municipality", name="Benchkommun", hsa_id="SE9999999991-B1", region="R"
    )
    centre = Organisation.objects.create(
        kind="health_centre", name="Vc Bench", hsa_id="SE9999999992-B2", region="R"
    )
    asking = Mailbox.objects.create(kind="functional", organisation=kommun, name="K (FBL)")
    receiving = Mailbox.objects.create(kind="functional", organisation=centre, name="Vc (FBL)")
    author = User.objects.create_user("bench_sender", email="bench@example.invalid")
    job = Employment.objects.create(
        user=author, organisation=kommun, profession="Sjuksköterska", roles=[Role.STAFF]
    )
    AccessGrant.objects.create(
        user=author, employment=job, mailbox=asking, level=AccessGrant.Level.SEND
    )
    return author, asking, receiving, Category.objects.get(name="Läkemedel")


def fill(
    first: int, last: int, author: User, asking: Mailbox, receiving: Mailbox, category: Category
) -> None:
    """Threads first..last, each with one question: odd ones overdue and already alerted, even
    ones still running (due in two days). Patients from Skatteverket's test numbers only."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO messenger_thread (category_id, subject, patient_id, sender_mailbox_id,
                recipient_mailbox_id, created_at, reply_due_at, answered_at, followed_up_at,
                last_message_at)
            SELECT %(category)s, 'Fråga ' || n, (%(patients)s::text[])[1 + n %% %(count)s],
                %(asking)s, %(receiving)s, now() - interval '4 days',
                CASE WHEN n %% 2 = 1 THEN now() - interval '1 day' ELSE now() + interval '2 days'
                END, NULL, NULL, now() - interval '4 days'
            FROM generate_series(%(first)s, %(last)s) AS n
            """,
            {
                "category": category.pk,
                "patients": TEST_PATIENTS,
                "count": len(TEST_PATIENTS),
                "asking": asking.pk,
                "receiving": receiving.pk,
                "first": first,
                "last": last,
            },
        )
        cursor.execute(
            """
            INSERT INTO messenger_question (thread_id, asked_by_id, asked_by_name, asked_from_id,
                asked_at, due_at, remind_at, answered_at, answered_by_name, reminded_at,
                alerted_at, followed_up_at, followed_up_by_name, followed_up_note)
            SELECT t.id, %(author)s, 'Bench', %(asking)s, t.created_at, t.reply_due_at,
                t.reply_due_at - interval '24 hours', NULL, '',
                CASE WHEN t.reply_due_at - interval '24 hours' < now() THEN now() END,
                CASE WHEN t.reply_due_at < now() THEN now() END, NULL, '', ''
            FROM messenger_thread t
            WHERE NOT EXISTS (SELECT 1 FROM messenger_question q WHERE q.thread_id = t.id)
            """,
            {"author": author.pk, "asking": asking.pk},
        )
        cursor.execute("ANALYZE messenger_thread; ANALYZE messenger_question")


def time_sweeps(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        counts = deadlines_sweep()
        times.append(time.perf_counter() - start)
        assert counts == {"reminders": 0, "alerts": 0}, counts
    return statistics.median(times)


def plan() -> str:
    query = (
        Question.objects.to_alert(timezone.now())
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("due_at")[:200]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=2_000)
    parser.add_argument("--many", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        author, asking, receiving, category = build()
        fill(1, args.few, author, asking, receiving, category)
        few = time_sweeps(args.repeat)
        started = time.perf_counter()
        fill(args.few + 1, args.many, author, asking, receiving, category)
        filled = time.perf_counter() - started
        many = time_sweeps(args.repeat)
        overdue = Question.objects.filter(due_at__lt=timezone.now()).count()
        assert not OutboxItem.objects.exists(), "nothing was new: nobody should be told"
        print(f"filled {args.many:,} threads in {filled:.1f} s; {overdue:,} past their deadline")
        print(f"sweep with nothing to do, median of {args.repeat}:")
        print(f"  {args.few:>9,} threads: {few * 1000:8.2f} ms")
        print(f"  {args.many:>9,} threads: {many * 1000:8.2f} ms  ({many / few:.2f}x)")
        print("plan of the overdue sweep's query:")
        print(plan())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
