from django.http import Http404

from accounts.models import Employment, Organisation, Role, User


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
