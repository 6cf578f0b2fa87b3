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
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import Notification, User
from mailboxes.models import EmailSetting, Mailbox, NotificationKind, OutboxItem

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
    same event, person and channel is not written again. In the app, a new message is told only
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


def notice_text(item: OutboxItem) -> str:
    """The notice in plain Swedish: the mailbox, what happened, the category, what to do."""
    category = f" ({item.category_name})" if item.category_name else ""
    if item.kind == Kind.NEW_MESSAGE:
        text = f"Nytt meddelande i {item.mailbox_name}{category}."
    elif item.kind == Kind.REMINDER:
        text = (
            f"Påminnelse: en fråga till {item.mailbox_name}{category} har {item.detail} kvar "
            "av svarstiden."
        )
    elif item.kind == Kind.OVERDUE:
        phone = f" på telefon {item.detail}" if item.detail else ""
        text = (
            f"Svarstiden har gått ut för en fråga från {item.mailbox_name}{category}. "
            f"Följ nu upp ärendet på annat sätt: ring den mottagande enheten{phone}."
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
    """Deliver what is due in the outbox, a batch at a time (the outbox job, every minute).

    Each batch claims its rows with SKIP LOCKED and marks them in the same transaction, so two
    runs never deliver a row twice and a run that dies marks nothing: its rows are delivered by
    the next run. A failed e-mail is tried again later, with a growing pause, and given up after
    OUTBOX_MAX_ATTEMPTS tries: it then shows among the outbox's failures for the system
    administrators.
    """
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    mail = get_connection()
    try:
        while _send_batch(now=now, batch_size=batch_size, mail=mail, counts=counts):
            pass
    finally:
        mail.close()
    return counts


@transaction.atomic
def _send_batch(*, now: datetime, batch_size: int, mail: Any, counts: dict[str, int]) -> bool:
    items = list(
        OutboxItem.objects.due(now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .order_by("due_at", "pk")[:batch_size]
    )
    notices = []
    for item in items:
        item.attempts += 1
        if item.channel == OutboxItem.Channel.APP:
            notices.append(_notice_for(item))
            item.sent_at = now
            counts["sent"] += 1
            continue
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
        else:
            item.sent_at = now
            counts["sent"] += 1
    Notification.objects.bulk_create(notices)
    OutboxItem.objects.bulk_update(
        items, ["attempts", "sent_at", "failed_at", "due_at", "last_error"]
    )
    return bool(items)


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
