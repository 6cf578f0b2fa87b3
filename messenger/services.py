"""Every write of the messaging core: one transaction each, with its access-log row inside it."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Employment, Organisation, User
from accounts.validators import looks_like_patient_number
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import Mailbox, NotificationKind
from mailboxes.notifications import notify
from mailboxes.selectors import grant_holders, mailbox_watchers
from messenger.models import (
    REPLY_WINDOW,
    Category,
    Delivery,
    JournalLink,
    JournalLinkRecipient,
    Message,
    Notice,
    NoticeRead,
    Question,
    SelfTestCompletion,
    Thread,
    ThreadEvent,
    TourDismissal,
)
from messenger.notices import clear_notice_cache

T = TypeVar("T")


def _refresh_search_vector(thread_id: int) -> None:
    _refresh_search_vectors([thread_id])


def _refresh_search_vectors(thread_ids: list[int]) -> None:
    # One statement for any number of threads. Subject weighs more than the bodies; both in
    # PostgreSQL's Swedish configuration.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE messenger_thread t SET search_vector =
                setweight(to_tsvector('swedish', t.subject), 'A') ||
                setweight(to_tsvector('swedish', coalesce(
                    (SELECT string_agg(m.body, ' ') FROM messenger_message m
                     WHERE m.thread_id = t.id), '')), 'B')
            WHERE t.id = ANY(%s)
            """,
            [thread_ids],
        )


def _message_create(
    *,
    thread: Thread,
    author: User,
    employment: Employment,
    mailbox: Mailbox,
    body: str,
    client_token: UUID | None,
) -> Message:
    return Message.objects.create(
        thread=thread,
        author=author,
        author_name=author.display_name(),
        author_profession=employment.profession,
        author_organisation=employment.organisation.name,
        sender_mailbox=mailbox,
        body=body,
        sent_at=thread.last_message_at,
        client_token=client_token,
    )


THREAD_GONE = _lazy(
    "Ärendet finns inte längre här: det har gallrats eller tömts ur papperskorgen. "
    "Svaret är inte skickat."
)


def _form_reused() -> ValidationError:
    return ValidationError(
        _("Formuläret är för gammalt. Ladda om sidan och försök igen."), code="form_reused"
    )


def _already_sent(
    client_token: UUID | None, *, author: User, mailbox: Mailbox, thread_id: int | None = None
) -> Message | None:
    """The message an earlier post of this same form sent: same author, mailbox and thread.

    A token met anywhere else comes from another form, reused: refused, never taken as sent.
    """
    if client_token is None:
        return None
    earlier = Message.objects.select_related("thread").filter(client_token=client_token).first()
    if earlier is None:
        return None
    if (earlier.author_id, earlier.sender_mailbox_id) != (author.pk, mailbox.pk) or (
        thread_id is not None and earlier.thread_id != thread_id
    ):
        raise _form_reused()
    return earlier


def _once(find: Callable[[], T | None], create: Callable[[], T]) -> T:
    """Run `create` unless `find` finds what an earlier post of the same form made.

    Two identical posts racing past the first check meet the form token's unique constraint:
    the loser's transaction rolls back and it returns the winner's row.
    """
    earlier = find()
    if earlier is not None:
        return earlier
    try:
        return create()
    except IntegrityError:
        earlier = find()
        if earlier is None:
            raise
        return earlier


def _question_start(*, thread: Thread, author: User, mailbox: Mailbox, now: datetime) -> None:
    """Start a reply clock (R9), if the category asks for action; the thread shows it."""
    window = thread.category.reply_window()
    if window is None:
        return
    due = now + window
    # Reminded a day before, or halfway through a window shorter than two days.
    remind_at = max(now + window / 2, due - timedelta(hours=settings.DEADLINE_REMINDER_HOURS))
    Question.objects.create(
        thread=thread,
        asked_by=author,
        asked_by_name=author.display_name(),
        asked_from=mailbox,
        asked_at=now,
        due_at=due,
        remind_at=remind_at,
    )
    thread.reply_due_at, thread.answered_at, thread.followed_up_at = due, None, None
    thread.save(update_fields=["reply_due_at", "answered_at", "followed_up_at"])


def _question_answer(*, thread: Thread, author: User, now: datetime) -> None:
    """The receiving side's reply stops the running clock, if one runs."""
    if not thread.has_open_question():
        return
    Question.objects.filter(thread=thread).open().update(
        answered_at=now, answered_by_name=author.display_name()
    )
    thread.answered_at = now
    thread.save(update_fields=["answered_at"])


def _thread_path(mailbox: Mailbox, thread: Thread) -> str:
    return reverse("messenger:thread", args=[mailbox.pk, thread.pk])


def _notify_new_message(message: Message, mailboxes: Iterable[Mailbox]) -> None:
    """Tell the people of each receiving mailbox, all but the author, through the outbox."""
    thread = message.thread
    for mailbox in mailboxes:
        notify(
            event=f"message-{message.pk}-{mailbox.pk}",
            kind=NotificationKind.NEW_MESSAGE,
            users=grant_holders(mailbox).exclude(pk=message.author_id),
            mailbox=mailbox,
            category_name=thread.category.name,
            url=_thread_path(mailbox, thread),
        )


def _check_recipient(recipient: Mailbox, sender: Mailbox) -> None:
    if recipient.is_closed:
        # R14: a closed mailbox receives nothing.
        raise ValidationError(
            {"recipient": _("Brevlådan är stängd och tar inte emot meddelanden.")}
        )
    if not recipient.is_functional:
        raise ValidationError(
            {"recipient": _("Meddelanden skickas till funktionsbrevlådor, inte till personer.")}
        )
    if recipient.pk == sender.pk:
        raise ValidationError({"recipient": _("Välj en annan brevlåda än den du skickar från.")})


