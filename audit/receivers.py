"""Sign-ins, sign-outs, organisation switches, agreement acceptances and role changes go into
the access log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.http import client_address
from accounts.models import Employment, Role, User
from accounts.signals import (
    agreement_accepted,
    organisation_switched,
    roles_changed,
    sso_refused,
)
from audit.models import AccessLog
from audit.services import access_log, failed_login_detail


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    access_log(action=AccessLog.Action.LOGIN, user=user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        access_log(action=AccessLog.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if "username" not in credentials:
        return  # a refused single sign-on, already logged as SSO_REFUSED with its reason
    username = str(credentials.get("username", ""))
    user = User.objects.filter(username=username).first() if username else None
    address = client_address(request) if request is not None else ""
    access_log(
        action=AccessLog.Action.LOGIN_FAILED,
        user=user,
        detail=failed_login_detail(known=user is not None, address=address),
    )


@receiver(organisation_switched)
def on_organisation_switched(sender: Any, user: Any, employment: Employment, **kwargs: Any) -> None:
    access_log(
        action=AccessLog.Action.SWITCH_ORGANISATION,
        user=user,
        organisation_name=employment.organisation.name,
    )


@receiver(agreement_accepted)
def on_agreement_accepted(sender: Any, user: Any, version: int, **kwargs: Any) -> None:
    access_log(
        action=AccessLog.Action.ADMIN,
        user=user,
        detail=f"Godkände sekretessförbindelsen version {version}",
    )


@receiver(roles_changed)
def on_roles_changed(
    sender: Any,
    actor: Any,
    employment: Employment,
    old_roles: list[str],
    new_roles: list[str],
    reason: str,
    **kwargs: Any,
) -> None:
    def names(roles: list[str]) -> str:
        return ", ".join(str(Role(r).label) for r in roles if r in Role.values) or "inga"

    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=employment.organisation.name,
        detail=(
            f"Ändrade roller för {employment.user.display_name()}: {names(old_roles)} → "
            f"{names(new_roles)}. Skäl: {reason}"
        ),
    )


@receiver(sso_refused)
def on_sso_refused(sender: Any, hsa_id: str, detail: str, **kwargs: Any) -> None:
    # The HSA id is the only thing about the person the row keeps: never a name or e-mail.
    prefix = f"HSA-id {hsa_id}: " if hsa_id else ""
    access_log(action=AccessLog.Action.SSO_REFUSED, detail=prefix + detail)
