from typing import Any

from audit.models import AccessLog


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
