from django.db.models import OuterRef, Subquery
from django.http import Http404

from accounts.models import User
from mailboxes.models import AccessGrant, Mailbox


def current_level(user: User, mailbox_ref: str = "pk") -> Subquery:
    """The user's current grant level on the outer query's mailbox (None without a grant)."""
    return Subquery(
        AccessGrant.objects.current()
        .filter(user=user, mailbox=OuterRef(mailbox_ref))
        .order_by("-level")
        .values("level")[:1]
    )


def grant_level(row: object) -> int:
    """The `grant_level` a selector annotated on a mailbox or delivery (0: none)."""
    return int(getattr(row, "grant_level", 0) or 0)


def get_mailbox_for_user(user: User, pk: int, *, level: int = AccessGrant.Level.READ) -> Mailbox:
    """The mailbox if the user holds a current grant of at least `level` on it; 404 otherwise.

    Outsiders learn nothing, not even that the mailbox exists. The mailbox comes annotated with
    `grant_level`, the user's level on it.
    """
    mailbox = (
        Mailbox.objects.select_related("organisation")
        .annotate(grant_level=current_level(user))
        .filter(pk=pk, grant_level__gte=level)
        .first()
    )
    if mailbox is None:
        raise Http404
    return mailbox
