"""Notifications and e-mail through the outbox (flow 4).

`notify` writes outbox rows inside the caller's transaction; `outbox_send`, run by the outbox job
every minute, delivers them: an in-app notice, or an e-mail. A notice names the mailbox, the kind
of event, the category and a link, never the patient, the subject or a message's text.
"""

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from mailboxes.models import (
    EmailSetting,
    Mailbox,
    MailboxCheck,
    MissedCheck,
    NotificationKind,
    OutboxItem,
)

logger = logging.getLogger(__name__)

Kind = NotificationKind


def notify(
    *,
    event: str,
    kind: str,
    users: Iterable[User],
    mailbox: Mailbox,
    url: str,
    category_name: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> int:
    """Put the notices of one event into the outbox for `users`: in the app, and by e-mail to
    those who want it (their settings for this mailbox, or the defaults). Returns the rows written.

    `event` names the event uniquely ("message-17", "reminder-4"): a row already written for the
    same event, person and channel is not written again (it still counts in what is returned:
    the rows offered). In the app, a new message is told only
    in a personal mailbox; in a functional one its unread count says it already.
    """
    people = {user.pk: user for user in users if user.is_active}
    if not people:
        return 0
    chosen = {
        (setting.user_id, setting.kind): setting.enabled
        for setting in EmailSetting.objects.filter(
            mailbox=mailbox, kind=kind, user_id__in=list(people)
        )
    }
    rows: list[OutboxItem] = []
    for user in people.values():
        channels = []
        if kind != Kind.NEW_MESSAGE or not mailbox.is_functional:
            channels.append(OutboxItem.Channel.APP)
        wants_email = chosen.get((user.pk, kind), EmailSetting.default(mailbox, kind))
        if wants_email and user.email:
            channels.append(OutboxItem.Channel.EMAIL)
        rows.extend(
            OutboxItem(
                key=f"{event}:{user.pk}:{channel}",
                user=user,
                channel=channel,
                kind=kind,
                mailbox_name=mailbox.name,
                category_name=category_name,
                detail=detail,
                url=url,
                created_at=now or timezone.now(),
                due_at=now or timezone.now(),
            )
            for channel in channels
        )
    return len(OutboxItem.objects.bulk_create(rows, ignore_conflicts=True))


# The kinds told to people directly, not through a mailbox: their notice is their own text.
DIRECT_KINDS = (Kind.ACCESS, Kind.LOG_ALARM, Kind.SUPPORT)


def _notify_direct(
    *,
    event: str,
    users: Iterable[User],
    kind: str,
    source: str,
    text: str,
    url: str,
    email: bool = False,
) -> int:
    """One notice per person of `users` through the outbox, once per `event`: in the app, and
    with `email` by e-mail too to those who have an address, whatever their settings."""
    rows = [
        OutboxItem(
            key=f"{event}:{user.pk}:{channel}",
            user=user,
            channel=channel,
            kind=kind,
            mailbox_name=source,
            detail=Truncator(text).chars(300),
            url=url,
        )
        for user in users
        for channel in [
            OutboxItem.Channel.APP,
            *([OutboxItem.Channel.EMAIL] if email and user.email else []),
        ]
    ]
    return len(OutboxItem.objects.bulk_create(rows, ignore_conflicts=True))


def notify_access(*, event: str, user: User, mailbox: Mailbox, text: str) -> None:
    """A decision on the user's own access (R17), through the outbox like every notice: in the
    app only, as its text is the decision's own, an approver's reason included."""
    _notify_direct(
        event=event,
        users=[user],
        kind=Kind.ACCESS,
        source=mailbox.name,
        text=text,
        url=reverse("mailboxes:my_access"),
    )


LOG_ALARM_SOURCE = "Åtkomstloggen"  # what the alarm names where others name a mailbox


def notify_system_admins(*, event: str, text: str, url: str) -> int:
    """An alarm to every active system administrator, in the app and by e-mail, whatever their
    settings: nobody chooses not to hear that the access log is broken. Once per `event`."""
    return _notify_direct(
        event=event,
        users=User.objects.filter(is_superuser=True, is_active=True),
        kind=Kind.LOG_ALARM,
        source=LOG_ALARM_SOURCE,
        text=text,
        url=url,
        email=True,
    )


SUPPORT_SOURCE = "Felanmälan"  # what a support notice names where others name a mailbox


def notify_support(*, event: str, users: Iterable[User], text: str, url: str) -> int:
    """A fault report's news (R22) to `users`, in the app only: the text says what happened to
    the report, never what it says. Once per `event` and person."""
    return _notify_direct(
        event=event,
        users=[user for user in users if user.is_active],
        kind=Kind.SUPPORT,
        source=SUPPORT_SOURCE,
        text=text,
        url=url,
    )


def kinds_for(mailbox: Mailbox | None) -> list[str]:
    """The kinds of event a mailbox can tell of by e-mail: missed checks only for functional
    mailboxes; access decisions are told in the app only."""
    if mailbox is None:
        return []
    return [
        k
        for k in Kind.values
        if k not in DIRECT_KINDS and (mailbox.is_functional or k != Kind.CHECK_MISSED)
    ]


def email_choices(
    user: User, mailboxes: list[Mailbox]
) -> list[tuple[Mailbox, list[tuple[str, str, bool]]]]:
    """For each mailbox, (kind, label, e-mail wanted) for each kind it can tell of, defaults
    filled in; the person's own choices read in one query."""
    own = {
        (setting.mailbox_id, setting.kind): setting.enabled
        for setting in EmailSetting.objects.filter(user=user, mailbox__in=mailboxes)
    }
    return [
        (
            mailbox,
            [
                (
                    kind,
                    str(Kind(kind).label),
                    own.get((mailbox.pk, kind), EmailSetting.default(mailbox, kind)),
                )
                for kind in kinds_for(mailbox)
            ],
        )
        for mailbox in mailboxes
    ]


@transaction.atomic
def email_settings_save(
    *, user: User, mailbox_ids: list[int], chosen: dict[tuple[int, str], bool]
) -> None:
    """Keep a person's e-mail choices, for mailboxes they have access to only; all or nothing."""
    allowed = set(
        Mailbox.objects.granted_to(user).filter(pk__in=mailbox_ids).values_list("pk", flat=True)
    )
    if not mailbox_ids or set(mailbox_ids) - allowed:
        raise ValidationError(
            _("Du har inte behörighet till en av brevlådorna. Inget är sparat."), code="no_grant"
        )
    for (mailbox_id, kind), enabled in chosen.items():
        EmailSetting.objects.update_or_create(
            user=user, mailbox_id=mailbox_id, kind=kind, defaults={"enabled": enabled}
        )


def notice_text(item: OutboxItem) -> str:
    """The notice in plain Swedish: the mailbox, what happened, the category, what to do."""
    category = f" ({item.category_name})" if item.category_name else ""
    if item.kind in DIRECT_KINDS:
        return item.detail
    if item.kind == Kind.NEW_MESSAGE:
        text = f"Nytt meddelande i {item.mailbox_name}{category}."
    elif item.kind == Kind.REMINDER:
        text = (
            f"Påminnelse: en fråga till {item.mailbox_name}{category} har {item.detail} kvar "
            "av svarstiden."
        )
    elif item.kind == Kind.OVERDUE:
        text = (
            f"Svarstiden har gått ut för en fråga från {item.mailbox_name}{category}. "
            f"Följ nu upp ärendet per telefon med {item.detail}."
        )
    else:
        text = (
            f"{item.mailbox_name} har inte bevakats till klockan {item.detail} i dag. "
            "Öppna brevlådans inkorg."
        )
    return text


def _email_for(item: OutboxItem) -> EmailMessage:
    link = settings.SITE_URL.rstrip("/") + item.url
    body = (
        f"{notice_text(item)}\n\n{link}\n\n"
        "Logga in i Funktionsbrevlådan för att läsa mer. Det här meddelandet innehåller inga "
        "patientuppgifter. Du kan välja vilka e-postmeddelanden du får under Aviseringar.\n"
    )
    digest = hashlib.sha256(item.key.encode()).hexdigest()[:32]
    return EmailMessage(
        subject=f"Funktionsbrevlådan: {item.get_kind_display()} – {item.mailbox_name}",
        body=body,
        to=[item.user.email],
        # The same id on a second delivery of the same row, so mail systems see one message.
        headers={"Message-ID": f"<{digest}@funktionsbrevladan>"},
    )


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes between tries, at most an hour."""
    return timedelta(minutes=min(60, 2 ** (attempts - 1)))


def outbox_send(*, now: datetime | None = None, batch_size: int = 100) -> dict[str, int]:
    """Deliver what is due in the outbox (the outbox job, every minute).

    Rows are claimed with SKIP LOCKED and marked in the transaction that delivers them, so two
    runs never deliver a row twice, and a run that dies has marked nothing: the next run delivers
    its rows. In-app notices go a batch at a time, as they are rows in the same database. Each
    e-mail has a transaction of its own, so a death loses at most the mark of the one e-mail being
    sent; it is sent again with the same Message-ID, which mail systems take as one message.
    A failed e-mail is tried again later, with a growing pause, and given up after
    OUTBOX_MAX_ATTEMPTS tries: it then shows among the outbox's failures on the operators' page.
    """
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    while _deliver_notices(now=now, batch_size=batch_size, counts=counts):
        pass
    mail = get_connection()
    try:
        while _send_email(now=now, mail=mail, counts=counts):
            pass
    finally:
        mail.close()
    return counts


def _claim(now: datetime, channel: str, batch_size: int) -> list[OutboxItem]:
    return list(
        OutboxItem.objects.due(now)
        .filter(channel=channel)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .order_by("due_at", "pk")[:batch_size]
    )


@transaction.atomic
def _deliver_notices(*, now: datetime, batch_size: int, counts: dict[str, int]) -> bool:
    items = _claim(now, OutboxItem.Channel.APP, batch_size)
    Notification.objects.bulk_create(_notice_for(item) for item in items)
    OutboxItem.objects.filter(pk__in=[item.pk for item in items]).update(
        sent_at=now, attempts=F("attempts") + 1
    )
    counts["sent"] += len(items)
    return bool(items)


@transaction.atomic
def _send_email(*, now: datetime, mail: Any, counts: dict[str, int]) -> bool:
    items = _claim(now, OutboxItem.Channel.EMAIL, 1)
    if not items:
        return False
    item = items[0]
    item.attempts += 1
    try:
        mail.send_messages([_email_for(item)])
    except Exception as error:  # noqa: BLE001  (whatever the mail server did)
        item.last_error = Truncator(f"{type(error).__name__}: {error}").chars(300)
        if item.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            item.failed_at = now
            counts["failed"] += 1
            logger.warning("outbox item %s given up: %s", item.pk, item.last_error)
        else:
            item.due_at = now + _backoff(item.attempts)
            counts["retry"] += 1
        item.save(update_fields=["attempts", "sent_at", "failed_at", "due_at", "last_error"])
        # A mail server that is down or slow fails the next e-mail too, each after its timeout:
        # the rest wait for the next run rather than hold up the worker's other jobs.
        return not isinstance(error, OSError)
    item.sent_at = now
    counts["sent"] += 1
    item.save(update_fields=["attempts", "sent_at", "failed_at", "due_at", "last_error"])
    return True


def _notice_for(item: OutboxItem) -> Notification:
    return Notification(
        user=item.user,
        text=Truncator(notice_text(item)).chars(300),
        url=item.url,
        kind=item.kind,
        created_at=item.created_at,
    )


@transaction.atomic
def outbox_retry(*, item_ids: Iterable[int]) -> int:
    """A system administrator sends given-up rows once more, from the start."""
    return (
        OutboxItem.objects.failed()
        .filter(pk__in=list(item_ids))
        .update(failed_at=None, attempts=0, due_at=timezone.now(), last_error="")
    )


NOTICES_KEPT = timedelta(days=365)
OUTBOX_KEPT = timedelta(days=30)


def notices_prune(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly tidy-up of what notices leave behind: delivered outbox rows after a month,
    read notifications, mailbox checks and alarmed missed checks after a year. Undelivered and
    given-up outbox rows stay until an administrator has seen them. Safe to run again."""
    now = now or timezone.now()
    with transaction.atomic():
        outbox, _ = OutboxItem.objects.filter(sent_at__lt=now - OUTBOX_KEPT).delete()
        notices, _ = Notification.objects.filter(read_at__lt=now - NOTICES_KEPT).delete()
        checks, _ = MailboxCheck.objects.filter(at__lt=now - NOTICES_KEPT).delete()
        missed, _ = MissedCheck.objects.filter(alarmed_at__lt=now - NOTICES_KEPT).delete()
    return {"outbox": outbox, "notices": notices, "checks": checks, "missed_checks": missed}
