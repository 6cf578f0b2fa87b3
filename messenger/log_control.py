"""Log control (R18): what a log reviewer reads of the access log, and a patient's log extract.

A log reviewer sees their own organisation's rows: reads and actions in its mailboxes
(`mailbox_organisation_name`) and everything its own staff did (`organisation_name`). The rows
carry names rather than keys, as snapshots that outlive people and mailboxes, so the
organisation is matched by name. Every search and extract is itself logged, by the views.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation
from audit.models import AccessLog
from mailboxes.models import local_midnight
from messenger.selectors import cursor_at, decode_cursor

LOG_PAGE_SIZE = 50

A = AccessLog.Action
# What a row says was done to a thread, in the words of the log-control page.
_THREAD_DEEDS = {
    A.VIEW_THREAD: gettext_lazy("läste ärende %(thread)s"),
    A.PRINT: gettext_lazy("skrev ut ärende %(thread)s"),
    A.SEND: gettext_lazy("skickade ärende %(thread)s"),
    A.REPLY: gettext_lazy("svarade i ärende %(thread)s"),
    A.FORWARD: gettext_lazy("vidarebefordrade ärende %(thread)s"),
    A.LINK: gettext_lazy("bifogade en journallänk i ärende %(thread)s"),
    A.FOLLOW_UP: gettext_lazy("följde upp ärende %(thread)s per telefon"),
    A.LEGAL_HOLD: gettext_lazy("satte ärende %(thread)s i bevarande"),
    A.LEGAL_HOLD_RELEASE: gettext_lazy("hävde bevarandet av ärende %(thread)s"),
}


def describe(row: AccessLog) -> str:
    """A row in plain Swedish: "Anna Andersson, Karlstads kommun, läste ärende 1234 i Vc Gripen
    (FBL)", then what the row adds in its detail."""
    who = ", ".join(part for part in (row.user_name or _("okänd"), row.organisation_name) if part)
    deed = _THREAD_DEEDS.get(row.action)  # type: ignore[call-overload]
    if deed is not None and row.thread_id_snapshot:
        what = str(deed) % {"thread": row.thread_id_snapshot}
    else:
        what = str(AccessLog.Action(row.action).label).lower()
    text = f"{who}, {what}"
    if row.mailbox_name:
        text = _("%(text)s i %(mailbox)s") % {"text": text, "mailbox": row.mailbox_name}
    if row.detail:
        text = f"{text}: {row.detail}"
    return text


@dataclass(frozen=True)
class LogQuery:
    """A log reviewer's filter; every part optional."""

    patient_id: str = ""
    person: str = ""
    mailbox: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None  # the last day included

    def filtered(self, rows: QuerySet[AccessLog]) -> QuerySet[AccessLog]:
        if self.patient_id:
            rows = rows.filter(patient_id=self.patient_id)
        if self.person:
            rows = rows.filter(user_name__icontains=self.person)
        if self.mailbox:
            rows = rows.filter(mailbox_name=self.mailbox)
        if self.action:
            rows = rows.filter(action=self.action)
        if self.start:
            rows = rows.filter(at__gte=local_midnight(self.start))
        if self.end:
            rows = rows.filter(at__lt=local_midnight(self.end + timedelta(days=1)))
        return rows

    def summary(self) -> str:
        """The filter in the log's own words, for the row that records the search (the patient
        goes in the row's own column, never in this text)."""
        parts = [
            "patient" if self.patient_id else "",
            f"person '{self.person}'" if self.person else "",
            f"brevlåda '{self.mailbox}'" if self.mailbox else "",
            f"händelse {self.action}" if self.action else "",
            f"från {self.start}" if self.start else "",
            f"till {self.end}" if self.end else "",
        ]
        return ", ".join(part for part in parts if part) or "utan filter"


@dataclass(frozen=True)
class LogPage:
    rows: list[AccessLog]
    next_cursor: str | None


def _newest(rows: QuerySet[AccessLog], position: tuple[datetime, int] | None, limit: int):
    if position is not None:
        moment, pk = position
        rows = rows.filter(Q(at__lt=moment) | Q(at=moment, pk__lt=pk))
    return rows.order_by("-at", "-pk")[:limit]


def organisation_rows(organisation: Organisation) -> QuerySet[AccessLog]:
    """Every row the organisation's log control sees, both halves in one condition.

    For the review's samples (messenger.log_review), which read a whole bounded period anyway:
    PostgreSQL takes the two indexes' rows together (a BitmapOr) and nothing pages by it.
    """
    return AccessLog.objects.filter(
        Q(mailbox_organisation_name=organisation.name) | Q(organisation_name=organisation.name)
    )


def log_page(organisation: Organisation, query: LogQuery, cursor: str = "") -> LogPage:
    """One page of the organisation's rows, newest first, by keyset (never OFFSET).

    Its two halves, the rows in its mailboxes and the rows of its staff, are each read newest
    first from an index of their own and merged: one condition with OR would have PostgreSQL
    gather and sort every row of the organisation before it could take the newest fifty.
    """
    position = decode_cursor(cursor) if cursor else None
    limit = LOG_PAGE_SIZE + 1
    in_mailboxes = query.filtered(
        AccessLog.objects.filter(mailbox_organisation_name=organisation.name)
    )
    by_staff = query.filtered(AccessLog.objects.filter(organisation_name=organisation.name))
    merged = (
        _newest(in_mailboxes, position, limit)
        .union(_newest(by_staff, position, limit))
        .order_by("-at", "-pk")[:limit]
    )
    rows = list(merged)
    more = len(rows) > LOG_PAGE_SIZE
    rows = rows[:LOG_PAGE_SIZE]
    last = rows[-1] if more else None
    return LogPage(rows=rows, next_cursor=cursor_at(last.at, last.pk) if last else None)


def patient_extract(organisation: Organisation, query: LogQuery) -> Iterator[AccessLog]:
    """A patient's log extract: every row in the organisation's mailboxes about the patient in
    the period, oldest first. Only the organisation whose mailboxes hold the rows gets them."""
    rows = AccessLog.objects.filter(
        mailbox_organisation_name=organisation.name, patient_id=query.patient_id
    )
    return query.filtered(rows).order_by("at", "pk").iterator(chunk_size=2000)
