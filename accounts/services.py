from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import AgreementAcceptance, Employment, Role, User
from accounts.selectors import can_assign_roles
from audit.models import AccessLog
from audit.services import access_log


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
        access_log(
            action=AccessLog.Action.ADMIN,
            user=user,
            detail=f"Godkände sekretessförbindelsen version {version}",
        )
    return acceptance


@transaction.atomic
def organisation_switch_record(*, user: User, employment: Employment) -> None:
    """Log that `user` now works in the organisation of `employment` (R18). The view changes the
    session; this row says from when the person's reads count for that organisation."""
    access_log(
        action=AccessLog.Action.SWITCH_ORGANISATION,
        user=user,
        organisation_name=employment.organisation.name,
    )


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
    # In the same transaction as the change: a role nobody can account for is never saved.
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=employment.organisation.name,
        detail=(
            f"Ändrade roller för {employment.user.display_name()}: {_role_names(old_roles)} → "
            f"{_role_names(new_roles)}. Skäl: {reason.strip()}"
        ),
    )
    return employment


def _role_names(roles: list[str]) -> str:
    """The roles as the log row names them, in the order given; "inga" for none."""
    return ", ".join(str(Role(r).label) for r in roles if r in Role.values) or "inga"
