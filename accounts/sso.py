"""Single sign-on (R25) with OpenID Connect, on top of mozilla-django-oidc.

The region's identity provider proves who someone is (SITHS); the app only lets in a person the
catalogue sync already made, found by the HSA id in the claim OIDC_HSA_CLAIM, never by name or
e-mail, and never creates one. Anything that does not hold up (an unknown person, a forged state,
a reused code, a token for another client, a missing claim) ends on one Swedish page, with an
access-log row (SSO_REFUSED) and no session.

A successful sign-in goes through django.contrib.auth.login(), so every user_logged_in receiver
runs as for a password, and the session is marked with AUTH_METHOD_KEY = "oidc" (exempt from the
second factor of password sign-in; its logout goes through the provider's end_session).
"""

import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.models import User, hsa_id_validator
from accounts.selectors import get_person_by_hsa_id
from audit.models import AccessLog
from audit.services import access_log

logger = logging.getLogger(__name__)

AUTH_METHOD_KEY = "auth_method"
AUTH_METHOD_OIDC = "oidc"
# Where mozilla-django-oidc keeps the id token (OIDC_STORE_ID_TOKEN): a session key, no secret.
ID_TOKEN_KEY = "oidc_id_token"  # noqa: S105


class Reason:
    """Why a sign-in was refused: picks the text of the refusal page (the `skal` parameter)."""

    UNKNOWN = "okand"  # the catalogue does not know the person, or not as active
    CLAIM = "hsa-id"  # no usable HSA id in the tokens
    FAILED = "fel"  # state, nonce, code or token did not hold up; the provider said no

    ALL = (UNKNOWN, CLAIM, FAILED)


