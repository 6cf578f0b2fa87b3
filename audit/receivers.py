"""Sign-ins, sign-outs and organisation switches go into the access log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import Employment
from accounts.signals import organisation_switched
from audit.models import AccessLog
from audit.services import access_log


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    access_log(action=AccessLog.Action.LOGIN, user=user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        access_log(action=AccessLog.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # The username typed is kept (never the password) so brute force can be seen in the log.
    username = str(credentials.get("username", ""))[:150]
    access_log(action=AccessLog.Action.LOGIN_FAILED, detail=f"användarnamn: {username}")


@receiver(organisation_switched)
def on_organisation_switched(sender: Any, user: Any, employment: Employment, **kwargs: Any) -> None:
    access_log(
        action=AccessLog.Action.SWITCH_ORGANISATION,
        user=user,
        organisation_name=employment.organisation.name,
    )
