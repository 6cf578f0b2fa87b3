"""Every read of threads and messages: permission-checked, and logged where patient data shows."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery
from django.db.models import BooleanField, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Employment, Notification, Organisation, User
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import AccessGrant, AddressListEntry, Mailbox
from mailboxes.selectors import Refused, get_mailbox_for_user, grant_employment
from messenger.models import (
    Deadline,
    Delivery,
    JournalLink,
    Message,
    Notice,
    NoticeRead,
    Question,
    Thread,
    ThreadEvent,
    TourDismissal,
)
from messenger.notices import active_news
from messenger.patients import mask_patient_id

PAGE_SIZE = 25


def _unread_in_inbox() -> Subquery:
    """The count of a mailbox's unread inbox threads, for a mailbox row (OuterRef "pk").

    A correlated count rather than a join with an aggregate: PostgreSQL answers it from the
    partial index delivery_unread_idx alone (an index-only scan over the unread rows only), where
    the join read every delivery the mailbox ever held. COUNT as a plain function, not an
    aggregate, so no GROUP BY: a mailbox with nothing unread gets 0, not NULL.
    """
    return Subquery(
        Delivery.objects.filter(
            mailbox=OuterRef("pk"), folder=Delivery.Folder.INBOX, read_at__isnull=True
        )
        .order_by()
        .annotate(count=Func(F("mailbox_id"), function="COUNT"))
        .values("count"),
        output_field=IntegerField(),
    )


@dataclass(frozen=True, slots=True)
class NavMailbox:
    """A mailbox as the navigation and the start page list it, with its unread count."""

    pk: int
    name: str
    kind: str
    organisation_name: str
    unread: int

    def get_kind_display(self) -> str:
        return str(Mailbox.Kind(self.kind).label)


@dataclass(frozen=True)
class Navigation:
    """What the navigation shows on every page and in its poll: the user's mailboxes with their
    unread counts, and the header's count of unread notices."""

    mailboxes: list[NavMailbox]
    unread_notices: int


def navigation_for(user: User) -> Navigation:
    """The navigation in one query: the notices' count rides along on every mailbox row (an
    uncorrelated subquery, so PostgreSQL counts it once). Only a user without mailboxes pays a
    second query for it. Plain values, not Mailbox instances: it is on every page."""
    notices = (
        Notification.objects.unread()
        .filter(user=user)
        .order_by()
        .annotate(count=Func(F("pk"), function="COUNT"))
        .values("count")
    )
    rows = list(
        Mailbox.objects.granted_to(user)
        .annotate(
            unread=_unread_in_inbox(),
            unread_notices=Subquery(notices, output_field=IntegerField()),
        )
        .order_by("kind", "name")
        .values_list("pk", "name", "kind", "organisation__name", "unread", "unread_notices")
    )
    mailboxes = [NavMailbox(*row[:5]) for row in rows]
    if rows:
        unread_notices: int = rows[0][5]
    else:
        unread_notices = Notification.objects.unread().filter(user=user).count()
    return Navigation(mailboxes=mailboxes, unread_notices=unread_notices)


def get_delivery_for_user(
    user: User,
    *,
    mailbox_id: int,
    thread_id: int,
    level: int = AccessGrant.Level.READ,
    log_as: str | None = None,
    employments: Iterable[Employment] = (),
) -> Delivery:
    """The one door to a thread: as held by a mailbox the user has a current grant on.

    Anyone else gets 404, whatever the ids: Refused, which the middleware writes to the access log
    as a denied attempt. With `log_as`, the access goes into the access log, in the name of the
    grant's employment (see grant_employment; `employments` are the user's active ones, already
    loaded). The delivery comes annotated with `grant_level` and `grant_employment_id`.
    """
    # The grant first, then the delivery: two plain queries, where one query of the delivery
    # annotated with the grant (correlated subqueries over an 11-table join) took PostgreSQL
    # longer to plan than the two take to run, and Django longer to build.
    try:
        mailbox = get_mailbox_for_user(user, mailbox_id, level=level)
    except Refused as refused:
        refused.thread_id = thread_id  # the access log names the thread asked for too
        raise
    delivery = (
        Delivery.objects.select_related(
            "thread__category",
            "thread__sender_mailbox",
            "thread__recipient_mailbox",
            "thread__first_opened_by",
        )
        .filter(mailbox_id=mailbox_id, thread_id=thread_id)
        .first()
    )
    if delivery is None:
        raise Refused(mailbox_id=mailbox_id, thread_id=thread_id)
    delivery.mailbox = mailbox
    delivery.grant_level = mailbox.grant_level  # type: ignore[attr-defined]
    delivery.grant_employment_id = mailbox.grant_employment_id  # type: ignore[attr-defined]
    if log_as is not None:
        log_thread_access(user, grant_employment(delivery, employments), delivery, action=log_as)
    return delivery