class Refusal(Exception):  # noqa: N818  (a verdict, not an error of ours)
    """Why the backend said no; the callback turns it into a log row and the refusal page.

    Not a SuspiciousOperation: mozilla-django-oidc swallows those in get_or_create_user."""

    def __init__(self, reason: str, detail: str, hsa_id: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.hsa_id = hsa_id


class HsaIdBackend(OIDCAuthenticationBackend):
    """Signs in the active person whose HSA id the provider vouches for; creates nobody."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback passes a nonce: a password sign-in never reaches the provider, even
        # with ?code=…&state=… in its URL.
        if request is None or "nonce" not in kwargs:
            return None
        try:
            user: User | None = super().authenticate(request, **kwargs)
            return user
        except Refusal as refusal:
            request.sso_refusal = refusal  # type: ignore[attr-defined]
        except requests.HTTPError as exc:
            request.sso_refusal = Refusal(  # type: ignore[attr-defined]
                Reason.FAILED, f"identitetsleverantören svarade {_provider_error(exc)}"
            )
        except requests.RequestException:
            logger.warning("identity provider unreachable", exc_info=True)
            request.sso_refusal = Refusal(  # type: ignore[attr-defined]
                Reason.FAILED, "identitetsleverantören gick inte att nå"
            )
        except (SuspiciousOperation, jwt.InvalidTokenError) as exc:
            logger.warning("id token refused: %s", exc)
            request.sso_refusal = Refusal(  # type: ignore[attr-defined]
                Reason.FAILED, "id-token kunde inte verifieras"
            )
        except Exception:
            # The provider's answers are outside input: whatever in them trips the library is
            # a refusal on our page, never a 500.
            logger.exception("identity provider response not understood")
            request.sso_refusal = Refusal(  # type: ignore[attr-defined]
                Reason.FAILED, "identitetsleverantörens svar gick inte att tolka"
            )
        return None

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's signing key. RFC 7515 makes `kid` optional: a token without one is
        accepted only when the provider publishes exactly one key for its algorithm."""
        header = jwt.get_unverified_header(token)
        if "kid" in header:
            key: jwt.PyJWK = super().retrieve_matching_jwk(token)
            return key
        response = requests.get(settings.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        keys = [
            jwk
            for jwk in response.json().get("keys", [])
            if jwk.get("use", "sig") == "sig"
            and jwk.get("alg", header.get("alg")) == header.get("alg")
        ]
        if len(keys) != 1:
            raise SuspiciousOperation("id token without kid, and not exactly one signing key")
        return jwt.PyJWK(keys[0])

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature, expiry and nonce; the audience and issuer it
        leaves to us (it decodes with verify_aud off)."""
        try:
            payload: dict[str, Any] = super().verify_token(token, **kwargs)
        except jwt.ExpiredSignatureError:
            raise Refusal(Reason.FAILED, "id-token har gått ut") from None
        except SuspiciousOperation as exc:
            if "Nonce" in str(exc):
                raise Refusal(Reason.FAILED, "nonce stämmer inte med inloggningens") from None
            raise
        if "exp" not in payload:
            # pyjwt checks an expiry only when there is one; OpenID Connect requires it.
            raise Refusal(Reason.FAILED, "id-token saknar giltighetstid (exp)")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        client_id = settings.OIDC_RP_CLIENT_ID
        if client_id not in audiences or (len(audiences) > 1 and payload.get("azp") != client_id):
            raise Refusal(Reason.FAILED, "id-token utfärdat för en annan klient (aud)")
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise Refusal(Reason.FAILED, "id-token från en annan utfärdare (iss)")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise Refusal(Reason.FAILED, "userinfo gäller en annan person än id-token (sub)")
        # The signed id token is the better witness; userinfo fills in what it lacks.
        claim = settings.OIDC_HSA_CLAIM
        if claim in payload:
            claims[claim] = payload[claim]
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        hsa_id = claims.get(settings.OIDC_HSA_CLAIM)
        if not isinstance(hsa_id, str) or not hsa_id:
            raise Refusal(Reason.CLAIM, f"inget HSA-id i claim {settings.OIDC_HSA_CLAIM}")
        try:
            hsa_id_validator(hsa_id)
        except ValidationError:
            raise Refusal(Reason.CLAIM, "HSA-id:t har fel form") from None
        return True

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        self.verify_claims(claims)
        hsa_id: str = claims[settings.OIDC_HSA_CLAIM]
        person = get_person_by_hsa_id(hsa_id)
        if person is None:
            raise Refusal(Reason.UNKNOWN, "okänt i katalogen", hsa_id)
        if not person.is_active:
            raise Refusal(Reason.UNKNOWN, "personen är inaktiverad", hsa_id)
        if not person.active_employments:  # type: ignore[attr-defined]
            raise Refusal(Reason.UNKNOWN, "ingen pågående anställning", hsa_id)
        return person

    def get_user(self, user_id: int) -> User | None:
        # Django's rule, which the library's own get_user skips: a deactivated person's
        # session ends at their next request.
        user: User | None = ModelBackend.get_user(self, user_id)
        return user


def _provider_error(exc: requests.HTTPError) -> str:
    """`HTTP 400 invalid_grant`: the status and OAuth error code, never the response body."""
    response = exc.response
    if response is None:
        return "med ett fel"
    try:
        error = str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        error = ""
    code = error if re.fullmatch(r"[a-z_]{1,40}", error) else ""
    return f"HTTP {response.status_code} {code}".strip()


def _require_sso() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404


def _refuse(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    # The HSA id is the only thing about the person the row keeps: never a name or e-mail.
    prefix = f"HSA-id {refusal.hsa_id}: " if refusal.hsa_id else ""
    access_log(action=AccessLog.Action.SSO_REFUSED, detail=prefix + refusal.detail)
    if request.user.is_authenticated:
        auth.logout(request)
    return HttpResponseRedirect(
        reverse("accounts:sso_refused") + "?" + urlencode({"skal": refusal.reason})
    )


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    """Sends the browser to the identity provider with a fresh state, nonce and PKCE verifier."""
    _require_sso()
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    response: HttpResponse = OIDCAuthenticationRequestView.as_view()(request)
    return response


class _CallbackView(OIDCAuthenticationCallbackView):
    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        self.request.session[AUTH_METHOD_KEY] = AUTH_METHOD_OIDC
        return response

    def login_failure(self) -> HttpResponse:
        refusal = getattr(self.request, "sso_refusal", None)
        if refusal is None:
            error = self.request.GET.get("error", "")
            if error:
                code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "okänt fel"
                refusal = Refusal(Reason.FAILED, f"identitetsleverantören svarade {code}")
            else:
                refusal = Refusal(Reason.FAILED, "ingen påbörjad inloggning i sessionen")
        return _refuse(self.request, refusal)


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the identity provider sends the browser back with a code and our state."""
    _require_sso()
    try:
        response: HttpResponse = _CallbackView.as_view()(request)
    except SuspiciousOperation:
        # The library's answer to a state this session never sent: a forged or replayed one.
        return _refuse(request, Refusal(Reason.FAILED, "okänd state"))
    return response


@require_GET
def sso_refused_page(request: HttpRequest) -> HttpResponse:
    _require_sso()
    reason = request.GET.get("skal", "")
    return render(
        request,
        "accounts/sso_refused.html",
        {"reason": reason if reason in Reason.ALL else Reason.FAILED},
        status=403,
    )


def provider_logout_url(request: HttpRequest) -> str:
    """The provider's end_session, which comes back to our login page (RP-initiated logout)."""
    endpoint: str = settings.OIDC_OP_LOGOUT_ENDPOINT
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login")),
    }
    id_token = request.session.get(ID_TOKEN_KEY)
    if id_token:
        params["id_token_hint"] = id_token
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Signs out; a single sign-on session also at the identity provider, so the next person
    at a shared computer is not signed in as the last one."""
    target = resolve_url(settings.LOGOUT_REDIRECT_URL)
    if request.user.is_authenticated:
        if settings.OIDC_ENABLED and request.session.get(AUTH_METHOD_KEY) == AUTH_METHOD_OIDC:
            target = provider_logout_url(request)
        auth.logout(request)
    return HttpResponseRedirect(target)


def password_login_gate(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """With PASSWORD_LOGIN off, the password form is not shown and a posted one is refused
    before any password is looked at."""

    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and not settings.PASSWORD_LOGIN:
            messages.error(
                request,
                _("Inloggning med lösenord är avstängd. Logga in med SITHS-kort."),
            )
            return redirect("accounts:login")
        return view(request, *args, **kwargs)

    return gated
