from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AccessLog

# A crawler walking mailbox and thread ids must not fill the log: at most this many DENIED rows
# per user within any DENIED_LOG_WINDOW; past that, nothing more until the oldest falls out.
DENIED_LOG_LIMIT = 10
DENIED_LOG_WINDOW = timedelta(minutes=10)


def failed_login_detail(*, known: bool, address: str) -> str:
    """How a failed sign-in is described beside the user it names, if the username is theirs.

    Never the username typed: someone who types their password into the username field would
    leave it in the log. So an unknown name is only "okänt användarnamn"; a known one is the
    row's user.
    """
    parts = [] if known else ["okänt användarnamn"]
    if address:
        parts.append(f"från {address}")
    return ", ".join(parts)


def access_log(
    *,
    action: str,
    user: Any = None,
    organisation_name: str = "",
    mailbox_name: str = "",
    mailbox: Any = None,
    thread_id: int | None = None,
    patient_id: str = "",
    detail: str = "",
    actor_name: str = "",
) -> AccessLog:
    """Write one access-log row. Call it inside the transaction of the read or write it records.

    Given `mailbox` (with its organisation loaded), the row names it and its owning organisation.
    `actor_name` names a doer that is no user, such as the catalogue sync (`sync_people`).
    """
    mailbox_organisation_name = ""
    if mailbox is not None:
        mailbox_name = mailbox.name
        mailbox_organisation_name = mailbox.organisation.name
    return AccessLog.objects.create(
        action=action,
        user_id_snapshot=getattr(user, "pk", None),
        user_name=user.display_name() if user is not None and user.pk else actor_name,
        organisation_name=organisation_name,
        mailbox_name=mailbox_name,
        mailbox_organisation_name=mailbox_organisation_name,
        thread_id_snapshot=thread_id,
        patient_id=patient_id,
        detail=detail[:500],
    )


def access_denied_log(
    *, user: Any, organisation_name: str, mailbox_id: int, thread_id: int | None = None
) -> AccessLog | None:
    """Write that a door refused the user the mailbox or thread asked for (Patientdatalagen's log
    control), unless the user has had DENIED_LOG_LIMIT such rows within DENIED_LOG_WINDOW.

    The detail names the ids from the URL and nothing else: not the mailbox's name, not whether
    it exists, never a patient. The row tells no more than the address the user typed did.

    The limit is one look at the partial index on this user's DENIED rows, then the insert,
    without a lock: two refusals of the same user at the same moment may both see room for one
    more and both write. That overshoots by at most the user's concurrent requests, a few rows,
    which is acceptable; a lock would cost every refusal for nothing a crawler could exploit.
    """
    since = timezone.now() - DENIED_LOG_WINDOW
    with transaction.atomic():
        # Counted no further than the limit, unsorted: a few entries of the partial index.
        recent = AccessLog.objects.filter(
            action=AccessLog.Action.DENIED, user_id_snapshot=user.pk, at__gt=since
        ).order_by()[:DENIED_LOG_LIMIT]
        if recent.count() >= DENIED_LOG_LIMIT:
            return None
        detail = f"brevlåda {mailbox_id}"
        if thread_id is not None:
            detail += f", ärende {thread_id}"
        return access_log(
            action=AccessLog.Action.DENIED,
            user=user,
            organisation_name=organisation_name,
            thread_id=thread_id,
            detail=detail,
        )
