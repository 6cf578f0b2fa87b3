from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Employment, Role, User
from mailboxes.models import (
    AccessGrant,
    AccessRequest,
    Mailbox,
    MailboxCheck,
    MonitoringRoutine,
    local_midnight,
)


def grant_employment(row: object, employments: Iterable[Employment] = ()) -> Employment:
    """The job the user acts in within a mailbox: the employment of the grant that opened it.

    `row` is a mailbox or delivery a selector annotated with `grant_employment_id`. Not the
    working organisation the switcher chose (R18): Anna, a nurse at Karlstad and a district
    nurse at Vc Gripen, replying in Gripen's mailbox while working as Karlstad, signs and is
    logged as Gripen's district nurse. The grant only works while that employment is ongoing,
    so it is among the user's active `employments` the middleware loaded (no query), unless it
    ended a moment ago.
    """
    employment_id = getattr(row, "grant_employment_id", None)
    found = next((e for e in employments if e.pk == employment_id), None)
    if found is None and employment_id is not None:
        found = Employment.objects.select_related("organisation").filter(pk=employment_id).first()
    if found is None:
        raise Http404
    return found


def grant_holder_ids(mailbox: Mailbox) -> QuerySet[AccessGrant, int]:
    """The users whose grant on the mailbox works right now: the only ones who may monitor it."""
    return AccessGrant.objects.usable().filter(mailbox=mailbox).values_list("user_id", flat=True)


def grant_holders(mailbox: Mailbox) -> QuerySet[User]:
    """The people whose grant on the mailbox works right now."""
    return User.objects.filter(pk__in=grant_holder_ids(mailbox))


def mailbox_watchers(mailbox: Mailbox) -> list[User]:
    """Who is told when the mailbox needs looking at (R5): the monitors its routine names who
    still have access, or, without a routine or with none of them left, everyone with access."""
    holders = grant_holders(mailbox)
    monitors = list(holders.filter(monitored_mailboxes__mailbox=mailbox))
    return monitors or list(holders)


def organisation_superusers(organisation_id: int) -> QuerySet[User]:
    """The organisation's superusers (first-line support, R22) in a job there right now."""
    return User.objects.filter(
        is_active=True,
        employments__organisation_id=organisation_id,
        employments__ended_at__isnull=True,
        employments__roles__contains=[Role.SUPERUSER],
    ).distinct()


def checks_today(mailbox: Mailbox, now: datetime | None = None) -> list[MailboxCheck]:
    """Who checked the mailbox today (Stockholm time), earliest first."""
    day_start = local_midnight(timezone.localdate(now or timezone.now()))
    return list(MailboxCheck.objects.filter(mailbox=mailbox, at__gte=day_start).order_by("at"))


def grant_level(row: object) -> int:
    """The `grant_level` a selector annotated on a mailbox or delivery (0: none)."""
    return int(getattr(row, "grant_level", 0) or 0)


class Refused(Http404):
    """A door to a mailbox or a thread said no: the user holds no usable grant of the level
    asked on the mailbox, or the mailbox holds no such thread.

    A plain 404 to the user, the same page as any other; it carries the ids that were asked
    for, as the URL gave them, so that mailboxes.middleware.RefusedAccessLogMiddleware can write
    the attempt to the access log once the view, and any transaction in it, is over.
    """

    def __init__(self, *, mailbox_id: int, thread_id: int | None = None) -> None:
        super().__init__()
        self.mailbox_id = mailbox_id
        self.thread_id = thread_id


def get_mailbox_for_user(user: User, pk: int, *, level: int = AccessGrant.Level.READ) -> Mailbox:
    """The mailbox if the user holds a current grant of at least `level` on it; 404 otherwise.

    Outsiders learn nothing, not even that the mailbox exists; the refusal (Refused) is written
    to the access log by the middleware. The mailbox comes annotated with
    `grant_level`, the user's level on it, `grant_employment_id` (see grant_employment) and
    `grant_last_used_at` (see grant_mark_used).
    """
    # From the user's best usable grant on it, with the mailbox joined: one plain join, which
    # PostgreSQL plans and Django builds in a fraction of the time of the mailbox annotated with
    # the grant's level and employment as correlated subqueries.
    grant = (
        AccessGrant.objects.usable_by(user)
        .filter(mailbox_id=pk)
        .select_related("mailbox__organisation")
        .only("level", "employment_id", "last_used_at", "mailbox")
        .order_by("-level", "pk")
        .first()
    )
    if grant is None or grant.level < level:
        raise Refused(mailbox_id=pk)
    mailbox = grant.mailbox
    mailbox.grant_level = grant.level  # type: ignore[attr-defined]
    mailbox.grant_employment_id = grant.employment_id  # type: ignore[attr-defined]
    # So that grant_mark_used writes nothing, not even a query, within the hour.
    mailbox.grant_last_used_at = grant.last_used_at  # type: ignore[attr-defined]
    return mailbox


