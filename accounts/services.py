from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import AgreementAcceptance, Employment, Role, User
from accounts.selectors import can_assign_roles
from accounts.signals import agreement_accepted, roles_changed


@transaction.atomic
def agreement_accept(*, user: User, version: int) -> AgreementAcceptance:
    """Record that the user accepted this version of the confidentiality agreement (R17)."""
    if version != CURRENT_VERSION:
        raise ValidationError(
            _("Sekretessförbindelsen har ändrats medan du läste. Läs den nya versionen."),
            code="stale_version",
        )
    acceptance, created = AgreementAcceptance.objects.get_or_create(user=user, version=version)
    if created:
        agreement_accepted.send(sender=None, user=user, version=version)
    return acceptance


# The roles that open other people's access and other people's reading (R17, R18): a unit's
# superusers could otherwise give them to themselves or a friend, so the region gives them.
SYSTEM_ADMIN_ROLES = (Role.ACCESS_APPROVER, Role.LOG_REVIEWER)


@transaction.atomic
def employment_set_roles(
    *,
    actor: User,
    actor_employment: Employment | None,
    employment: Employment,
    roles: list[str],
    reason: str,
) -> Employment:
    """Give a person exactly these roles in the organisation of `employment` (R18, R22).

    Nobody changes their own roles, and only system administrators give or take access approver
    and log reviewer.
    """
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.ended_at is not None:
        raise ValidationError(_("Anställningen har upphört."), code="ended")
    if not can_assign_roles(actor, actor_employment, employment.organisation_id):
        raise ValidationError(
            _("Du får bara ändra roller i den organisation där du är superanvändare."),
            code="forbidden",
        )
    if not reason.strip():
        raise ValidationError(_("Ange varför rollerna ändras."), code="reason_required")
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError(_("Okänd roll."), code="unknown_role")
    # Stored in the order of Role, so equal sets compare equal.
    new_roles = [r for r in Role.values if r in roles]
    old_roles = list(employment.roles)
    if employment.user_id == actor.pk and set(new_roles) != set(old_roles):
        raise ValidationError(
            _("Ingen ändrar sina egna roller. Be en annan superanvändare eller förvaltningen."),
            code="own_roles",
        )
    changed = set(new_roles) ^ set(old_roles)
    if not actor.is_superuser and changed & set(SYSTEM_ADMIN_ROLES):
        raise ValidationError(
            _(
                "Behörighetsbeställare och loggkontrollant ges och tas bort av "
                "regionens systemförvaltare."
            ),
            code="system_admin_role",
        )
    if new_roles == [r for r in Role.values if r in old_roles]:
        return employment
    employment.roles = new_roles
    employment.save(update_fields=["roles"])
    roles_changed.send(
        sender=None,
        actor=actor,
        employment=employment,
        old_roles=old_roles,
        new_roles=new_roles,
        reason=reason.strip(),
    )
    return employment
