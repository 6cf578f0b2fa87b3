from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url


def working_organisation(request: HttpRequest) -> dict[str, Any]:
    return {
        "employment": getattr(request, "employment", None),
        "employments": getattr(request, "employments", []),
    }


def sign_in(request: HttpRequest) -> dict[str, Any]:
    """Which ways to sign in the login page offers (single sign-on, the password form)."""
    return {"sso_enabled": settings.OIDC_ENABLED, "password_login": settings.PASSWORD_LOGIN}


def idle_warning(request: HttpRequest) -> dict[str, Any]:
    """What static/js/idle.js needs to warn before the idle timeout, for signed-in pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "idle_seconds": settings.SESSION_IDLE_SECONDS,
        "idle_passive_paths": " ".join(sorted(settings.SESSION_PASSIVE_PATHS)),
        "login_url": resolve_url(settings.LOGIN_URL),
    }