# Access administration (R17): every door raises 404 for those without the role.


def require_role(employment: Employment | None, role: str) -> Employment:
    """The working employment if it carries `role` in its organisation; 404 otherwise."""
    if employment is None or not employment.has_role(role):
        raise Http404
    return employment


def require_approver(employment: Employment | None) -> Employment:
    return require_role(employment, Role.ACCESS_APPROVER)


def require_log_reviewer(employment: Employment | None) -> Employment:
    """R18."""
    return require_role(employment, Role.LOG_REVIEWER)


def require_statistics_reader(employment: Employment | None) -> Employment:
    """R19."""
    return require_role(employment, Role.STATISTICS_READER)


def require_system_admin(user: User) -> None:
    if not user.is_superuser:
        raise Http404


def pending_requests_for(employment: Employment) -> QuerySet[AccessRequest]:
    return (
        AccessRequest.objects.pending()
        .filter(mailbox__organisation_id=employment.organisation_id)
        .select_related("mailbox", "applicant", "requested_by")
        .order_by("created_at")
    )


def get_request_for_approver(employment: Employment, pk: int) -> AccessRequest:
    access_request = (
        AccessRequest.objects.select_related(
            "mailbox__organisation", "applicant", "requested_by", "decided_by"
        )
        .filter(pk=pk, mailbox__organisation_id=employment.organisation_id)
        .first()
    )
    if access_request is None:
        raise Http404
    return access_request


def grants_for_review(employment: Employment) -> QuerySet[AccessGrant]:
    return (
        AccessGrant.objects.current()
        .filter(mailbox__organisation_id=employment.organisation_id, mailbox__kind="functional")
        .select_related("mailbox", "user", "granted_by", "employment__organisation")
        .order_by("mailbox__name", "user__last_name", "user__first_name")
    )


def get_grant_for_approver(employment: Employment, pk: int) -> AccessGrant:
    grant = grants_for_review(employment).filter(pk=pk).first()
    if grant is None:
        raise Http404
    return grant


def get_own_grant(user: User, pk: int) -> AccessGrant:
    # Only functional mailboxes: a personal mailbox's grant belongs to it for good.
    grant = (
        AccessGrant.objects.current()
        .filter(pk=pk, user=user, mailbox__kind="functional")
        .select_related("mailbox__organisation")
        .first()
    )
    if grant is None:
        raise Http404
    return grant


def get_mailbox_for_admin(user: User, pk: int) -> Mailbox:
    require_system_admin(user)
    mailbox = Mailbox.objects.functional().select_related("organisation").filter(pk=pk).first()
    if mailbox is None:
        raise Http404
    return mailbox


def may_edit_routine(user: User, employment: Employment | None, mailbox: Mailbox) -> bool:
    """System administrators edit every functional mailbox's local routine; a superuser edits
    those of the organisation they work in right now (R24: the unit writes its own routine).

    Anna, superuser at Karlstad, edits Karlstad's routine while working for Karlstad, but not
    Gripen's, nor Karlstad's after switching to her job in Arvika.
    """
    if not mailbox.is_functional:
        return False
    if user.is_superuser:
        return True
    return (
        employment is not None
        and employment.user_id == user.pk
        and employment.ended_at is None
        and employment.organisation_id == mailbox.organisation_id
        and employment.has_role(Role.SUPERUSER)
    )


def get_mailbox_for_routine_editor(user: User, employment: Employment | None, pk: int) -> Mailbox:
    """The functional mailbox whose routine the user may edit; 404 for everyone else."""
    mailbox = Mailbox.objects.functional().select_related("organisation").filter(pk=pk).first()
    if mailbox is None or not may_edit_routine(user, employment, mailbox):
        raise Http404
    return mailbox


def reserve_routines() -> list[MonitoringRoutine]:
    """Every open functional mailbox's reserve routine that says something (R21), by
    organisation and then mailbox name.

    All of the region, not only the user's usual counterparts: in an outage the unit may need
    to reach one it has never written to, the address lists do not name every counterpart,
    and the page shows names and phone numbers only, no patient data.
    """
    return list(
        MonitoringRoutine.objects.filter(
            mailbox__kind=Mailbox.Kind.FUNCTIONAL, mailbox__closed_at__isnull=True
        )
        .exclude(reserve_phone="", reserve_hours="", reserve_instructions="")
        .select_related("mailbox__organisation")
        .order_by("mailbox__organisation__name", "mailbox__name", "pk")
    )
