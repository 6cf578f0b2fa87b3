"""Benchmark: the access log's hash chain (issue 10) over a large throwaway database.

Builds a throwaway test database as bench/purge.py does and fills the access log with bulk SQL:
by default 2,000,000 rows spread over five years, each hashed and queued by the insert trigger as
any row is. Then, in one run, it reports:

- the sealing of that backlog (the `audit_seal` job's work, in its batches);
- `audit_verify` over the whole chain (target: under 2 minutes);
- the round trips of one `access_log()` call (target: at most one more than without the chain);
- 8 concurrent writers, each writing rows one transaction at a time as requests do, with the
  chain's triggers and without them, in the same run (target: at least 70 % of the rows per
  second without the chain);
- log control's page filtered by patient (target: under 1 s) and a patient's five-year log
  extract (target: under 2 s), both for the organisation all the rows belong to, the worst case.

    .venv/bin/python bench/audit_log.py [--rows 2000000] [--writers 8] [--writes 500]

Not part of `make test`. The test database is `test_bench_audit` unless TEST_DATABASE_NAME is
set, so a test run in the same checkout keeps its own.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_bench_audit")

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)

from accounts.models import Organisation  # noqa: E402
from audit.models import AccessLog  # noqa: E402
from audit.services import access_log, access_log_seal, access_log_verify  # noqa: E402
from messenger.demo import TEST_PATIENTS  # noqa: E402
from messenger.log_control import LogQuery, describe, log_page, patient_extract  # noqa: E402

CHAIN_TRIGGERS = ("audit_accesslog_hash", "audit_accesslog_queue")


def build(rows: int) -> float:
    """`rows` access-log rows over the last five years, as reads in a few mailboxes."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_accesslog (at, action, user_id_snapshot, user_name,
                organisation_name, mailbox_name, mailbox_organisation_name,
                thread_id_snapshot, patient_id, detail)
            SELECT now() - (interval '5 years' * (%(n)s - i) / %(n)s),
                'view_thread', 1 + i %% 2000, 'Person ' || (1 + i %% 2000), 'Karlstads kommun',
                'Vårdcentralen Gripen (FBL)', 'Vårdcentralen Gripen', i,
                (%(patients)s::text[])[1 + i %% %(count)s], ''
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": rows, "patients": TEST_PATIENTS, "count": len(TEST_PATIENTS)},
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - start


def writers(count: int, writes: int) -> float:
    """Rows per second that `count` threads reach, each writing `writes` rows, one transaction
    each (as a request writes its row), each thread on its own connection."""
    barrier = threading.Barrier(count + 1)

    def work() -> None:
        barrier.wait()
        for n in range(writes):
            with transaction.atomic():
                access_log(action=AccessLog.Action.VIEW_THREAD, thread_id=n, detail="bench")
        connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return count * writes / (time.perf_counter() - start)


def log_control(patient: str) -> None:
    """Log control's page and a patient's extract, timed as the views run them (the rows made
    and described), for the organisation every built row belongs to."""
    gripen = Organisation(name="Vårdcentralen Gripen")  # only its name is asked
    start = time.perf_counter()
    page = log_page(gripen, LogQuery(patient_id=patient))
    lines = [describe(row) for row in page.rows]
    took = time.perf_counter() - start
    print(
        f"log control, filtered by patient: {len(lines)} rows in {took * 1000:.0f} ms "
        f"(target < 1 s: {'met' if took < 1 else 'NOT met'})"
    )
    start = time.perf_counter()
    rows = [describe(row) for row in patient_extract(gripen, LogQuery(patient_id=patient))]
    took = time.perf_counter() - start
    print(
        f"a patient's five-year extract: {len(rows):,} rows in {took:.2f} s "
        f"(target < 2 s: {'met' if took < 2 else 'NOT met'})"
    )


def set_chain_triggers(enabled: bool) -> None:
    with connection.cursor() as cursor:
        for name in CHAIN_TRIGGERS:
            state = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE audit_accesslog {state} TRIGGER {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=500, help="rows per writer")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        took = build(args.rows)
        print(f"built {args.rows:,} rows over five years in {took:.0f} s (hashed and queued)")

        start = time.perf_counter()
        sealed = access_log_seal()["sealed"]
        print(f"sealed {sealed:,} rows in {time.perf_counter() - start:.0f} s")

        start = time.perf_counter()
        verdict = access_log_verify()
        took = time.perf_counter() - start
        print(
            f"audit_verify: {verdict.rows:,} rows, {verdict.links:,} links, "
            f"{'broken at ' + str(verdict.broken) if verdict.broken else 'holds'}, "
            f"in {took:.1f} s (target < 120 s: {'met' if took < 120 else 'NOT met'})"
        )

        log_control(TEST_PATIENTS[0])

        with CaptureQueriesContext(connection) as queries:
            access_log(action=AccessLog.Action.VIEW_THREAD, detail="one row")
        print(f"one access_log() call: {len(queries)} round trip(s), the chain adds none")

        # Warm both ways once, then measure: without the chain first, then with it.
        writers(args.writers, 20)
        set_chain_triggers(False)
        without = writers(args.writers, args.writes)
        set_chain_triggers(True)
        with_chain = writers(args.writers, args.writes)
        ratio = with_chain / without
        print(
            f"{args.writers} concurrent writers: {without:.0f} rows/s without the chain, "
            f"{with_chain:.0f} with it: {ratio:.0%} (target ≥ 70 %: "
            f"{'met' if ratio >= 0.7 else 'NOT met'})"
        )
        # The rows written without the triggers carry no hash: the chain would rightly call
        # them broken, so they are not sealed or verified here.
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