def thread_start(
    *,
    author: User,
    employment: Employment,
    sender_mailbox: Mailbox,
    recipient_mailbox: Mailbox,
    category: Category,
    subject: str,
    patient_id: str,
    body: str,
    client_token: UUID | None = None,
) -> Thread:
    """Send a new message: a thread in the recipient's Inkorg and the sender's Skickat.

    A form posted twice with the same token sends once: the second call returns the first thread.
    """
    first = _once(
        lambda: _already_sent(client_token, author=author, mailbox=sender_mailbox),
        lambda: _thread_start(
            author=author,
            employment=employment,
            sender_mailbox=sender_mailbox,
            recipient_mailbox=recipient_mailbox,
            category=category,
            subject=subject,
            patient_id=patient_id,
            body=body,
            client_token=client_token,
        ),
    )
    return first.thread


@transaction.atomic
def _thread_start(
    *,
    author: User,
    employment: Employment,
    sender_mailbox: Mailbox,
    recipient_mailbox: Mailbox,
    category: Category,
    subject: str,
    patient_id: str,
    body: str,
    client_token: UUID | None,
) -> Message:
    # Checked here, after the token: a re-post returns the first thread even if the recipient
    # has closed since.
    _check_recipient(recipient_mailbox, sender_mailbox)
    if sender_mailbox.is_closed:
        raise ValidationError(_("Brevlådan är stängd. Inga meddelanden kan skickas från den."))
    now = timezone.now()
    thread = Thread.objects.create(
        category=category,
        subject=subject,
        patient_id=patient_id,
        sender_mailbox=sender_mailbox,
        recipient_mailbox=recipient_mailbox,
        created_at=now,
        last_message_at=now,
    )
    _question_start(thread=thread, author=author, mailbox=sender_mailbox, now=now)
    message = _message_create(
        thread=thread,
        author=author,
        employment=employment,
        mailbox=sender_mailbox,
        body=body,
        client_token=client_token,
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                thread=thread,
                mailbox=sender_mailbox,
                folder=Delivery.Folder.SENT,
                read_at=now,
                last_message_at=now,
            ),
            Delivery(
                thread=thread,
                mailbox=recipient_mailbox,
                folder=Delivery.Folder.INBOX,
                last_message_at=now,
            ),
        ]
    )
    _refresh_search_vector(thread.pk)
    _notify_new_message(message, [recipient_mailbox])
    access_log(
        action=AccessLog.Action.SEND,
        user=author,
        organisation_name=employment.organisation.name,
        mailbox=sender_mailbox,
        thread_id=thread.pk,
        patient_id=patient_id,
    )
    return message


def message_reply(
    *,
    author: User,
    employment: Employment,
    delivery: Delivery,
    body: str,
    client_token: UUID | None = None,
) -> Message:
    """Reply in a thread from the mailbox that holds `delivery`.

    The receiving side's first reply marks the thread answered. Everyone else holding the thread
    finds it unread in their Inkorg again.
    """
    return _once(
        lambda: _already_sent(
            client_token, author=author, mailbox=delivery.mailbox, thread_id=delivery.thread_id
        ),
        lambda: _message_reply(
            author=author,
            employment=employment,
            delivery=delivery,
            body=body,
            client_token=client_token,
        ),
    )


@transaction.atomic
def _message_reply(
    *,
    author: User,
    employment: Employment,
    delivery: Delivery,
    body: str,
    client_token: UUID | None,
) -> Message:
    mailbox = delivery.mailbox
    thread = (
        Thread.objects.select_for_update()
        .select_related("sender_mailbox", "recipient_mailbox", "category")
        .filter(pk=delivery.thread_id)
        .first()
    )
    # The purge or an emptied trash may have taken the thread, or this mailbox's copy of it,
    # since the page was opened.
    if thread is None or not Delivery.objects.filter(pk=delivery.pk).exists():
        raise ValidationError(THREAD_GONE, code="thread_gone")
    if mailbox.is_closed:
        raise ValidationError(_("Brevlådan är stängd. Inga meddelanden kan skickas från den."))
    others = [m for m in (thread.sender_mailbox, thread.recipient_mailbox) if m.pk != mailbox.pk]
    if any(other.is_closed for other in others):
        raise ValidationError(
            _("Mottagarens brevlåda är stängd och tar inte emot svar. Använd en annan kanal.")
        )
    now = timezone.now()
    thread.last_message_at = now
    thread.save(update_fields=["last_message_at"])
    if thread.is_receiving_side(mailbox.pk):
        _question_answer(thread=thread, author=author, now=now)
    elif not thread.has_open_question():
        # R9: a follow-up question after an answer starts a clock of its own.
        _question_start(thread=thread, author=author, mailbox=mailbox, now=now)
    message = _message_create(
        thread=thread,
        author=author,
        employment=employment,
        mailbox=mailbox,
        body=body,
        client_token=client_token,
    )
    # The two parties always get the reply, even one that emptied the thread from its trash.
    Delivery.objects.bulk_create(
        [Delivery(thread=thread, mailbox=other, folder=Delivery.Folder.INBOX) for other in others],
        ignore_conflicts=True,
    )
    Delivery.objects.filter(thread=thread).exclude(mailbox=mailbox).update(
        read_at=None, folder=Delivery.Folder.INBOX, last_message_at=now
    )
    Delivery.objects.filter(pk=delivery.pk).update(read_at=now, last_message_at=now)
    _refresh_search_vector(thread.pk)
    _notify_new_message(
        message,
        Mailbox.objects.filter(deliveries__thread=thread).exclude(pk=mailbox.pk),
    )
    access_log(
        action=AccessLog.Action.REPLY,
        user=author,
        organisation_name=employment.organisation.name,
        mailbox=mailbox,
        thread_id=thread.pk,
        patient_id=thread.patient_id,
    )
    return message


