from django.db.models import Count, Q, QuerySet

from accounts.models import User
from mailboxes.models import Mailbox
from messenger.models import Delivery


def mailboxes_with_unread(user: User) -> QuerySet[Mailbox]:
    """The user's mailboxes, each with `unread`: threads in its inbox not yet opened there."""
    return (
        Mailbox.objects.granted_to(user)
        .select_related("organisation")
        .annotate(
            unread=Count(
                "deliveries",
                filter=Q(
                    deliveries__folder=Delivery.Folder.INBOX,
                    deliveries__read_at__isnull=True,
                ),
            )
        )
        .order_by("kind", "name")
    )


def inbox_deliveries(
    mailbox: Mailbox, *, folder: str = Delivery.Folder.INBOX
) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(mailbox=mailbox, folder=folder)
        .select_related("thread__category", "thread__sender_mailbox", "thread__recipient_mailbox")
        .order_by("-thread__last_message_at", "-thread_id")
    )
