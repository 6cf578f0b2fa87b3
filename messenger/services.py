from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Employment, User
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import Mailbox
from messenger.models import Category, Delivery, Message, Thread


def _message_create(
    *,
    thread: Thread,
    author: User,
    employment: Employment,
    mailbox: Mailbox,
    body: str,
    now: datetime,
) -> Message:
    return Message.objects.create(
        thread=thread,
        author=author,
        author_name=author.display_name(),
        author_profession=employment.profession,
        author_organisation=employment.organisation.name,
        sender_mailbox=mailbox,
        body=body,
        sent_at=now,
    )


@transaction.atomic
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
) -> Thread:
    """Send a new message: a thread in the recipient's inbox and the sender's Skickat."""
    now = timezone.now()
    window = category.reply_window()
    thread = Thread.objects.create(
        category=category,
        subject=subject,
        patient_id=patient_id,
        sender_mailbox=sender_mailbox,
        recipient_mailbox=recipient_mailbox,
        created_at=now,
        last_message_at=now,
        reply_due_at=now + window if window else None,
    )
    _message_create(
        thread=thread,
        author=author,
        employment=employment,
        mailbox=sender_mailbox,
        body=body,
        now=now,
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                thread=thread, mailbox=sender_mailbox, folder=Delivery.Folder.SENT, read_at=now
            ),
            Delivery(thread=thread, mailbox=recipient_mailbox, folder=Delivery.Folder.INBOX),
        ]
    )
    access_log(
        action=AccessLog.Action.SEND,
        user=author,
        organisation_name=employment.organisation.name,
        mailbox_name=sender_mailbox.name,
        thread_id=thread.pk,
        patient_id=patient_id,
    )
    return thread


@transaction.atomic
def message_reply(
    *, author: User, employment: Employment, thread: Thread, mailbox: Mailbox, body: str
) -> Message:
    """Reply in a thread from one of its mailboxes; the recipient's first reply answers it."""
    now = timezone.now()
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    message = _message_create(
        thread=thread, author=author, employment=employment, mailbox=mailbox, body=body, now=now
    )
    thread.last_message_at = now
    fields = ["last_message_at"]
    if thread.answered_at is None and mailbox.pk == thread.recipient_mailbox_id:
        thread.answered_at = now
        fields.append("answered_at")
    thread.save(update_fields=fields)
    # Everyone else holding the thread sees it as unread again, back in their inbox.
    Delivery.objects.filter(thread=thread).exclude(mailbox=mailbox).update(
        read_at=None, folder=Delivery.Folder.INBOX
    )
    Delivery.objects.filter(thread=thread, mailbox=mailbox).update(read_at=now)
    access_log(
        action=AccessLog.Action.REPLY,
        user=author,
        organisation_name=employment.organisation.name,
        mailbox_name=mailbox.name,
        thread_id=thread.pk,
        patient_id=thread.patient_id,
    )
    return message