@transaction.atomic
def delivery_open(*, user: User, delivery: Delivery) -> None:
    """The user opened the thread in this mailbox: read there, and first-opened on the thread."""
    now = timezone.now()
    if delivery.read_at is None:
        Delivery.objects.filter(pk=delivery.pk, read_at__isnull=True).update(read_at=now)
        delivery.read_at = now
    thread = delivery.thread
    if thread.first_opened_at is None and delivery.mailbox_id == thread.recipient_mailbox_id:
        Thread.objects.filter(pk=thread.pk, first_opened_at__isnull=True).update(
            first_opened_at=now, first_opened_by=user
        )
        thread.first_opened_at, thread.first_opened_by = now, user


@transaction.atomic
def delivery_mark_unread(*, delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(read_at=None)


@transaction.atomic
def delivery_move(*, delivery: Delivery, folder: str) -> None:
    """Move the thread between this mailbox's folders; Arkiv means handled."""
    if folder not in dict(delivery.folder_choices()):
        raise ValidationError(_("Mappen finns inte."))
    Delivery.objects.filter(pk=delivery.pk).update(folder=folder)


@transaction.atomic
def trash_empty(*, user: User, employment: Employment | None, mailbox: Mailbox) -> int:
    """Empty the mailbox's Papperskorg (R16). A thread no mailbox holds any longer is deleted,
    unless it is on legal hold: then it stays, held by no mailbox, until the hold is released."""
    trashed = Delivery.objects.filter(mailbox=mailbox, folder=Delivery.Folder.TRASH)
    thread_ids = list(trashed.values_list("thread_id", flat=True))
    count, _deleted = trashed.delete()
    Thread.objects.filter(
        pk__in=thread_ids, deliveries__isnull=True, legal_hold_at__isnull=True
    ).delete()
    access_log(
        action=AccessLog.Action.EMPTY_TRASH,
        user=user,
        organisation_name=employment.organisation.name if employment else "",
        mailbox=mailbox,
        detail=f"{len(thread_ids)} ärenden",
    )
    return len(thread_ids)


def message_forward(
    *,
    actor: User,
    employment: Employment,
    delivery: Delivery,
    colleague: User,
    comment: str,
    colleague_told: bool,
    client_token: UUID | None = None,
) -> ThreadEvent:
    """Forward a thread to a named colleague's personal mailbox (R12); returns its history event.

    Only to people with an account and an open personal mailbox, and only once the colleague has
    been told about it. Journal links in the thread record the forward in their ledger (R11).
    A form posted twice with the same token forwards once.
    """

    def earlier() -> ThreadEvent | None:
        if client_token is None:
            return None
        event = ThreadEvent.objects.filter(client_token=client_token).first()
        if event is not None and event.thread_id != delivery.thread_id:
            raise _form_reused()
        return event

    return _once(
        earlier,
        lambda: _message_forward(
            actor=actor,
            employment=employment,
            delivery=delivery,
            colleague=colleague,
            comment=comment,
            colleague_told=colleague_told,
            client_token=client_token,
        ),
    )


@transaction.atomic
def _message_forward(
    *,
    actor: User,
    employment: Employment,
    delivery: Delivery,
    colleague: User,
    comment: str,
    colleague_told: bool,
    client_token: UUID | None,
) -> ThreadEvent:
    # Checked here, after the token: a re-post reports the first forward even if the mailbox
    # has closed since.
    if delivery.mailbox.is_closed:
        raise ValidationError(_("Brevlådan är stängd. Ärenden i den kan inte vidarebefordras."))
    if not colleague_told:
        raise ValidationError(
            {"colleague_told": _("Bekräfta att kollegan vet om att ärendet skickas till hen.")}
        )
    target = Mailbox.objects.filter(owner=colleague, closed_at__isnull=True).first()
    if target is None or not colleague.is_active:
        raise ValidationError(
            {
                "colleague": _(
                    "Personen har inget konto med egen brevlåda här. Använd en annan kanal."
                )
            }
        )
    if target.pk == delivery.mailbox_id or colleague.pk == actor.pk:
        raise ValidationError({"colleague": _("Välj en annan person än dig själv.")})
    thread = delivery.thread
    now = timezone.now()
    forwarded, created = Delivery.objects.get_or_create(
        thread=thread,
        mailbox=target,
        defaults={
            "folder": Delivery.Folder.INBOX,
            "forwarded_from": delivery.mailbox,
            "last_message_at": thread.last_message_at,
        },
    )
    if not created:
        Delivery.objects.filter(pk=forwarded.pk).update(
            folder=Delivery.Folder.INBOX, read_at=None, forwarded_from=delivery.mailbox
        )
    event = ThreadEvent.objects.create(
        thread=thread,
        kind=ThreadEvent.Kind.FORWARDED,
        at=now,
        actor_name=actor.display_name(),
        from_mailbox_name=delivery.mailbox.name,
        to_name=colleague.display_name(),
        comment=comment,
        client_token=client_token,
    )
    notify(
        event=f"forward-{event.pk}",
        kind=NotificationKind.NEW_MESSAGE,
        users=[colleague],
        mailbox=target,
        category_name=thread.category.name,
        url=_thread_path(target, thread),
    )
    links = list(thread.journal_links.all())
    JournalLinkRecipient.objects.bulk_create(
        JournalLinkRecipient(
            link=link,
            via=JournalLinkRecipient.Via.FORWARDED,
            mailbox_name=target.name,
            person_name=colleague.display_name(),
            by_name=actor.display_name(),
            at=now,
        )
        for link in links
    )
    access_log(
        action=AccessLog.Action.FORWARD,
        user=actor,
        organisation_name=employment.organisation.name,
        mailbox=delivery.mailbox,
        thread_id=thread.pk,
        patient_id=thread.patient_id,
        detail=_forward_detail(_reached(target.name, colleague.display_name()), len(links)),
    )
    return event


# The access log's detail field; what a forward or a link reached is cut to fit it.
_DETAIL_MAX = AccessLog._meta.get_field("detail").max_length or 500
# A recipient's part of a detail and the link title's, so that a long title leaves room for the
# recipients, and at least one of them always fits.
_REACHED_MAX = 150
_TITLE_MAX = 120


def _reached(mailbox_name: str, person_name: str) -> str:
    """One recipient as the log names it: a person with their personal mailbox, or a functional
    mailbox (whose people the ledger does not list either)."""
    if person_name:
        text = f"{person_name} (personlig brevlåda {mailbox_name})"
    else:
        text = f"funktionsbrevlådan {mailbox_name}"
    return Truncator(text).chars(_REACHED_MAX)


def _listed_within(prefix: str, items: list[str]) -> str:
    """`prefix` and the items joined with commas, as many whole items as fit in the detail
    field, and "… och 3 till" for the rest: the row says how many it could not name."""
    text = prefix + ", ".join(items)
    if len(text) <= _DETAIL_MAX:
        return text
    shown = len(items)
    while shown > 1:
        shown -= 1
        text = prefix + ", ".join(items[:shown]) + f" … och {len(items) - shown} till"
        if len(text) <= _DETAIL_MAX:
            return text
    return Truncator(text).chars(_DETAIL_MAX)


def _forward_detail(reached: str, links: int) -> str:
    """What a FORWARD row says, so it outlives the thread's purge: whom it reached, and how many
    of the thread's journal links went along (the LINK rows name them)."""
    text = f"Vidarebefordrade till {reached}"
    if links:
        text += f", med {links} journallänk" + ("ar" if links > 1 else "")
    return text


def _link_detail(link: JournalLink, reached: list[str]) -> str:
    """What a LINK row says, so it outlives the thread's purge: the link's kind and title, and the
    mailboxes and people whose ledger got it (JournalLinkRecipient). Never the title if it holds
    something written like a personnummer: the row is kept for years."""
    with translation.override("sv"):
        kind = str(link.get_kind_display()).lower()
    title = link.title.strip()
    if looks_like_patient_number(title):
        title = "rubriken utelämnad, den liknar ett personnummer"
    prefix = f"Bifogade {kind} «{Truncator(title).chars(_TITLE_MAX)}»"
    if not reached:
        return prefix + ", ingen annan brevlåda i ärendet"
    return _listed_within(prefix + ", nådde ", reached)


LINKING_KINDS = (Organisation.Kind.HEALTH_CENTRE, Organisation.Kind.REGION_UNIT)


def may_link(employment: Employment | None, mailbox: Mailbox) -> bool:
    """R11: staff of the region's side (a health centre or any other region unit, such as a
    hospital clinic), working for the unit that owns the mailbox. Municipal staff keep no
    journal in the region's system, so they never link."""
    return (
        employment is not None
        and mailbox.organisation.kind in LINKING_KINDS
        and employment.organisation_id == mailbox.organisation_id
    )


def may_link_medication_list(mailbox: Mailbox) -> bool:
    """R11: the medication list is the health centre's to send; other region units link
    journal notes only."""
    return mailbox.organisation.is_health_centre


def journal_link_attach(
    *,
    actor: User,
    employment: Employment,
    delivery: Delivery,
    kind: str,
    title: str,
    reference: str,
    client_token: UUID | None = None,
) -> JournalLink:
    """Attach a link to a journal note or the medication list (R11): health-centre staff only.

    A form posted twice with the same token attaches once.
    """

    def earlier() -> JournalLink | None:
        if client_token is None:
            return None
        link = JournalLink.objects.filter(client_token=client_token).first()
        if link is not None and (link.thread_id, link.attached_by_id) != (
            delivery.thread_id,
            actor.pk,
        ):
            raise _form_reused()
        return link

    return _once(
        earlier,
        lambda: _journal_link_attach(
            actor=actor,
            employment=employment,
            delivery=delivery,
            kind=kind,
            title=title,
            reference=reference,
            client_token=client_token,
        ),
    )


@transaction.atomic
def _journal_link_attach(
    *,
    actor: User,
    employment: Employment,
    delivery: Delivery,
    kind: str,
    title: str,
    reference: str,
    client_token: UUID | None,
) -> JournalLink:
    if delivery.mailbox.is_closed:
        raise ValidationError(_("Brevlådan är stängd. Länkar kan inte bifogas i den."))
    if not may_link(employment, delivery.mailbox):
        raise ValidationError(
            _("Endast personal på Regionens enheter kan bifoga länkar till journalen.")
        )
    if kind not in JournalLink.Kind.values:
        raise ValidationError({"kind": _("Välj journalanteckning eller läkemedelslista.")})
    if kind == JournalLink.Kind.MEDICATION_LIST and not may_link_medication_list(delivery.mailbox):
        raise ValidationError(
            {"kind": _("Länk till läkemedelslistan skickas bara från vårdcentraler.")}
        )
    thread = delivery.thread
    now = timezone.now()
    link = JournalLink.objects.create(
        thread=thread,
        kind=kind,
        title=title,
        reference=reference,
        attached_by=actor,
        attached_by_name=actor.display_name(),
        attached_from=delivery.mailbox,
        attached_at=now,
        client_token=client_token,
    )
    holders = (
        Delivery.objects.filter(thread=thread)
        .exclude(mailbox=delivery.mailbox)
        .select_related("mailbox__owner")
        .order_by("pk")  # in the order the thread reached them, as the ledger lists them
    )
    recipients = JournalLinkRecipient.objects.bulk_create(
        JournalLinkRecipient(
            link=link,
            via=JournalLinkRecipient.Via.SENT,
            mailbox_name=holder.mailbox.name,
            person_name=holder.mailbox.owner.display_name() if holder.mailbox.owner else "",
            by_name=actor.display_name(),
            at=now,
        )
        for holder in holders
    )
    ThreadEvent.objects.create(
        thread=thread,
        kind=ThreadEvent.Kind.LINK_ATTACHED,
        at=now,
        actor_name=actor.display_name(),
        from_mailbox_name=delivery.mailbox.name,
        to_name=link.get_kind_display(),
        comment=title,
    )
    access_log(
        action=AccessLog.Action.LINK,
        user=actor,
        organisation_name=employment.organisation.name,
        mailbox=delivery.mailbox,
        thread_id=thread.pk,
        patient_id=thread.patient_id,
        detail=_link_detail(link, [_reached(r.mailbox_name, r.person_name) for r in recipients]),
    )
    return link


@transaction.atomic
def question_follow_up(
    *, actor: User, employment: Employment, delivery: Delivery, note: str
) -> None:
    """The asking side took the matter up by phone (R9): who, when and what go into the
    thread's history, and the clock stops, so no more alerts are sent for it."""
    if delivery.mailbox.is_closed:
        raise ValidationError(_("Brevlådan är stängd. Inga meddelanden kan skickas från den."))
    thread = Thread.objects.select_for_update().get(pk=delivery.thread_id)
    if thread.is_receiving_side(delivery.mailbox_id):
        raise ValidationError(_("Det är den som frågade som följer upp per telefon."))
    if not thread.has_open_question():
        raise ValidationError(_("Ingen fråga väntar på svar i ärendet."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Skriv kort vad som sades i telefon.")})
    now = timezone.now()
    Question.objects.filter(thread=thread).open().update(
        followed_up_at=now, followed_up_by_name=actor.display_name(), followed_up_note=note
    )
    Thread.objects.filter(pk=thread.pk).update(followed_up_at=now)
    ThreadEvent.objects.create(
        thread=thread,
        kind=ThreadEvent.Kind.FOLLOWED_UP,
        at=now,
        actor_name=actor.display_name(),
        from_mailbox_name=delivery.mailbox.name,
        comment=note,
    )
    access_log(
        action=AccessLog.Action.FOLLOW_UP,
        user=actor,
        organisation_name=employment.organisation.name,
        mailbox=delivery.mailbox,
        thread_id=thread.pk,
        patient_id=thread.patient_id,
    )


def _time_left(question: Question, now: datetime) -> str:
    clock = question.deadline(now)
    return f"{clock.hours_left} h" if clock.hours_left else f"{clock.minutes_left} min"


def _whom_to_call(mailbox: Mailbox) -> str:
    """The receiving unit, with its phone number where the mailbox has one (R9: by phone)."""
    return Truncator(f"{mailbox.name}, {mailbox.phone}" if mailbox.phone else mailbox.name).chars(
        200
    )


def deadlines_sweep(*, now: datetime | None = None, batch_size: int = 200) -> dict[str, int]:
    """The deadline job (every minute): remind and alert, each question once (R9).

    A question whose reminder time has come reminds the receiving mailbox's watchers; one whose
    reply time has passed unanswered alerts its author and the asking mailbox that the matter
    must now be followed up by phone. Each batch claims its questions with SKIP LOCKED and marks
    them in the transaction that writes the notices, so a sweep run twice, or two at once, tells
    each person once. Open questions are found along partial indexes: a sweep with nothing to do
    costs the same at any size.
    """
    now = now or timezone.now()
    counts = {"reminders": 0, "alerts": 0}
    while _remind_batch(now=now, batch_size=batch_size, counts=counts):
        pass
    while _alert_batch(now=now, batch_size=batch_size, counts=counts):
        pass
    return counts


def _claim(questions: "QuerySet[Question]", order: str, batch_size: int) -> list[Question]:
    # In the order of the partial index the filter uses: ordered by pk, PostgreSQL would walk
    # the whole table by its primary key looking for due rows.
    return list(
        questions.select_for_update(skip_locked=True, of=("self",))
        .select_related("thread__category", "thread__recipient_mailbox", "asked_from", "asked_by")
        .order_by(order)[:batch_size]
    )


@transaction.atomic
def _remind_batch(*, now: datetime, batch_size: int, counts: dict[str, int]) -> bool:
    questions = _claim(Question.objects.to_remind(now), "remind_at", batch_size)
    for question in questions:
        thread = question.thread
        receiving = thread.recipient_mailbox
        notify(
            event=f"reminder-{question.pk}",
            kind=NotificationKind.REMINDER,
            users=mailbox_watchers(receiving),
            mailbox=receiving,
            category_name=thread.category.name,
            detail=_time_left(question, now),
            url=_thread_path(receiving, thread),
            now=now,
        )
        counts["reminders"] += 1
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(reminded_at=now)
    return bool(questions)


@transaction.atomic
def _alert_batch(*, now: datetime, batch_size: int, counts: dict[str, int]) -> bool:
    questions = _claim(Question.objects.to_alert(now), "due_at", batch_size)
    still_held = set(
        Delivery.objects.filter(
            thread_id__in=[q.thread_id for q in questions],
            mailbox_id__in=[q.asked_from_id for q in questions],
        ).values_list("thread_id", "mailbox_id")
    )
    for question in questions:
        thread = question.thread
        asking = question.asked_from
        if (thread.pk, asking.pk) not in still_held:
            continue  # the asking mailbox emptied the thread from its trash: it let it go
        people = {question.asked_by.pk: question.asked_by}
        people.update((user.pk, user) for user in grant_holders(asking))
        notify(
            event=f"overdue-{question.pk}",
            kind=NotificationKind.OVERDUE,
            users=people.values(),
            mailbox=asking,
            category_name=thread.category.name,
            detail=_whom_to_call(thread.recipient_mailbox),
            url=_thread_path(asking, thread),
            now=now,
        )
        counts["alerts"] += 1
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(
        alerted_at=now, reminded_at=Coalesce("reminded_at", Value(now))
    )
    return bool(questions)


# Categories (R7, R8), for system administrators


def _require_system_admin(actor: User) -> None:
    if not actor.is_superuser:
        raise ValidationError(_("Bara systemförvaltare får ändra kategorierna."), code="forbidden")


def _check_category_name_free(name: str, category_pk: int | None = None) -> None:
    # Case-insensitive: "recept" beside "Recept" would be two headings that look like one.
    taken = Category.objects.filter(name__iexact=name)
    if category_pk is not None:
        taken = taken.exclude(pk=category_pk)
    if taken.exists():
        raise ValidationError({"name": _("Det finns redan en kategori med det namnet.")})


def _check_category(category: Category, errors: dict[str, Any] | None = None) -> None:
    """Every rule at once, so the form shows all that is wrong in one go."""
    errors = dict(errors or {})
    try:
        # The name is checked below, case-insensitively, and finally by the database.
        category.full_clean(validate_unique=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if "name" not in errors:
        try:
            _check_category_name_free(category.name, category.pk)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _save_category(category: Category, **save_options: Any) -> None:
    """Save, turning a name taken a moment ago (another administrator, a double click) into a
    message instead of the database's IntegrityError."""
    try:
        with transaction.atomic():
            category.save(**save_options)
    except IntegrityError:
        raise ValidationError(
            {"name": _("Det finns redan en kategori med det namnet.")}, code="taken"
        ) from None


def _reply_window_text(category: Category) -> str:
    if not category.requires_action:
        return "ingen"
    if category.reply_window_hours is None:
        return f"{REPLY_WINDOW // timedelta(hours=1)} h (standard)"
    return f"{category.reply_window_hours} h"


def _category_facts(category: Category) -> dict[str, str]:
    return {
        "namn": category.name,
        "åtgärd": "krävs" if category.requires_action else "krävs inte",
        "svarstid": _reply_window_text(category),
    }


@transaction.atomic
def category_create(
    *, actor: User, name: str, requires_action: bool, reply_window_hours: int | None
) -> Category:
    """A new heading, last in the list."""
    _require_system_admin(actor)
    # Lock the list first, so two administrators adding at once each see the other's heading.
    list(Category.objects.select_for_update().values_list("pk", flat=True))
    last = Category.objects.aggregate(last=Max("position"))["last"]
    category = Category(
        name=name.strip(),
        position=0 if last is None else last + 1,
        requires_action=requires_action,
        reply_window_hours=reply_window_hours,
    )
    _check_category(category)
    _save_category(category)
    facts = _category_facts(category)
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        detail=(
            f"Skapade kategorin {category.name} (åtgärd {facts['åtgärd']}, "
            f"svarstid {facts['svarstid']})"
        ),
    )
    return category


@transaction.atomic
def category_update(
    *,
    actor: User,
    category: Category,
    name: str,
    place: int,
    requires_action: bool,
    reply_window_hours: int | None,
) -> Category:
    """Rename, move to `place` (1 is first) and set whether it asks action and how long the
    recipient has. Threads already started keep their deadline: only new questions get the new
    reply window."""
    _require_system_admin(actor)
    ordered = list(Category.objects.select_for_update())
    locked = next((c for c in ordered if c.pk == category.pk), None)
    if locked is None:
        raise ValidationError(_("Kategorin finns inte längre."), code="gone")
    before = {**_category_facts(locked), "plats": str(ordered.index(locked) + 1)}
    locked.name = name.strip()
    locked.requires_action = requires_action
    locked.reply_window_hours = reply_window_hours
    errors: dict[str, Any] = {}
    if not 1 <= place <= len(ordered):
        errors["place"] = [_("Ange en plats mellan 1 och %(count)d.") % {"count": len(ordered)}]
    _check_category(locked, errors)
    _save_category(locked, update_fields=["name", "requires_action", "reply_window_hours"])
    ordered.remove(locked)
    ordered.insert(place - 1, locked)
    # One by one, not bulk_update, so django-auditlog records each move; the list is short.
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    after = {**_category_facts(locked), "plats": str(place)}
    changes = "; ".join(
        f"{field} {before[field]} → {after[field]}"
        for field in before
        if before[field] != after[field]
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        detail=f"Ändrade kategorin {locked.name}: {changes or 'inget ändrat'}",
    )
    return locked


PURGE_AFTER = timedelta(days=365)  # R16: messages older than one year are removed
# What a purge summary row lists of the threads it touched: the detail field holds 500 characters.
_PURGE_DETAIL_MAX = 500


@dataclass(frozen=True)
class Purged:
    """What a purge removed: messages, and the threads that had none left."""

    messages: int = 0
    threads: int = 0

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(self.messages + other.messages, self.threads + other.threads)


def _thread_numbers(label: str, ids: list[int], room: int) -> str:
    """`label: 1, 2, 3` within `room` characters; the first numbers and "…" when all won't fit."""
    text = f"{label}: " + ", ".join(map(str, ids))
    if len(text) <= room:
        return text
    cut = text[: max(room - 3, 0)]
    if "," not in cut:
        return f"{label}: …"
    return cut[: cut.rfind(",")] + ", …"


def messages_purge(*, now: datetime | None = None, batch_size: int = 500) -> Purged:
    """Delete messages sent more than a year ago (R16), and each thread left without one.

    Per message, not per thread: an active thread loses its year-old messages while the recent
    ones stay. A batch claims up to `batch_size` threads holding such messages with SKIP LOCKED,
    in its own transaction, so two runs never fight over a thread, and a reply being written
    (it locks the thread too) is left for the next batch or night rather than waited for.
    A thread on legal hold is not touched at all.

    What goes with the messages: the history older than a year, that is the events (forwards,
    journal links attached, follow-ups by phone with their notes, holds) and the questions'
    reply clocks asked before the cutoff, whose messages are gone. What stays: journal links
    with their ledger (R11: who a link was sent to) and the deliveries, until the thread itself
    goes. A thread that survives gets its search vector rebuilt from the messages left, so a
    purged text is no longer found by search.
    Each batch writes one access-log summary row: counts and thread numbers, never a patient,
    a subject or a text. Access-log rows of the threads stay (HSLF-FS 2016:40), the thread's
    number and patient in them, readable without the thread.
    """
    cutoff = (now or timezone.now()) - PURGE_AFTER
    day = f"{timezone.localtime(cutoff):%Y-%m-%d}"
    total = Purged()
    while True:
        with transaction.atomic():
            ids = list(
                Thread.objects.select_for_update(skip_locked=True)
                .purgeable(cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return total
            _count, per_model = Message.objects.filter(
                thread_id__in=ids, sent_at__lt=cutoff
            ).delete()
            emptied = list(
                Thread.objects.filter(pk__in=ids)
                .exclude(pk__in=Message.objects.filter(thread_id__in=ids).values("thread_id"))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Thread.objects.filter(pk__in=emptied).delete()
            kept = sorted(set(ids) - set(emptied))
            ThreadEvent.objects.filter(thread_id__in=kept, at__lt=cutoff).delete()
            Question.objects.filter(thread_id__in=kept, asked_at__lt=cutoff).delete()
            # The thread's copy of its current clock goes with the last question it copied.
            Thread.objects.filter(pk__in=kept, questions__isnull=True).update(
                reply_due_at=None, answered_at=None, followed_up_at=None
            )
            if kept:
                _refresh_search_vectors(kept)
            batch = Purged(messages=per_model.get(Message._meta.label, 0), threads=len(emptied))
            summary = (
                f"{batch.messages} meddelanden skickade före {day} borttagna ur {len(ids)} "
                f"ärenden, {batch.threads} av dem borttagna helt. "
            )
            lists = [(label, pks) for label, pks in (("Borttagna", emptied), ("Kvar", kept)) if pks]
            share = (_PURGE_DETAIL_MAX - len(summary)) // len(lists) - 2
            access_log(
                action=AccessLog.Action.PURGE,
                detail=summary + "; ".join(_thread_numbers(*pair, share) for pair in lists),
            )
            total += batch


def _thread_for_hold(actor: User, thread_id: int) -> Thread:
    if not actor.is_superuser:
        raise ValidationError(_("Bara systemförvaltare får sätta ärenden i bevarande."))
    # Locked: the purge skips a locked thread, and sees the hold once this commits.
    thread = Thread.objects.select_for_update().filter(pk=thread_id).first()
    if thread is None:
        raise ValidationError(
            {
                "thread_number": _("Det finns inget ärende med nummer %(number)s.")
                % {"number": thread_id}
            }
        )
    return thread


@transaction.atomic
def thread_legal_hold(*, actor: User, thread_id: int, reason: str) -> Thread:
    """Put a thread on legal hold: the purge leaves all of it alone until it is released (R16).

    For a system administrator, who finds the thread by its number without a grant to its
    mailboxes and sees neither its patient nor its subject. The reason goes into the access log
    and the thread's history, so it may not hold a personnummer.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Ange skälet till att ärendet ska bevaras.")})
    if looks_like_patient_number(reason):
        raise ValidationError(
            {"reason": _("Skriv inte personnummer i skälet. Det syns i loggen och historiken.")}
        )
    thread = _thread_for_hold(actor, thread_id)
    if thread.is_on_legal_hold():
        raise ValidationError(
            {"thread_number": _("Ärende %(number)s är redan i bevarande.") % {"number": thread.pk}}
        )
    now = timezone.now()
    thread.legal_hold_at, thread.legal_hold_by, thread.legal_hold_reason = now, actor, reason
    thread.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    ThreadEvent.objects.create(
        thread=thread,
        kind=ThreadEvent.Kind.LEGAL_HOLD,
        at=now,
        actor_name=actor.display_name(),
        comment=reason,
    )
    access_log(
        action=AccessLog.Action.LEGAL_HOLD,
        user=actor,
        thread_id=thread.pk,
        detail=f"Skäl: {reason}",
    )
    return thread


@transaction.atomic
def thread_legal_release(*, actor: User, thread_id: int) -> Thread:
    """Release a legal hold: from the next night on, the purge takes the thread's old messages."""
    thread = _thread_for_hold(actor, thread_id)
    held_since = thread.legal_hold_at
    if held_since is None:
        raise ValidationError(_("Ärende %(number)s är inte i bevarande.") % {"number": thread.pk})
    thread.legal_hold_at, thread.legal_hold_by, thread.legal_hold_reason = None, None, ""
    thread.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    ThreadEvent.objects.create(
        thread=thread,
        kind=ThreadEvent.Kind.LEGAL_HOLD_RELEASED,
        at=timezone.now(),
        actor_name=actor.display_name(),
    )
    access_log(
        action=AccessLog.Action.LEGAL_HOLD_RELEASE,
        user=actor,
        thread_id=thread.pk,
        detail=f"I bevarande sedan {timezone.localtime(held_since):%Y-%m-%d %H:%M}",
    )
    return thread


# Notices about the system (R20), written by system administrators.


def _require_notice_admin(actor: User) -> None:
    if not actor.is_superuser:
        raise ValidationError(
            _("Bara systemförvaltare får publicera driftmeddelanden."), code="forbidden"
        )


def _check_notice(notice: Notice) -> None:
    """The form says the same; checked here too, so no caller saves a notice that ends before
    it starts or names a patient (it is shown to everyone and in a public feed)."""
    errors: dict[str, list[str]] = {}
    if notice.ends_at is not None and notice.ends_at < notice.starts_at:
        errors["ends_at"] = [_("Meddelandet slutar innan det börjar.")]
    for field in ("title", "text"):
        if looks_like_patient_number(getattr(notice, field)):
            errors[field] = [
                _("Skriv inget personnummer eller samordningsnummer i ett driftmeddelande.")
            ]
    if errors:
        raise ValidationError(errors)


def _banner_changed() -> None:
    # This process at once (and again after commit); other processes within 30 s.
    clear_notice_cache()
    transaction.on_commit(clear_notice_cache)


@transaction.atomic
def notice_create(
    *,
    actor: User,
    title: str,
    text: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None,
    client_token: UUID | None = None,
) -> Notice:
    """Publish a notice. The same form posted twice (the same `client_token`) publishes one."""
    _require_notice_admin(actor)
    if client_token is not None:
        earlier = Notice.objects.filter(client_token=client_token, created_by=actor).first()
        if earlier is not None:
            return earlier
    notice = Notice(
        title=title.strip(),
        text=text.strip(),
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
        client_token=client_token,
    )
    _check_notice(notice)
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        # The same form, posted twice at once: the other request published it.
        earlier = None
        if client_token is not None:
            earlier = Notice.objects.filter(client_token=client_token, created_by=actor).first()
        if earlier is None:
            raise
        return earlier
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        detail=f"Publicerade driftmeddelandet {notice.pk} ({notice.get_kind_display()})",
    )
    _banner_changed()
    return notice


@transaction.atomic
def notice_update(
    *,
    actor: User,
    notice: Notice,
    title: str,
    text: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None,
) -> Notice:
    _require_notice_admin(actor)
    locked = Notice.objects.select_for_update().filter(pk=notice.pk).first()
    if locked is None:
        raise ValidationError(_("Driftmeddelandet finns inte längre."), code="gone")
    locked.title = title.strip()
    locked.text = text.strip()
    locked.kind = kind
    locked.starts_at = starts_at
    locked.ends_at = ends_at
    _check_notice(locked)
    locked.save(update_fields=["title", "text", "kind", "starts_at", "ends_at"])
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        detail=f"Ändrade driftmeddelandet {locked.pk}",
    )
    _banner_changed()
    return locked


@transaction.atomic
def notice_end(*, actor: User, notice: Notice) -> Notice:
    """Ends the notice now; one not yet started is withdrawn (it starts and ends now)."""
    _require_notice_admin(actor)
    locked = Notice.objects.select_for_update().filter(pk=notice.pk).first()
    if locked is None:
        raise ValidationError(_("Driftmeddelandet finns inte längre."), code="gone")
    now = timezone.now()
    if locked.ends_at is not None and locked.ends_at <= now:
        return locked  # already over: nothing to end
    locked.starts_at = min(locked.starts_at, now)
    locked.ends_at = now
    locked.save(update_fields=["starts_at", "ends_at"])
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        detail=f"Avslutade driftmeddelandet {locked.pk}",
    )
    _banner_changed()
    return locked


@transaction.atomic
def notice_mark_read(*, user: User, notice: Notice) -> None:
    """The news no longer shows on the user's start page. Twice is once."""
    NoticeRead.objects.get_or_create(user=user, notice=notice)


# Help and e-learning (R23).


def self_test_complete(user: User) -> tuple[SelfTestCompletion, bool]:
    """Records that `user` answered the self-test all right; (the row, whether it is new).

    A second completion saves nothing: the row is unique per user, and get_or_create inside the
    transaction turns the loser of two posts at once (an IntegrityError on the constraint) into
    a read of the winner's row.
    """
    with transaction.atomic():
        return SelfTestCompletion.objects.get_or_create(user=user)


def tour_dismiss(user: User) -> None:
    """The start page's tour is not shown again; dismissing it twice changes nothing."""
    with transaction.atomic():
        TourDismissal.objects.get_or_create(user=user)