def log_thread_access(
    user: User, employment: Employment | None, delivery: Delivery, *, action: str
) -> None:
    access_log(
        action=action,
        user=user,
        organisation_name=employment.organisation.name if employment else "",
        mailbox=delivery.mailbox,
        thread_id=delivery.thread_id,
        patient_id=delivery.thread.patient_id,
    )


@dataclass
class ThreadContent:
    messages: list[Message]
    links: list[JournalLink]
    events: list[ThreadEvent]
    holders: list[Delivery]
    questions: list[Question]


def thread_content(thread: Thread) -> ThreadContent:
    """Messages, journal links with their ledgers, history, and the mailboxes holding the thread."""
    return ThreadContent(
        messages=list(thread.messages.select_related("sender_mailbox")),
        links=list(thread.journal_links.prefetch_related("recipients")),
        events=list(thread.events.all()),
        holders=list(
            Delivery.objects.filter(thread=thread)
            .select_related("mailbox")
            .order_by("mailbox__name")
        ),
        questions=list(thread.questions.all()),
    )


FOLDER_SLUGS: dict[str, str] = {
    "inkorg": Delivery.Folder.INBOX,
    "skickat": Delivery.Folder.SENT,
    "arkiv": Delivery.Folder.ARCHIVE,
    "papperskorg": Delivery.Folder.TRASH,
}
SLUG_OF_FOLDER: dict[str, str] = {folder: slug for slug, folder in FOLDER_SLUGS.items()}


@dataclass
class Page:
    deliveries: list["ThreadRow"]
    next_cursor: str | None


def encode_cursor(delivery: "Delivery | ThreadRow") -> str:
    return cursor_at(delivery.last_message_at, delivery.pk)


def cursor_at(moment: datetime, pk: int) -> str:
    """A keyset position, newest first: the row's time and its pk, for "Visa fler"."""
    return f"{moment.isoformat()}_{pk}"


_CURSOR = re.compile(r"(?P<stamp>.+)_(?P<pk>[0-9]{1,18})")  # 18 digits fit a bigint
CURSOR_YEARS = range(2000, 3000)  # a cursor names a row's time; other years are tampering


def decode_cursor(raw: str) -> tuple[datetime, int] | None:
    """The position a cursor names, in UTC; None (the first page) for anything malformed."""
    match = _CURSOR.fullmatch(raw)
    if match is None:
        return None
    try:
        moment = parse_datetime(match["stamp"])
    except ValueError:  # well-formed but impossible, such as month 13
        return None
    if moment is None or timezone.is_naive(moment) or moment.year not in CURSOR_YEARS:
        return None
    # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
    return moment.astimezone(UTC), int(match["pk"])


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """One line of a thread list (a folder's page, search results): only what the list shows.

    Read as plain values, not as a delivery with its thread, category and two mailboxes: at 25
    to 50 lines a page, building those model instances cost more than the query itself.
    """

    pk: int  # the delivery's
    thread_id: int
    folder: str
    read_at: datetime | None
    last_message_at: datetime
    subject: str
    category: str
    patient_id: str
    sender_mailbox_id: int
    sender_name: str
    recipient_name: str
    reply_due_at: datetime | None
    answered_at: datetime | None
    followed_up_at: datetime | None

    def deadline(self) -> Deadline | None:
        """As Thread.deadline: None when nothing was asked that needs an answer."""
        return Deadline.of_thread(self)

    def masked_patient(self) -> str:
        return mask_patient_id(self.patient_id)

    def folder_label(self) -> str:
        return str(Delivery.Folder(self.folder).label)


_ROW_FIELDS = (
    "pk",
    "thread_id",
    "folder",
    "read_at",
    "last_message_at",
    "thread__subject",
    "thread__category__name",
    "thread__patient_id",
    "thread__sender_mailbox_id",
    "thread__sender_mailbox__name",
    "thread__recipient_mailbox__name",
    "thread__reply_due_at",
    "thread__answered_at",
    "thread__followed_up_at",
)


def _listing(queryset: QuerySet[Delivery], limit: int) -> list[ThreadRow]:
    """The newest `limit` deliveries of the queryset as list lines."""
    rows = queryset.order_by("-last_message_at", "-pk").values_list(*_ROW_FIELDS)[:limit]
    return [ThreadRow(*row) for row in rows]


