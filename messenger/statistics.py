"""Statistics for invoicing (R19): counts and times per month, counterpart organisation and
category, never a patient, a subject or a text.

Every figure comes from a handful of aggregate queries grouped in the database (month in
Stockholm time, organisation, counterpart, category), so the page costs the same few queries
however many messages there are. Counts from 1 to 4 are shown as "<5", and a share or median
from fewer than 5 answers as "–", so that nobody can single out a patient from a small number.

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

from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import Organisation
from messenger.models import Category, Message, Question, Thread, ThreadEvent

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
    def overdue_text(self) -> str:
        return shown(self.overdue)

    @property
    def forwarded_text(self) -> str:
        return shown(self.forwarded)

    def share(self) -> str:
        if self.questions < SMALLEST_SHOWN:
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


def _other_party_org(message_sender: str, thread: str) -> Case:
    """The organisation of the thread's other party than `message_sender`'s mailbox."""
    return Case(
        When(
            **{f"{message_sender}_id": F(f"{thread}sender_mailbox_id")},
            then=F(f"{thread}recipient_mailbox__organisation_id"),
        ),
        default=F(f"{thread}sender_mailbox__organisation_id"),
    )


def report(organisation: Organisation | None, first: dt.date, last: dt.date) -> Report:
    """The figures from the start of month `first` to the end of month `last` (Stockholm time),
    for `organisation`, or for every organisation of the region if None."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=STOCKHOLM)
    end = dt.datetime.combine(add_months(last, 1), dt.time(), tzinfo=STOCKHOLM)
    cells: dict[tuple[dt.date, int, int, int], Row] = {}
    names = dict(Organisation.objects.values_list("id", "name"))
    categories = dict(Category.objects.values_list("id", "name"))

    def cell(month: dt.datetime, org: int, other: int, category: int) -> Row:
        key = (month.date() if isinstance(month, dt.datetime) else month, org, other, category)
        if key not in cells:
            cells[key] = Row(
                key[0], names.get(org, ""), names.get(other, ""), categories.get(category, "")
            )
        return cells[key]

    # One organisation's figures start from its threads active in the period (through the
    # mailboxes' thread indexes), then their messages and questions by thread: no query reads
    # the whole region's messages of the year. The region's figures read them all, once each.
    threads = None
    if organisation is not None:
        threads = Thread.objects.filter(
            Q(sender_mailbox__organisation=organisation)
            | Q(recipient_mailbox__organisation=organisation),
            last_message_at__gte=start,
        ).values("pk")

    month = TruncMonth("sent_at", tzinfo=STOCKHOLM)
    messages = Message.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if threads is not None:
        messages = messages.filter(thread__in=threads)
    sent = messages.annotate(
        month=month,
        org=F("sender_mailbox__organisation_id"),
        other=_other_party_org("sender_mailbox", "thread__"),
        cat=F("thread__category_id"),
    )
    received = messages.annotate(
        month=month,
        org=_other_party_org("sender_mailbox", "thread__"),
        other=F("sender_mailbox__organisation_id"),
        cat=F("thread__category_id"),
    )
    if organisation is not None:
        sent = sent.filter(org=organisation.pk)
        received = received.filter(org=organisation.pk)
    for item in _grouped(sent, n=Count("id")):
        cell(item["month"], item["org"], item["other"], item["cat"]).sent = item["n"]
    for item in _grouped(received, n=Count("id")):
        cell(item["month"], item["org"], item["other"], item["cat"]).received = item["n"]

    # The app's clock, not the database's: the same "now" as every other deadline in the app.
    now = Value(timezone.now(), output_field=DateTimeField())
    overdue = Q(due_at__lt=Coalesce("answered_at", "followed_up_at", now))
    answered = Q(answered_at__isnull=False)
    within = Q(answered_at__isnull=False, answered_at__lte=F("due_at"))
    questions = Question.objects.filter(asked_at__gte=start, asked_at__lt=end)
    if threads is not None:
        questions = questions.filter(thread__in=threads)
    questions = questions.annotate(
        month=TruncMonth("asked_at", tzinfo=STOCKHOLM),
        org=_other_party_org("asked_from", "thread__"),
        other=F("asked_from__organisation_id"),
        cat=F("thread__category_id"),
    )
    if organisation is not None:
        questions = questions.filter(org=organisation.pk)
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
        row = cell(item["month"], item["org"], item["other"], item["cat"])
        row.questions = item["decided"]
        row.within = item["within"]
        row.answered = item["answered"]
        row.overdue = item["overdue"]
        row.median = item["median"]

    forwards = ThreadEvent.objects.filter(
        kind=ThreadEvent.Kind.FORWARDED, at__gte=start, at__lt=end
    ).annotate(
        month=TruncMonth("at", tzinfo=STOCKHOLM),
        org=F("thread__recipient_mailbox__organisation_id"),
        other=F("thread__sender_mailbox__organisation_id"),
        cat=F("thread__category_id"),
    )
    if organisation is not None:
        forwards = forwards.filter(org=organisation.pk)
    for item in _grouped(forwards, n=Count("thread_id", distinct=True)):
        cell(item["month"], item["org"], item["other"], item["cat"]).forwarded = item["n"]

    rows = sorted(
        cells.values(), key=lambda r: (r.month, r.organisation, r.counterpart, r.category)
    )
    totals = {
        add_months(first, i): MonthTotal(add_months(first, i))
        for i in range(months_between(first, last))
    }
    for row in rows:
        if row.month in totals:
            totals[row.month].sent += row.sent
            totals[row.month].received += row.received
    return Report(first, last, organisation, rows, list(totals.values()))


def _grouped(queryset: QuerySet[Any], **aggregates: Any) -> Iterable[dict[str, Any]]:
    """The aggregates per month, organisation, counterpart and category, in one query."""
    return (
        queryset.order_by()
        .values("month", "org", "other", "cat")
        .annotate(**aggregates)
        .values("month", "org", "other", "cat", *aggregates)
    )
