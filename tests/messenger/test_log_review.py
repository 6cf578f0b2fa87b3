"""R18, issue 10: the systematic review. A log reviewer draws a sample of their organisation's
reads, marks each row OK or Utreds with a note and closes the review; each step is logged."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from audit.services import access_log_retention, access_log_seal
from messenger.jobs import job_run
from messenger.log_review import Sample, log_review_start
from messenger.models import JobStatus, LogReview, LogReviewItem
from tests.factories import EmploymentFactory
from tests.testdata import PATIENTS

REVIEWS = reverse("messenger:log_reviews")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
GRIPEN = "Vårdcentralen Gripen"
MARCH = {"start": "2027-03-01", "end": "2027-03-31"}


def read(persona, at: datetime, *, mailbox_organisation: str = GRIPEN, patient: str = PATIENTS[0]):
    """An access-log row: `persona` read a thread at `at` in a mailbox of that organisation."""
    return AccessLog.objects.create(
        at=at,
        action=AccessLog.Action.VIEW_THREAD,
        user_id_snapshot=persona.user.pk,
        user_name=persona.user.display_name(),
        organisation_name=persona.employment.organisation.name,
        mailbox_name=f"{mailbox_organisation} (FBL)",
        mailbox_organisation_name=mailbox_organisation,
        thread_id_snapshot=1234,
        patient_id=patient,
    )


def start(world, **data):
    return world.log_reviewer.client().post(REVIEWS, {**MARCH, **data})


def drawn(review: LogReview) -> set[int]:
    return set(review.items.values_list("entry_id", flat=True))


def review_url(review: LogReview) -> str:
    return reverse("messenger:log_review", kwargs={"pk": review.pk})


def mark_url(item: LogReviewItem) -> str:
    return reverse("messenger:log_review_mark", kwargs={"pk": item.review_id, "item_pk": item.pk})


def mark(client, item: LogReviewItem, verdict: str, note: str = ""):
    return client.post(
        mark_url(item), {f"rad{item.pk}-verdict": verdict, f"rad{item.pk}-note": note}
    )


def close_url(review: LogReview) -> str:
    return reverse("messenger:log_review_close", kwargs={"pk": review.pk})


def review_rows() -> list[AccessLog]:
    """The rows of what was done in reviews: started, marked, closed (not the page's openings)."""
    return list(
        AccessLog.objects.filter(action=AccessLog.Action.LOG_REVIEW)
        .exclude(detail__startswith="Öppnade granskning")
        .order_by("pk")
    )


def test_opening_a_review_is_logged_as_a_read_of_the_log(world, march):
    client = world.log_reviewer.client()
    started = client.post(
        reverse("messenger:log_reviews"),
        {"kind": "random", "start": "2027-03-01", "end": "2027-03-31", "size": 5},
    )
    assert started.status_code == 302
    client.get(started["Location"])
    opened = AccessLog.objects.filter(
        action=AccessLog.Action.LOG_REVIEW, detail__startswith="Öppnade granskning"
    ).get()
    assert opened.user_id_snapshot == world.log_reviewer.user.pk
    assert opened.detail.endswith("(5 rader)")
    assert opened.patient_id == ""


@pytest.fixture
def march(world):
    """Thirty reads in Gripen's mailbox in March 2027, and reads Gripen's review must not draw:
    in February, in Karlstad's mailbox by Karlstad's staff, and a send rather than a read."""
    inside = {
        read(world.hc_nurse, datetime(2027, 3, 1 + n, 10, 0, tzinfo=STOCKHOLM)).pk
        for n in range(30)
    }
    read(world.hc_nurse, datetime(2027, 2, 27, 10, 0, tzinfo=STOCKHOLM))
    read(world.nurse, datetime(2027, 3, 10, 10, 0, tzinfo=STOCKHOLM), mailbox_organisation="K")
    AccessLog.objects.create(
        at=datetime(2027, 3, 10, 11, 0, tzinfo=STOCKHOLM),
        action=AccessLog.Action.SEND,
        user_name=world.hc_nurse.user.display_name(),
        organisation_name=GRIPEN,
        mailbox_organisation_name=GRIPEN,
    )
    return inside


def test_a_random_sample_draws_n_of_the_periods_reads(world, march):
    response = start(world, kind="random", size="20")
    review = LogReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == review_url(review)
    assert review.organisation == world.gripen
    assert review.started_by == world.log_reviewer.user
    assert review.items.count() == 20
    assert drawn(review) <= march
    item = review.items.all()[0]
    assert item.patient_id == PATIENTS[0]
    assert item.text.startswith(f"{world.hc_nurse.user.display_name()}, {GRIPEN}, läste ärende")
    logged = review_rows()
    assert len(logged) == 1
    assert logged[0].user_id_snapshot == world.log_reviewer.user.pk
    assert logged[0].organisation_name == GRIPEN
    assert logged[0].detail == (
        f"Startade granskning {review.pk}: slumpmässigt urval om 20 läsningar "
        "2027-03-01–2027-03-31: 20 rader"
    )


def test_a_random_sample_larger_than_the_period_takes_every_read(world, march):
    start(world, kind="random", size="500")
    assert drawn(LogReview.objects.get()) == march


def test_reads_by_the_organisations_staff_in_another_mailbox_are_drawn_too(world):
    elsewhere = read(
        world.hc_nurse, datetime(2027, 3, 3, 10, 0, tzinfo=STOCKHOLM), mailbox_organisation="K"
    )
    start(world, kind="random", size="5")
    assert drawn(LogReview.objects.get()) == {elsewhere.pk}


def test_reads_outside_office_hours_in_stockholm_time(world):
    """Friday 5 March 2027 and the weekend after it (CET, UTC+1)."""
    bo = world.hc_nurse

    def at(day, hour, minute=0, tz=STOCKHOLM):
        return read(bo, datetime(2027, 3, day, hour, minute, tzinfo=tz)).pk

    outside = {
        at(5, 6, 59),  # Friday morning, before seven
        at(5, 18, 0),  # Friday evening, from six
        at(5, 17, 30, tz=UTC),  # 18.30 in Stockholm, though 17.30 in UTC
        at(6, 12, 0),  # Saturday noon
        at(7, 15, 0),  # Sunday afternoon
        at(7, 23, 30, tz=UTC),  # Monday 00.30 in Stockholm
    }
    at(5, 7, 0)  # Friday, seven sharp
    at(5, 17, 59)
    at(8, 6, 30, tz=UTC)  # Monday 07.30 in Stockholm, though 06.30 in UTC
    at(8, 10, 0)
    response = start(world, kind="off_hours")
    assert response.status_code == 302
    review = LogReview.objects.get()
    assert drawn(review) == outside
    assert not review.capped
    assert "utanför kontorstid 2027-03-01–2027-03-31: 6 rader" in review_rows()[0].detail


def test_reads_outside_office_hours_are_capped_at_500_and_it_says_so(world):
    AccessLog.objects.bulk_create(
        AccessLog(
            at=datetime(2027, 3, 6, 0, 0, tzinfo=STOCKHOLM).replace(second=n % 60, minute=n // 60),
            action=AccessLog.Action.VIEW_THREAD,
            user_name="Bo Test",
            organisation_name=GRIPEN,
            mailbox_organisation_name=GRIPEN,
        )
        for n in range(501)
    )
    response = start(world, kind="off_hours")
    review = LogReview.objects.get()
    assert review.capped
    assert review.items.count() == 500
    # The oldest 500: the last one written is left out.
    newest = AccessLog.objects.filter(action=AccessLog.Action.VIEW_THREAD).latest("at")
    assert newest.pk not in drawn(review)
    page = world.log_reviewer.client().get(response["Location"])
    assert "de 500 äldsta är med" in page.content.decode()


def test_one_persons_reads_match_their_whole_name_in_any_case(world, march):
    cecilia = read(world.doctor, datetime(2027, 3, 4, 9, 0, tzinfo=STOCKHOLM))
    name = world.doctor.user.display_name()
    start(world, kind="person", person=name.upper())
    review = LogReview.objects.get()
    assert drawn(review) == {cecilia.pk}
    assert review.person_name == name.upper()


def test_a_part_of_a_name_draws_nothing_and_starts_no_review(world, march):
    response = start(world, kind="person", person=world.hc_nurse.user.first_name)
    assert response.status_code == 400
    assert "Urvalet gav inga läsningar i perioden. Ingen granskning är startad." in (
        response.content.decode()
    )
    assert not LogReview.objects.exists()
    # The draw was a search of the log all the same.
    assert review_rows()[0].detail.endswith("0 rader, ingen granskning startad")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "random", "size": "0"}, "Urvalet ska vara 1–500 läsningar."),
        ({"kind": "random", "size": "501"}, "Urvalet ska vara 1–500 läsningar."),
        ({"kind": "random"}, "Ange hur många läsningar som ska dras"),
        (
            {"kind": "random", "size": "20", "start": "2027-01-01", "end": "2028-01-02"},
            "Ett slumpmässigt urval dras ur högst ett år.",
        ),
        ({"kind": "random", "size": "20", "start": ""}, "Ange periodens första dag."),
        ({"kind": "off_hours", "start": "2027-04-01"}, "Perioden slutar innan den börjar."),
        ({"kind": "person", "person": " "}, "Ange personens namn."),
        ({"kind": "everything"}, "Välj ett av urvalen i listan."),
    ],
)
def test_bad_criteria_get_a_swedish_message_and_draw_nothing(world, march, data, message):
    response = start(world, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not LogReview.objects.exists()
    assert not review_rows()


def test_a_year_is_allowed_for_a_random_sample(world, march):
    response = start(world, kind="random", size="5", start="2027-01-01", end="2027-12-31")
    assert response.status_code == 302


@pytest.fixture
def review(world, march) -> LogReview:
    start(world, kind="random", size="3")
    return LogReview.objects.get()


def test_marking_rows_and_closing_the_review_is_recorded_and_logged(world, review):
    client = world.log_reviewer.client()
    first, second, third = review.items.all()
    assert mark(client, first, "ok").status_code == 302
    assert mark(client, second, "utreds", "Läste utan att vara med i vården.").status_code == 302
    mark(client, third, "utreds", "Först så här")
    mark(client, third, "ok", "Sedan rättat")  # a row may be marked again while it is open
    second.refresh_from_db()
    assert second.verdict == "utreds"
    assert second.note == "Läste utan att vara med i vården."
    assert second.marked_by == world.log_reviewer.user
    assert second.marked_at is not None
    response = client.post(close_url(review))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.closed_at is not None
    assert review.closed_by == world.log_reviewer.user
    assert review.outcome == "2 OK, 1 utreds"
    logged = review_rows()
    assert len(logged) == 6  # started, four marks, closed
    marks = logged[1:5]
    assert [row.patient_id for row in marks] == [PATIENTS[0]] * 4
    assert all(PATIENTS[0] not in row.detail for row in logged)
    assert "vården" not in marks[1].detail  # the note stays in the review
    assert marks[1].detail == (
        f"Granskning {review.pk}: markerade loggrad {second.entry_id} som utreds"
    )
    assert logged[5].detail == f"Avslutade granskning {review.pk}: 2 OK, 1 utreds"
    listing = client.get(REVIEWS)
    listed = listing.context["reviews"][0]
    assert (listed.rows, listed.ok, listed.investigate) == (3, 2, 1)
    body = listing.content.decode()
    assert world.log_reviewer.user.display_name() in body


def test_a_review_with_unmarked_rows_cannot_be_closed(world, review):
    client = world.log_reviewer.client()
    mark(client, review.items.first(), "ok")
    response = client.post(close_url(review), follow=True)
    assert "2 rader är inte markerade än." in response.content.decode()
    review.refresh_from_db()
    assert review.closed_at is None
    assert len(review_rows()) == 2  # started and one mark, no close


def test_a_closed_review_cannot_be_changed(world, review):
    client = world.log_reviewer.client()
    for item in review.items.all():
        mark(client, item, "ok")
    client.post(close_url(review))
    item = review.items.first()
    response = mark(client, item, "utreds", "För sent")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Granskningen är avslutad och kan inte ändras." in page.content.decode()
    item.refresh_from_db()
    assert (item.verdict, item.note) == ("ok", "")
    response = client.post(close_url(review), follow=True)
    assert "Granskningen är avslutad och kan inte ändras." in response.content.decode()
    assert len(review_rows()) == 5  # started, three marks, one close


def test_a_note_over_500_characters_is_refused_and_nothing_saved(world, review):
    client = world.log_reviewer.client()
    item = review.items.first()
    response = mark(client, item, "utreds", "x" * 501)
    assert response.status_code == 400
    assert "Anteckningen får vara högst 500 tecken (den har 501)." in response.content.decode()
    item.refresh_from_db()
    assert (item.verdict, item.note) == ("", "")
    assert len(review_rows()) == 1
    assert mark(client, item, "utreds", "x" * 500).status_code == 302


def test_a_mark_needs_a_verdict(world, review):
    item = review.items.first()
    response = mark(world.log_reviewer.client(), item, "")
    assert response.status_code == 400
    assert "Välj OK eller Utreds." in response.content.decode()


def test_the_review_page_shows_the_rows_as_drawn(world, review):
    response = world.log_reviewer.client().get(review_url(review))
    assert response.status_code == 200
    body = response.content.decode()
    for item in review.items.all():
        assert item.text in body
    assert PATIENTS[0] in body


def test_another_organisations_reviewer_gets_404(world, review):
    karlstad_reviewer = EmploymentFactory.create(
        user__username="t_karl", organisation=world.karlstad, roles=["staff", "log_reviewer"]
    ).user
    client = Client()
    client.force_login(karlstad_reviewer)
    item = review.items.first()
    assert client.get(review_url(review)).status_code == 404
    assert mark(client, item, "ok").status_code == 404
    assert client.post(close_url(review)).status_code == 404
    assert review.pk not in [r.pk for r in client.get(REVIEWS).context["reviews"]]
    item.refresh_from_db()
    assert item.verdict == ""


def test_everyone_without_the_role_gets_404(world, review):
    item = review.items.first()
    for persona in (world.hc_nurse, world.approver, world.doctor, world.nurse):
        client = persona.client()
        assert client.get(REVIEWS).status_code == 404
        assert client.post(REVIEWS, {**MARCH, "kind": "off_hours"}).status_code == 404
        assert client.get(review_url(review)).status_code == 404
        assert mark(client, item, "ok").status_code == 404
        assert client.post(close_url(review)).status_code == 404
    assert LogReview.objects.count() == 1
    assert len(review_rows()) == 1


def test_the_retention_job_removes_a_reviewed_row_and_the_review_still_reads(world):
    """The review names its rows by id and holds no key to them: the retention job's DELETE,
    the only one the log allows, is not held up by a review, which keeps what was judged."""
    six_years_ago = timezone.now() - timedelta(days=365 * 6 + 2)
    old = read(world.hc_nurse, six_years_ago)
    day = timezone.localdate(six_years_ago)
    review = log_review_start(
        organisation=world.gripen,
        user=world.log_reviewer.user,
        sample=Sample(kind=LogReview.Kind.RANDOM, start=day, end=day, size=5),
    )
    assert review is not None
    access_log_seal()
    assert access_log_retention(years=5) == {"removed": 1}
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    item = review.items.get()
    assert item.entry_id == old.pk
    assert item.text.startswith(world.hc_nurse.user.display_name())
    assert item.patient_id == PATIENTS[0]


def test_swedish_holidays_and_eves_are_outside_office_hours(world):
    """Good Friday 2027 (26 March) and Midsummer Eve (25 June) at ten, as on a working day."""
    bo = world.hc_nurse
    good_friday = read(bo, datetime(2027, 3, 26, 10, 0, tzinfo=STOCKHOLM)).pk
    midsummer_eve = read(bo, datetime(2027, 6, 25, 10, 0, tzinfo=STOCKHOLM)).pk
    read(bo, datetime(2027, 3, 25, 10, 0, tzinfo=STOCKHOLM))  # Maundy Thursday: a working day
    read(bo, datetime(2027, 6, 24, 10, 0, tzinfo=STOCKHOLM))  # the day before Midsummer Eve
    response = world.log_reviewer.client().post(
        REVIEWS, {"kind": "off_hours", "start": "2027-03-01", "end": "2027-06-30"}
    )
    assert response.status_code == 302
    assert drawn(LogReview.objects.get()) == {good_friday, midsummer_eve}


def test_the_yearly_retention_takes_closed_reviews_of_periods_past_the_logs_years(world):
    def review(end: date, closed: bool) -> LogReview:
        return LogReview.objects.create(
            organisation=world.gripen,
            started_by=world.log_reviewer.user,
            kind=LogReview.Kind.PERSON,
            period_start=end - timedelta(days=30),
            period_end=end,
            person_name="Bo",
            closed_at=timezone.now() if closed else None,
        )

    today = timezone.localdate()
    old_closed = review(today - timedelta(days=6 * 366), closed=True)
    LogReviewItem.objects.create(
        review=old_closed, entry_id=1, at=timezone.now(), text="Bo läste", patient_id=PATIENTS[0]
    )
    old_open = review(today - timedelta(days=6 * 366), closed=False)
    recent = review(today - timedelta(days=4 * 366), closed=True)
    assert job_run("audit_retention").last_ok
    assert set(LogReview.objects.values_list("pk", flat=True)) == {old_open.pk, recent.pk}
    assert not LogReviewItem.objects.filter(review_id=old_closed.pk).exists()
    assert "reviews_removed=1" in JobStatus.objects.get(name="audit_retention").last_summary
