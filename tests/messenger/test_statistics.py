"""Statistics for invoicing (R19): counts per month, counterpart and category, "<5" for small
counts, the reply-clock figures, the period's limits, the CSV, who may see them, and the hourly
count that the page reads (kept after the purge)."""

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from django.db import connection, connections
from django.urls import reverse

from accounts.models import Role
from messenger.celery import app
from messenger.jobs import job_run
from messenger.models import Message, MonthlyFigures, StatisticsMonth, ThreadEvent
from messenger.services import messages_purge
from messenger.statistics import Row, report, shown, statistics_refresh
from tests.conftest import _persona
from tests.helpers import assert_num_queries, at_once, reply, send
from tests.testdata import PATIENTS

STHLM = ZoneInfo("Europe/Stockholm")
URL = reverse("messenger:statistics")
MARCH = dt.date(2027, 3, 1)
APRIL = dt.date(2027, 4, 1)
PERIOD = {"start": "2027-03", "end": "2027-04"}


def at(day: int, month: int = 3, hour: int = 9) -> dt.datetime:
    return dt.datetime(2027, month, day, hour, tzinfo=STHLM)


@pytest.fixture
def traffic(world, categories):
    """March: Karlstad asks Gripen six Recept questions, Gripen answers five after two hours
    and forwards one thread; April: Arvika asks Gripen two."""
    recept = categories["Recept"]
    threads = []
    for i in range(6):
        with time_machine.travel(at(1 + i), tick=False):
            threads.append(
                send(world.nurse, world.gripen_fbl, recept, patient_id=PATIENTS[i % len(PATIENTS)])
            )
    for i, thread in enumerate(threads[:5]):
        with time_machine.travel(at(1 + i, hour=11), tick=False):
            reply(world.hc_nurse, thread)
    ThreadEvent.objects.create(
        thread=threads[0],
        kind=ThreadEvent.Kind.FORWARDED,
        at=at(20),
        actor_name="Bo",
        from_mailbox_name=world.gripen_fbl.name,
    )
    for i in range(2):
        with time_machine.travel(at(3 + i, month=4), tick=False):
            send(world.outsider, world.gripen_fbl, recept, patient_id=PATIENTS[0])
    return threads


def reader(world, org, name="t_gustav"):
    return _persona(name, org, None, roles=[Role.STAFF, Role.STATISTICS_READER])


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_counts_per_month_counterpart_and_category(world, traffic):
    statistics_refresh()
    rows = report(world.gripen, MARCH, APRIL).rows
    assert [(r.month, r.counterpart, r.category) for r in rows] == [
        (MARCH, "Karlstads kommun", "Recept"),
        (APRIL, "Arvika kommun", "Recept"),
    ]
    march, april = rows
    assert (march.sent, march.received) == (5, 6)
    assert (march.questions, march.within, march.answered, march.overdue) == (6, 5, 5, 1)
    # 5 within and 83 % would give the 1 overdue away.
    assert (march.within_text, march.overdue_text, march.share()) == ("–", "<5", "–")
    assert march.median_text() == "2,0 h"
    assert march.forwarded == 1
    assert (april.sent, april.received, april.overdue) == (0, 2, 2)
    assert april.share() == "–"  # fewer than 5 questions
    assert april.median_text() == "–"

    karlstad = report(world.karlstad, MARCH, APRIL).rows
    assert [(r.counterpart, r.sent, r.received, r.questions) for r in karlstad] == [
        ("Vårdcentralen Gripen", 6, 5, 0)
    ]


def test_small_counts_are_shown_as_under_five():
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


@pytest.mark.parametrize(
    ("within", "overdue", "shown_as"),
    [
        (40, 10, ("50", "40", "10", "80 %")),
        (40, 0, ("40", "40", "0", "100 %")),
        (0, 7, ("7", "0", "7", "0 %")),
        (40, 3, ("–", "–", "<5", "–")),
        (2, 40, ("–", "<5", "–", "–")),
        (4, 4, ("–", "<5", "<5", "–")),
        (2, 2, ("<5", "<5", "<5", "–")),
        (0, 3, ("<5", "0", "<5", "–")),
    ],
)
def test_no_small_question_count_can_be_worked_out_from_the_others(within, overdue, shown_as):
    # Questions decided = within + overdue: with either small, the sum would tell the other.
    row = Row(MARCH, "Gripen", "Karlstad", "Recept")
    row.within, row.overdue, row.questions = within, overdue, within + overdue
    assert (row.questions_text, row.within_text, row.overdue_text, row.share()) == shown_as


