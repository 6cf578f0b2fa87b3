from django.db.models import Count, Prefetch, Q
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


def get_person_by_hsa_id(hsa_id: str) -> User | None:
    """The person single sign-on names by their HSA id, with `active_employments` counted, or
    None. Matched on the HSA id alone: never a name or an e-mail address, which two people
    can share or change."""
    return (
        User.objects.filter(hsa_id=hsa_id)
        .annotate(active_employments=Count("employments", filter=Q(employments__ended_at=None)))
        .first()
    )


# The system administrators' people pages (accounts/admin_views.py)

PEOPLE_PAGE_SIZE = 50


def people_for_admin(query: str) -> list[User]:
    """At most PEOPLE_PAGE_SIZE people whose name, username or HSA id contains `query`, with
    their ongoing jobs, for system administrators only."""
    people = User.objects.order_by("last_name", "first_name", "pk")
    for word in query.split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(hsa_id__icontains=word)
        )
    return list(
        people.prefetch_related(
            Prefetch(
                "employments",
                queryset=Employment.objects.active().select_related("organisation"),
                to_attr="ongoing",
            )
        )[:PEOPLE_PAGE_SIZE]
    )


def get_person_for_admin(user: User, pk: int) -> User:
    if not user.is_superuser:
        raise Http404
    person = User.objects.filter(pk=pk).first()
    if person is None:
        raise Http404
    return person


def get_employment_for_admin(user: User, pk: int) -> Employment:
    """An ongoing employment, for a system administrator to end; 404 for anyone else."""
    if not user.is_superuser:
        raise Http404
    employment = (
        Employment.objects.active().select_related("user", "organisation").filter(pk=pk).first()
    )
    if employment is None:
        raise Http404
    return employment
