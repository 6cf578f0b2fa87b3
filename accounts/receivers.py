"""Receivers of Django's own sign-in signals: the access-log rows for signing in and out, and
what a fresh session needs to know. The only signals the project listens to; accounts writes
every other log row of its own where the change happens (services.py, views.py, sso.py)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Max
from django.dispatch import receiver
from django.utils.translation import ngettext

from accounts import agreement
from accounts.http import client_address
from accounts.models import AgreementAcceptance, Notification, User
from audit.models import AccessLog
from audit.services import access_log


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


@receiver(user_logged_in)
def log_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    access_log(action=AccessLog.Action.LOGIN, user=user)


@receiver(user_logged_out)
def log_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        access_log(action=AccessLog.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def log_login_failed(
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


@receiver(user_logged_in)
def remember_agreement_and_announce_notifications(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    accepted = AgreementAcceptance.objects.filter(user=user).aggregate(v=Max("version"))["v"]
    session[agreement.SESSION_KEY] = accepted or 0
    unread = Notification.objects.unread().filter(user=user).count()
    if unread:
        messages.info(
            request,
            ngettext(
                "Du har %(count)d ny avisering under Aviseringar.",
                "Du har %(count)d nya aviseringar under Aviseringar.",
                unread,
            )
            % {"count": unread},
            fail_silently=True,
        )
