from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import Employment, Organisation, Role, User
from audit.models import AccessLog
from audit.services import failed_login_detail


def sign_in_locked(username: str) -> bool:
    """Too many failed sign-ins with this username lately: LOGIN_MAX_FAILURES within
    LOGIN_LOCK_MINUTES, counted since the account's last successful sign-in.

    Counted by the username typed, so a name that exists and one that does not behave alike.
    """
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    last_login = User.objects.filter(username=username).values_list("last_login", flat=True).first()
    if last_login is not None and last_login > since:
        since = last_login
    failures = AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN_FAILED, at__gt=since, detail=failed_login_detail(username)
    )
    return failures.count() >= settings.LOGIN_MAX_FAILURES


def can_assign_roles(
    user: User, working: Employment | None, organisation: Organisation | int
) -> bool:
    """System administrators assign roles anywhere; an organisation's superusers in their own,
    and only while they work in it (R18, R22)."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    if user.is_superuser:
        return True
    return (
        working is not None
        and working.organisation_id == organisation_id
        and working.has_role(Role.SUPERUSER)
    )


def get_organisation_for_role_admin(
    user: User, working: Employment | None, organisation_id: int
) -> Organisation:
    if not can_assign_roles(user, working, organisation_id):
        raise Http404
    try:
        return Organisation.objects.get(pk=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404 from None


def get_employment_for_role_admin(
    user: User, working: Employment | None, employment_id: int
) -> Employment:
    employment = (
        Employment.objects.active()
        .select_related("user", "organisation")
        .filter(pk=employment_id)
        .first()
    )
    if employment is None or not can_assign_roles(user, working, employment.organisation_id):
        raise Http404
    return employment


def get_person_by_hsa_id(hsa_id: str) -> User | None:
    """The person single sign-on names by their HSA id, with `active_employments` counted, or
    None. Matched on the HSA id alone: never a name or an e-mail address, which two people
    can share or change."""
    return (
        User.objects.filter(hsa_id=hsa_id)
        .annotate(active_employments=Count("employments", filter=Q(employments__ended_at=None)))
        .first()
    )
