from django.http import Http404

from accounts.models import User
from mailboxes.models import AccessGrant, Mailbox


def get_mailbox_for_user(user: User, pk: int, *, level: int = AccessGrant.Level.READ) -> Mailbox:
    """The mailbox if the user holds a current grant of at least `level` on it; 404 otherwise.

    Outsiders learn nothing, not even that the mailbox exists.
    """
    mailbox = (
        Mailbox.objects.select_related("organisation")
        .filter(
            pk=pk,
            grants__in=AccessGrant.objects.current().filter(user=user, level__gte=level),
        )
        .first()
    )
    if mailbox is None:
        raise Http404
    return mailbox


def mailboxes_for_user(user: User) -> list[Mailbox]:
    return list(Mailbox.objects.granted_to(user).select_related("organisation"))
