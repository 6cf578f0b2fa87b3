from typing import Any

from django.conf import settings
from django.http import HttpRequest


def working_organisation(request: HttpRequest) -> dict[str, Any]:
    return {
        "employment": getattr(request, "employment", None),
        "employments": getattr(request, "employments", []),
    }


def sign_in(request: HttpRequest) -> dict[str, Any]:
    """Which ways to sign in the login page offers (single sign-on, the password form)."""
    return {"sso_enabled": settings.OIDC_ENABLED, "password_login": settings.PASSWORD_LOGIN}
