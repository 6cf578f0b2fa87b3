"""Statistics for invoicing (R19): counts and times per month, counterpart organisation and
category, never a patient, a subject or a text.

The `statistics` job (`statistics_refresh`, every hour) counts each month for the whole region
with a handful of aggregate queries grouped in the database (month in Stockholm time,
organisation, counterpart, category) and keeps the result in MonthlyFigures. The page reads those
rows through their organisation-and-month index, so it costs two queries however many messages
there are, and no request counts a year of messages. This month and the two before are counted
again every run; older months are kept as counted (a month last counted before its two months
had passed is counted once more), also after the purge (R16) has removed their messages.
Counts from 1 to 4 are shown as "<5", and a share or median from fewer than 5 answers
as "–", so that nobody can single out a patient from a small number.

Definitions (also on the page and in the README):

- sent: messages sent from one of the organisation's mailboxes in the month;
- received: messages sent in the month to the organisation by the thread's other party (a
  message from the thread's sender goes to the thread's recipient, any other message goes to
  the thread's sender);
- questions: reply clocks (R9) started in the month for the organisation to answer; answered
  within the deadline: answered at or before the deadline; overdue: the deadline passed before
  an answer or a follow-up by phone (or passed, and neither has come yet); the share within the
  deadline is counted over the questions answered or overdue; the median answer time is over
  the answered ones;
- forwarded: threads the organisation received that were forwarded in the month.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organisation
from messenger.models import Message, MonthlyFigures, Question, StatisticsMonth, ThreadEvent
from messenger.services import PURGE_AFTER

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SMALLEST_SHOWN = 5  # a count below this (but above 0) is shown as "<5"
MAX_MONTHS = 24


class Median(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(0.5): the median of intervals, computed where the rows are."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> int:
    """How many months from `first` to `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 full months."""
    last = add_months(month_start(today), -1)
    return add_months(last, -11), last


def shown(count: int) -> str:
    """A count as it may be shown: 0, "<5" for 1–4, or the number."""
    if 0 < count < SMALLEST_SHOWN:
        return "<5"
    return str(count)


@dataclass
class Row:
    month: dt.date
    organisation: str
    counterpart: str
    category: str
    sent: int = 0
    received: int = 0
    questions: int = 0  # answered or overdue: the base of the share
    within: int = 0
    answered: int = 0
    overdue: int = 0
    median: dt.timedelta | None = None
    forwarded: int = 0

    @property
    def sent_text(self) -> str:
        return shown(self.sent)

    @property
    def received_text(self) -> str:
        return shown(self.received)

    @property
    def questions_small(self) -> bool:
        """Within or overdue is from 1 to 4. The questions decided are exactly those within
        the deadline plus those overdue, so the other of the two, or the share, would give the
        small one away: then neither is shown as a number."""
        return any(0 < n < SMALLEST_SHOWN for n in (self.within, self.overdue))

    def _question_count(self, count: int) -> str:
        if count >= SMALLEST_SHOWN and self.questions_small:
            return "–"
        return shown(count)

    @property
    def questions_text(self) -> str:
        return self._question_count(self.questions)

    @property
    def within_text(self) -> str:
        return self._question_count(self.within)

    @property
    def overdue_text(self) -> str:
        return self._question_count(self.overdue)

    @property
    def forwarded_text(self) -> str:
        return shown(self.forwarded)

    def share(self) -> str:
        if self.questions < SMALLEST_SHOWN or self.questions_small:
            return "–"
        return f"{round(100 * self.within / self.questions)} %"

    def median_text(self) -> str:
        if self.answered < SMALLEST_SHOWN or self.median is None:
            return "–"
        hours = self.median.total_seconds() / 3600
        return f"{hours:.1f} h".replace(".", ",")


@dataclass
class MonthTotal:
    month: dt.date
    sent: int = 0
    received: int = 0


@dataclass
class Report:
    first: dt.date
    last: dt.date
    organisation: Organisation | None  # None: the whole region
    rows: list[Row] = field(default_factory=list)
    months: list[MonthTotal] = field(default_factory=list)
    computed_at: dt.datetime | None = None  # None: no month of the period is counted yet


def _other_party_org(message_sender: str, thread: str) -> Case:
    """The organisation of the thread's other party than `message_sender`'s mailbox."""
    return Case(
        When(
            **{f"{message_sender}_id": F(f"{thread}sender_mailbox_id")},
            then=F(f"{thread}recipient_mailbox__organisation_id"),
        ),
        default=F(f"{thread}sender_mailbox__organisation_id"),
    )


# A month more than this many months back is counted once and then kept as it is: an answer
# that comes later than that no longer changes it, and the purge (R16) may remove its messages.
OPEN_MONTHS = 2
LOCK = "messenger.statistics"


def report(organisation: Organisation | None, first: dt.date, last: dt.date) -> Report:
    """The figures from month `first` to month `last`, for `organisation` or, if None, for every
    organisation of the region, as `statistics_refresh` last counted them: two queries (the
    figures through their organisation-and-month index, and when they were counted), however
    many messages there are."""
    figures = MonthlyFigures.objects.filter(month__gte=first, month__lte=last)
    if organisation is not None:
        figures = figures.filter(organisation=organisation)
    rows = [
        Row(
            item["month"],
            item["organisation__name"],
            item["counterpart__name"],
            item["category__name"],
            sent=item["sent"],
            received=item["received"],
            questions=item["decided"],
            within=item["within"],
            answered=item["answered"],
            overdue=item["overdue"],
            median=item["median"],
            forwarded=item["forwarded"],
        )
        for item in figures.values(
            "month",
            "organisation__name",
            "counterpart__name",
            "category__name",
            "sent",
            "received",
            "decided",
            "within",
            "answered",
            "overdue",
            "median",
            "forwarded",
        )
    ]
    rows.sort(key=lambda r: (r.month, r.organisation, r.counterpart, r.category))
    totals = {
        add_months(first, i): MonthTotal(add_months(first, i))
        for i in range(months_between(first, last))
    }
    # The chart's totals add up the counts the table shows, never one shown as "<5": a total
    # minus the rows shown would give a hidden one away.
    for row in rows:
        if row.month in totals:
            totals[row.month].sent += row.sent if row.sent >= SMALLEST_SHOWN else 0
            totals[row.month].received += row.received if row.received >= SMALLEST_SHOWN else 0
    counted = StatisticsMonth.objects.filter(month__gte=first, month__lte=last)
    computed_at = counted.aggregate(at=Max("computed_at"))["at"]
    return Report(first, last, organisation, rows, list(totals.values()), computed_at)


def statistics_refresh() -> dict[str, int]:
    """Count into MonthlyFigures every month that can still change (this month and the
    OPEN_MONTHS before it), and every earlier month with messages that was never counted, or
    last counted before it closed, unless the purge may have reached it.

    Each month is replaced whole in its own transaction, under a lock, so two runs at once
    count it one after the other and the page never sees half a month.
    """
    now = timezone.now()
    current = month_start(timezone.localdate(now))
    oldest = _oldest_month() or current
    # A month the purge may have reached is never counted again: it would lose what was purged.
    purge_reached = month_start(timezone.localdate(now - PURGE_AFTER))
    kept = {
        month
        for month, computed_at in StatisticsMonth.objects.values_list("month", "computed_at")
        if computed_at >= _closed(month) or month <= purge_reached
    }
    months = [
        month
        for month in (add_months(oldest, i) for i in range(months_between(oldest, current)))
        if month not in kept
    ]
    rows = 0
    for month in months:
        rows += _count_month(month, now)
    return {"months": len(months), "rows": rows}


def _closed(month: dt.date) -> dt.datetime:
    """When a month stops being counted again: OPEN_MONTHS after its end. A month last counted
    before then (the job was down, say) is counted once more on the next run."""
    return dt.datetime.combine(add_months(month, OPEN_MONTHS + 1), dt.time(), tzinfo=STOCKHOLM)


def _oldest_month() -> dt.date | None:
    firsts = [
        Message.objects.aggregate(first=Min("sent_at"))["first"],
        Question.objects.aggregate(first=Min("asked_at"))["first"],
        ThreadEvent.objects.filter(kind=ThreadEvent.Kind.FORWARDED).aggregate(first=Min("at"))[
            "first"
        ],
    ]
    known = [moment for moment in firsts if moment is not None]
    if not known:
        return None
    return month_start(timezone.localdate(min(known)))


def _count_month(month: dt.date, now: dt.datetime) -> int:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK])
        cells = _count(month, now)
        MonthlyFigures.objects.filter(month=month).delete()
        MonthlyFigures.objects.bulk_create(cells.values())
        StatisticsMonth.objects.update_or_create(month=month, defaults={"computed_at": now})
    return len(cells)


def _count(month: dt.date, now: dt.datetime) -> dict[tuple[int, int, int], MonthlyFigures]:
    """One month's figures for the whole region, grouped in the database (month in Stockholm
    time, organisation, counterpart, category)."""
    start = dt.datetime.combine(month, dt.time(), tzinfo=STOCKHOLM)
    end = dt.datetime.combine(add_months(month, 1), dt.time(), tzinfo=STOCKHOLM)
    cells: dict[tuple[int, int, int], MonthlyFigures] = {}

    def cell(org: int, other: int, category: int) -> MonthlyFigures:
        key = (org, other, category)
        if key not in cells:
            cells[key] = MonthlyFigures(
                month=month, organisation_id=org, counterpart_id=other, category_id=category
            )
        return cells[key]

    messages = Message.objects.filter(sent_at__gte=start, sent_at__lt=end)
    sent = messages.annotate(
        org=F("sender_mailbox__organisation_id"),
        other=_other_party_org("sender_mailbox", "thread__"),
        cat=F("thread__category_id"),
    )
    received = messages.annotate(
        org=_other_party_org("sender_mailbox", "thread__"),
        other=F("sender_mailbox__organisation_id"),
        cat=F("thread__category_id"),
    )
    for item in _grouped(sent, n=Count("id")):
        cell(item["org"], item["other"], item["cat"]).sent = item["n"]
    for item in _grouped(received, n=Count("id")):
        cell(item["org"], item["other"], item["cat"]).received = item["n"]

    # The app's clock, not the database's: the same "now" as every other deadline in the app.
    moment = Value(now, output_field=DateTimeField())
    overdue = Q(due_at__lt=Coalesce("answered_at", "followed_up_at", moment))
    answered = Q(answered_at__isnull=False)
    within = Q(answered_at__isnull=False, answered_at__lte=F("due_at"))
    questions = Question.objects.filter(asked_at__gte=start, asked_at__lt=end).annotate(
        org=_other_party_org("asked_from", "thread__"),
        other=F("asked_from__organisation_id"),
        cat=F("thread__category_id"),
    )
    for item in _grouped(
        questions,
        decided=Count("id", filter=answered | overdue),
        within=Count("id", filter=within),
        answered=Count("id", filter=answered),
        overdue=Count("id", filter=overdue),
        median=Median(
            ExpressionWrapper(F("answered_at") - F("asked_at"), output_field=DurationField()),
            filter=answered,
        ),
    ):
        figures = cell(item["org"], item["other"], item["cat"])
        figures.decided = item["decided"]
        figures.within = item["within"]
        figures.answered = item["answered"]
        figures.overdue = item["overdue"]
        figures.median = item["median"]

    forwards = ThreadEvent.objects.filter(
        kind=ThreadEvent.Kind.FORWARDED, at__gte=start, at__lt=end
    ).annotate(
        org=F("thread__recipient_mailbox__organisation_id"),
        other=F("thread__sender_mailbox__organisation_id"),
        cat=F("thread__category_id"),
    )
    for item in _grouped(forwards, n=Count("thread_id", distinct=True)):
        cell(item["org"], item["other"], item["cat"]).forwarded = item["n"]
    return cells


def _grouped(queryset: QuerySet[Any], **aggregates: Any) -> Iterable[dict[str, Any]]:
    """The aggregates per organisation, counterpart and category, in one query."""
    return (
        queryset.order_by()
        .values("org", "other", "cat")
        .annotate(**aggregates)
        .values("org", "other", "cat", *aggregates)
    )