def folder_page(mailbox: Mailbox, folder: str, cursor: str = "") -> Page:
    """One page of a folder, newest first, by keyset (the last row's time and id), not OFFSET."""
    queryset = Delivery.objects.filter(mailbox=mailbox, folder=folder)
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        moment, pk = position
        queryset = queryset.filter(
            Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)
        )
    rows = _listing(queryset, PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(deliveries=rows, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


STATE_UNANSWERED = "unanswered"
STATE_OVERDUE = "overdue"
STATE_UNREAD = "unread"
MAX_SEARCH_WORDS = 10
SEARCH_LIMIT = PAGE_SIZE * 2
# How far a text search walks a mailbox newest first before it asks the GIN index instead.
SEARCH_WINDOW = 2_000


def _prefix_query(text: str) -> SearchQuery | None:
    """Every word as a prefix, both stemmed the Swedish way and as typed: "läkemedel" also finds
    the compound "läkemedelslistan", and a half-typed word that the stemmer would cut wrongly
    ("omepra") still finds the whole one. Only word characters reach the query syntax, so
    nothing typed can be an operator."""
    query = None
    for word in re.findall(r"\w+", text)[:MAX_SEARCH_WORDS]:
        either = SearchQuery(f"{word}:*", config="swedish", search_type="raw") | SearchQuery(
            f"{word}:*", config="simple", search_type="raw"
        )
        query = either if query is None else query & either
    return query


def _newest_matches(matches: QuerySet[Delivery], mailbox: Mailbox) -> QuerySet[Delivery]:
    """The newest SEARCH_LIMIT of a text search's matches, found the cheap way for the word.

    PostgreSQL cannot tell a rare prefix from a common one, so whichever plan it picks for
    "newest matches first" is slow for one of them: walking the mailbox newest first stops
    early for a common word but reads the whole mailbox for a rare one; the GIN index finds a
    rare word at once but hands over every thread a common one is in. So, in one query: the
    matches among the mailbox's newest SEARCH_WINDOW deliveries (a bounded walk); if those
    are a full page, they are the newest matches of all; if not, every match through the GIN
    index, which then are few, or old.
    """
    # The time of the mailbox's SEARCH_WINDOW-th newest delivery (none in a smaller mailbox:
    # then the window is empty and the index answers), read off delivery_recent_idx alone.
    edge = (
        Delivery.objects.filter(mailbox=mailbox)
        .order_by("-last_message_at", "-pk")
        .values("last_message_at")[SEARCH_WINDOW - 1 : SEARCH_WINDOW]
    )
    window = (
        matches.filter(last_message_at__gte=Subquery(edge))
        .order_by("-last_message_at", "-pk")
        .values("pk")[:SEARCH_LIMIT]
    )
    window_sql, window_params = window.query.sql_with_params()
    every_sql, every_params = matches.order_by().values("pk").query.sql_with_params()
    # Only SQL Django compiled goes into the text; all that was typed stays in the params.
    ids = RawSQL(  # noqa: S611
        f"WITH w AS MATERIALIZED ({window_sql}) "  # noqa: S608
        "SELECT * FROM w WHERE (SELECT count(*) FROM w) = %s "
        f"UNION ALL SELECT * FROM ({every_sql}) e WHERE (SELECT count(*) FROM w) < %s",
        (*window_params, SEARCH_LIMIT, *every_params, SEARCH_LIMIT),
    )
    return matches.filter(pk__in=ids)


class _EqualsAny(Func):
    """`value = ANY(array)`, a condition (Django would wrap a right-hand side in parentheses)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def search_deliveries(
    mailbox: Mailbox,
    *,
    user: User,
    employment: Employment | None,
    patient_id: str = "",
    text: str = "",
    category_id: int | None = None,
    state: str = "",
) -> list[ThreadRow]:
    """Search one mailbox (the caller has checked the grant). Logged: it can reveal patients."""
    queryset: QuerySet[Delivery] = Delivery.objects.filter(mailbox=mailbox)
    if patient_id:
        # The patient's threads by thread_patient_idx, then this mailbox's delivery of each by
        # one_delivery_per_mailbox. Written as "= ANY(ARRAY(…))" so that PostgreSQL cannot
        # walk the whole mailbox newest first asking each thread whose it is, as it did for a
        # plain join: tens of milliseconds at 60,000 threads, and the most for a patient with
        # no thread in the mailbox at all.
        theirs = ArraySubquery(Thread.objects.filter(patient_id=patient_id).values("pk"))
        queryset = queryset.filter(_EqualsAny(F("thread_id"), theirs))
    if category_id:
        queryset = queryset.filter(thread__category_id=category_id)
    if state == STATE_UNANSWERED:
        queryset = queryset.filter(
            thread__reply_due_at__isnull=False, thread__answered_at__isnull=True
        )
    elif state == STATE_OVERDUE:
        queryset = queryset.filter(
            thread__answered_at__isnull=True, thread__reply_due_at__lt=timezone.now()
        )
    elif state == STATE_UNREAD:
        queryset = queryset.filter(read_at__isnull=True)
    if query := _prefix_query(text):
        queryset = _newest_matches(queryset.filter(thread__search_vector=query), mailbox)
    # Newest first, as the folders list, not by rank: ranking must score every match before it
    # can keep the first 50, seconds for a word most of a big mailbox's threads contain.
    results = _listing(queryset, SEARCH_LIMIT)
    access_log(
        action=AccessLog.Action.SEARCH,
        user=user,
        organisation_name=employment.organisation.name if employment else "",
        mailbox=mailbox,
        patient_id=patient_id,
        detail=f"{len(results)} träffar",
    )
    return results


def preset_recipients(employment: Employment | None, sender: Mailbox) -> list[Mailbox]:
    """R3: the preset list of the municipality the sender writes for (the employment of the
    sending mailbox's grant), in its order, open mailboxes only."""
    if employment is None:
        return []
    entries = (
        AddressListEntry.objects.filter(
            address_list__organisation=employment.organisation,
            mailbox__closed_at__isnull=True,
        )
        .exclude(mailbox=sender)
        .select_related("mailbox__organisation")
        .order_by("position", "mailbox__name")
    )
    return [entry.mailbox for entry in entries]


def search_recipients(
    query: str, sender: Mailbox, limit: int = 15, *, keep: int | None = None
) -> list[Mailbox]:
    """The global address list: every open functional mailbox whose name matches.

    `keep`, a mailbox chosen from an earlier search, stays first on the list, so typing a new
    search does not silently drop the choice.
    """
    everyone = (
        Mailbox.objects.active()
        .functional()
        .exclude(pk=sender.pk)
        .select_related("organisation")
        .order_by("name")
    )
    kept = list(everyone.filter(pk=keep)) if keep is not None else []
    # No name holds a control character, and PostgreSQL refuses NUL outright.
    words = [word for word in query.split() if word.isprintable()]
    if not words:
        return kept
    queryset = everyone.exclude(pk=keep) if keep is not None else everyone
    for word in words[:5]:
        queryset = queryset.filter(name__icontains=word)
    return [*kept, *queryset[:limit]]


def absent_colleagues(organisation: Organisation, actor: User) -> list[Mailbox]:
    """Personal mailboxes of forwarding candidates whose owners are away (with their note)."""
    return list(
        Mailbox.objects.filter(
            owner__in=forward_candidates(organisation, actor),
            absence_until__gte=timezone.localdate(),
        ).select_related("owner")
    )


def forward_candidates(organisation: Organisation, actor: User) -> QuerySet[User]:
    """People of the mailbox's own organisation with an open personal mailbox (R12).

    The mailbox's organisation, not the forwarder's working one: a thread of Karlstad's mailbox
    goes to a Karlstad colleague, whatever else the forwarder is employed as.
    """
    return (
        User.objects.filter(
            is_active=True,
            employments__organisation=organisation,
            employments__ended_at__isnull=True,
            # Both: on its own, closed_at IS NULL is also true of someone with no mailbox at all.
            personal_mailbox__isnull=False,
            personal_mailbox__closed_at__isnull=True,
        )
        .exclude(pk=actor.pk)
        .order_by("first_name", "last_name")
        .distinct()
    )


def threads_on_legal_hold() -> QuerySet[Thread]:
    """The system administrators' list of held threads: number, mailboxes, since, by whom, why.

    Neither the patient nor the subject is even loaded: the page shows no patient data, so its
    reads are not in the access log.
    """
    return (
        Thread.objects.on_legal_hold()
        .select_related("sender_mailbox", "recipient_mailbox", "legal_hold_by")
        .only(
            "legal_hold_at",
            "legal_hold_reason",
            "sender_mailbox__name",
            "recipient_mailbox__name",
            "legal_hold_by__username",
            "legal_hold_by__first_name",
            "legal_hold_by__last_name",
        )
        .order_by("-legal_hold_at", "-pk")
    )


# Notices about the system (R20).

NOTICES_RECENT_DAYS = 90


def notices_recent(now: datetime) -> QuerySet[Notice]:
    """The notices of the last 90 days for the feed: started, or still running, within them."""
    cutoff = now - timedelta(days=NOTICES_RECENT_DAYS)
    return Notice.objects.filter(Q(starts_at__gte=cutoff) | Q(ends_at__gte=cutoff))


def notices_current_and_recent(now: datetime) -> QuerySet[Notice]:
    """For the notices page: the feed's, and news without an end however old."""
    cutoff = now - timedelta(days=NOTICES_RECENT_DAYS)
    return Notice.objects.filter(
        Q(starts_at__gte=cutoff) | Q(ends_at__gte=cutoff) | Q(ends_at__isnull=True)
    )


def news_unread_for(user: User, now: datetime) -> list[Notice]:
    """The active news the user has not marked read, for the start page. The news come from the
    process's cache (messenger.notices): a query only when there are any, for the user's reads."""
    news = active_news(now)
    if not news:
        return []
    read = set(
        NoticeRead.objects.filter(user=user, notice__in=[n.pk for n in news]).values_list(
            "notice_id", flat=True
        )
    )
    return [notice for notice in news if notice.pk not in read]


# Help and e-learning (R23).


def tour_pending(user: User) -> bool:
    """Whether the start page still shows the first-sign-in tour: until dismissed."""
    return not TourDismissal.objects.filter(user=user).exists()


def self_test_staff(organisation: Organisation) -> QuerySet[Employment]:
    """The organisation's active staff, each with their self-test completion or None, for its
    superusers (R22, R23)."""
    return (
        Employment.objects.active()
        .filter(organisation=organisation)
        .select_related("user", "user__self_test_completion")
        .order_by("user__last_name", "user__first_name")
    )


RESERVE_PRINT_LIMIT = 500


@dataclass(frozen=True)
class ReserveRow:
    """One open thread on the reserve printout (R21): what a unit needs to carry on by phone."""

    thread_id: int
    subject: str
    patient_id: str
    category: str
    counterpart: Mailbox
    reply_due_at: datetime | None
    is_overdue: bool

    @classmethod
    def of(cls, thread: Thread, counterpart: Mailbox, now: datetime) -> "ReserveRow":
        due = thread.reply_due_at
        return cls(
            thread_id=thread.pk,
            subject=thread.subject,
            patient_id=thread.patient_id,
            category=thread.category.name,
            counterpart=counterpart,
            reply_due_at=due,
            is_overdue=due is not None and due < now,
        )


@dataclass(frozen=True)
class ReservePrint:
    received: list[ReserveRow]
    waiting: list[ReserveRow]
    capped: bool

    @property
    def count(self) -> int:
        return len(self.received) + len(self.waiting)

    def counterparts(self) -> list[Mailbox]:
        """The other mailboxes on the printout, by name, each once: whom to phone instead."""
        seen = {row.counterpart.pk: row.counterpart for row in self.received + self.waiting}
        return sorted(seen.values(), key=lambda box: box.name)


def reserve_print(mailbox: Mailbox, limit: int = RESERVE_PRINT_LIMIT) -> ReservePrint:
    """The mailbox's open threads for the outage printout (R21), at most `limit` in all.

    Received: threads in its inbox that another mailbox sent and nobody has answered or
    followed up by phone, the earliest deadline first (those without one last). Waiting: its
    own questions still waiting for an answer (`Thread.objects.waiting_from`). The caller
    checks the grant and writes the access-log rows; this only reads.
    """
    earliest_due = F("thread__reply_due_at").asc(nulls_last=True)
    received_qs = (
        Delivery.objects.filter(
            mailbox=mailbox,
            folder=Delivery.Folder.INBOX,
            thread__answered_at__isnull=True,
            thread__followed_up_at__isnull=True,
        )
        .exclude(thread__sender_mailbox=mailbox)
        .select_related("thread__category", "thread__sender_mailbox__routine")
        .order_by(earliest_due, "thread_id")
    )
    now = timezone.now()
    received = [
        ReserveRow.of(d.thread, d.thread.sender_mailbox, now) for d in received_qs[: limit + 1]
    ]
    waiting = []
    if len(received) <= limit:  # else the printout is full and capped already
        room = limit - len(received)
        waiting_qs = Thread.objects.waiting_from(mailbox).select_related(
            "category", "recipient_mailbox__routine"
        )
        waiting = [ReserveRow.of(t, t.recipient_mailbox, now) for t in waiting_qs[: room + 1]]
    capped = len(received) + len(waiting) > limit
    received = received[:limit]
    waiting = waiting[: max(limit - len(received), 0)]
    return ReservePrint(received=received, waiting=waiting, capped=capped)