def test_the_chart_adds_up_only_the_counts_the_table_shows(world, categories):
    recept, other = categories["Recept"], categories["Läkemedel"]
    with time_machine.travel(at(2), tick=False):
        for i in range(6):
            send(world.nurse, world.gripen_fbl, recept, patient_id=PATIENTS[i % len(PATIENTS)])
        for i in range(2):
            send(world.nurse, world.gripen_fbl, other, patient_id=PATIENTS[i])
    with time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False):
        statistics_refresh()
        result = report(world.gripen, MARCH, MARCH)
    assert sorted(row.received for row in result.rows) == [2, 6]
    # 8 on the bar, less the 6 in the table, would give the hidden 2 away.
    assert [(month.sent, month.received) for month in result.months] == [(0, 6)]


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_the_page_and_csv_for_a_statistics_reader(world, traffic):
    statistics_refresh()
    client = reader(world, world.gripen).client()
    page = client.get(URL, PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Statistik – Vårdcentralen Gripen" in html
    assert "Räknad 2027-06-15 12:00." in html
    assert "<svg" in html
    assert "<title" in html
    assert 'aria-describedby="statistics-table"' in html
    assert "&lt;5" in html
    assert "<5" not in html
    assert "83 %" not in html  # it would give the one overdue question away
    assert "Fråga om ordination" not in html
    assert PATIENTS[0] not in html
    assert " style=" not in html.split("<svg", 1)[1].split("</svg>")[0]

    csv = client.get(URL, {**PERIOD, "format": "csv"})
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeffMånad;Organisation;Motpart;Kategori;")
    lines = text.strip().splitlines()
    assert lines[1].split(";")[:6] == [
        "2027-03",
        "Vårdcentralen Gripen",
        "Karlstads kommun",
        "Recept",
        "5",
        "6",
    ]
    assert lines[2].split(";")[4:6] == ["0", "<5"]
    assert "Fråga om ordination" not in text
    assert PATIENTS[0] not in text


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"start": "2025-01", "end": "2027-05"}, "Perioden kan vara högst 24 månader."),
        ({"start": "2027-05", "end": "2027-07"}, "Perioden kan inte sluta i framtiden."),
        ({"start": "2027-05", "end": "2027-04"}, "Periodens sista månad är före den första."),
        ({"start": "maj", "end": "2027-04"}, "Ange månaden som år-månad"),
    ],
)
def test_a_bad_period_is_refused_in_swedish(world, period, message):
    response = reader(world, world.gripen).client().get(URL, period)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "approver", "log_reviewer", "doctor"])
def test_everyone_else_gets_404_page_and_csv(world, who):
    client = getattr(world, who).client()
    assert client.get(URL).status_code == 404
    assert client.get(URL, {**PERIOD, "format": "csv"}).status_code == 404


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_the_system_administrator_sees_the_region_or_any_organisation(world, sysadmin, traffic):
    statistics_refresh()
    client = sysadmin.client()
    region = client.get(URL, PERIOD)
    assert region.status_code == 200
    html = region.content.decode()
    assert "Statistik – hela regionen" in html
    # Both sides of the March traffic, each from its own organisation.
    assert html.count("<td>Karlstads kommun</td>") == 2
    one = client.get(URL, {**PERIOD, "organisation": world.karlstad.pk})
    assert "Statistik – Karlstads kommun" in one.content.decode()


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_the_default_period_is_the_last_twelve_full_months(world):
    response = reader(world, world.gripen).client().get(URL)
    assert response.status_code == 200
    assert response.context["report"].first == dt.date(2026, 6, 1)
    assert response.context["report"].last == dt.date(2027, 5, 1)


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_the_page_costs_a_fixed_number_of_queries(world, categories):
    client = reader(world, world.gripen).client()
    client.get(URL, PERIOD)  # warm the session and the caches

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, PERIOD).status_code == 200
        return len(captured)

    before = count()
    recept = categories["Recept"]
    for i in range(3):
        with time_machine.travel(at(1 + i), tick=False):
            thread = send(world.nurse, world.gripen_fbl, recept, patient_id=PATIENTS[0])
        with time_machine.travel(at(1 + i, hour=10), tick=False):
            reply(world.hc_nurse, thread)
    statistics_refresh()
    with assert_num_queries(before):
        page = client.get(URL, PERIOD)
    assert "Räknad" in page.content.decode()


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_a_period_not_counted_yet_says_so(world, traffic):
    page = reader(world, world.gripen).client().get(URL, PERIOD).content.decode()
    assert "Ingen månad i perioden är räknad än." in page
    assert "Recept" not in page.split("Så räknas siffrorna")[0].split("</form>")[1]


def test_the_figures_outlive_the_purge_of_their_messages(world, traffic):
    with time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False):
        statistics_refresh()
        before = report(world.gripen, MARCH, APRIL).rows
    # A year and more later the purge (R16) has removed every message of March and April.
    with time_machine.travel(dt.datetime(2028, 6, 15, 12, tzinfo=STHLM), tick=False):
        messages_purge()
        assert not Message.objects.exists()
        statistics_refresh()
        after = report(world.gripen, MARCH, APRIL).rows
    assert after == before
    assert (after[0].sent, after[0].received, after[0].forwarded) == (5, 6, 1)


def test_recent_months_are_counted_again_and_older_ones_kept(world, traffic):
    def forward(day: int, month: int, thread: int) -> None:
        ThreadEvent.objects.create(
            thread=traffic[thread],
            kind=ThreadEvent.Kind.FORWARDED,
            at=at(day, month=month),
            actor_name="Bo",
            from_mailbox_name=world.gripen_fbl.name,
        )

    with time_machine.travel(dt.datetime(2027, 5, 10, 12, tzinfo=STHLM), tick=False):
        assert statistics_refresh() == {"months": 3, "rows": 4}  # March to May
        forward(25, 3, thread=1)
        statistics_refresh()  # March is two months back: still counted again
    assert report(world.gripen, MARCH, MARCH).rows[0].forwarded == 2

    # The job was down until mid-June: March, last counted in May before it closed at the end
    # of May, is counted once more; then it is kept.
    with time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False):
        forward(26, 3, thread=2)
        forward(1, 6, thread=1)
        assert statistics_refresh() == {"months": 4, "rows": 5}  # March to June
        assert report(world.gripen, MARCH, MARCH).rows[0].forwarded == 3
        [june] = report(world.gripen, dt.date(2027, 6, 1), dt.date(2027, 6, 1)).rows
        assert june.forwarded == 1
    with time_machine.travel(dt.datetime(2027, 6, 20, 12, tzinfo=STHLM), tick=False):
        forward(27, 3, thread=3)
        assert statistics_refresh()["months"] == 3  # April to June
    assert StatisticsMonth.objects.get(month=MARCH).computed_at.day == 15
    assert report(world.gripen, MARCH, MARCH).rows[0].forwarded == 3


def test_a_month_the_purge_may_have_reached_is_never_counted_again(world, traffic):
    # Counted in March only, then the job was down for over a year: March is not recounted
    # from what the purge left, which would be nothing.
    with time_machine.travel(dt.datetime(2027, 3, 31, 12, tzinfo=STHLM), tick=False):
        statistics_refresh()
    march = report(world.gripen, MARCH, MARCH).rows
    with time_machine.travel(dt.datetime(2028, 4, 15, 12, tzinfo=STHLM), tick=False):
        messages_purge()
        statistics_refresh()
    assert report(world.gripen, MARCH, MARCH).rows == march
    assert march[0].received == 6


@pytest.mark.django_db(transaction=True)
def test_a_count_waits_while_another_holds_the_statistics_lock(world, traffic):
    finished = threading.Event()

    def count() -> None:
        try:
            statistics_refresh()
            finished.set()
        finally:
            connections.close_all()

    def waiting_on_the_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
            return cursor.fetchone()[0] == 1

    with time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False):
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=False) as other:
            other.execute("SELECT pg_advisory_xact_lock(hashtext('messenger.statistics'))")
            counting = threading.Thread(target=count)
            counting.start()
            for _ in range(200):  # until the count is seen waiting, at most about 10 s
                if waiting_on_the_lock():
                    break
                time.sleep(0.05)
            assert waiting_on_the_lock()
            assert not finished.is_set()
            assert not StatisticsMonth.objects.exists()
        counting.join(timeout=30)  # the other connection is closed: its lock is gone
    assert finished.is_set()
    assert StatisticsMonth.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_counts_at_once_leave_each_month_counted_once(world, traffic):
    with time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False):
        done, errors = at_once(statistics_refresh)
    assert errors == []
    assert [result["months"] for result in done] == [4, 4]
    assert StatisticsMonth.objects.count() == 4  # March to June
    assert MonthlyFigures.objects.filter(organisation=world.gripen).count() == 2


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_the_hourly_job_counts_and_records_its_run(world, traffic):
    assert app.conf.beat_schedule["statistics"]["args"] == ("statistics",)
    status = job_run("statistics")
    assert status.last_ok
    assert status.last_summary == "months=4 rows=4"
    assert report(world.gripen, MARCH, APRIL).rows[0].sent == 5


@time_machine.travel(dt.datetime(2027, 6, 15, 12, tzinfo=STHLM), tick=False)
def test_a_long_table_stops_on_the_page_and_goes_whole_into_the_csv(
    world, sysadmin, traffic, monkeypatch
):
    statistics_refresh()
    monkeypatch.setattr("messenger.views.statistics.TABLE_ROWS", 3)
    client = sysadmin.client()
    page = client.get(URL, PERIOD).content.decode()
    assert page.count('<td class="nowrap">2027-') == 3
    assert "1 rad till finns i CSV-filen." in page
    csv = client.get(URL, {**PERIOD, "format": "csv"}).content.decode("utf-8")
    assert len(csv.strip().splitlines()) == 1 + 4
