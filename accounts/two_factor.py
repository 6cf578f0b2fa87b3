"""The second factor of a password sign-in: a one-time code from an authenticator app (TOTP,
django-otp) or one of ten one-time recovery codes.

A correct password alone does not sign anyone in when a second factor is due: the password page
keeps only the pending user's id and the time in the session (`pending_start`), and the code
page calls Django's login() once a code passes (`sign_in_complete`), so everything that listens
to user_logged_in (the access log, the agreement gate) runs as for any sign-in. Single sign-on
never comes this way: the identity provider asks for its own second factor.
"""

import base64
import secrets
import time
from binascii import unhexlify
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import RecoveryCodeDevice, User, recovery_code_digest
from accounts.throttle import sign_in_succeeded
from audit.models import AccessLog
from audit.services import access_log

PENDING_KEY = "two_factor_pending"
NEW_KEY_KEY = "two_factor_new_key"
RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Autentiseringsapp"
# Codes from one step before and after the server's clock are accepted: phones drift.
TOLERANCE_STEPS = 1


# --- Questions -------------------------------------------------------------------------------


def totp_device_of(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def two_factor_required(user: User) -> bool:
    """A password sign-in asks for a code when the user has an authenticator app, and from
    everyone when REQUIRE_2FA is on."""
    return settings.REQUIRE_2FA or totp_device_of(user) is not None


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def is_password_session(request: HttpRequest) -> bool:
    """Signed in with a password here, not by single sign-on: the password and the second factor
    are this app's to manage."""
    user: Any = request.user
    return request.session.get("auth_method") != "oidc" and user.has_usable_password()


def secret_for_display(key_hex: str) -> str:
    """The key as an authenticator app takes it typed in: base32, in groups of four."""
    text = base64.b32encode(unhexlify(key_hex)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user: User, key_hex: str) -> str:
    """The otpauth:// address the QR code carries (the key URI format authenticator apps read)."""
    return TOTPDevice(user=user, key=key_hex, name=DEVICE_NAME).config_url


def totp_matches(key_hex: str, code: str) -> int | None:
    """The time step a code from this key is valid at now (± TOLERANCE_STEPS), or None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = TOTP(unhexlify(key_hex))
    totp.time = time.time()
    if totp.verify(int(code), tolerance=TOLERANCE_STEPS):
        return int(totp.t())
    return None


# --- The pending sign-in, kept in the session ---------------------------------------------------


def pending_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "at": int(time.time()),
        "next": next_url,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
    }


def pending_user(request: HttpRequest) -> User | None:
    """The user whose password was right moments ago, or None (never started, or too old)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - pending["at"] > settings.TWO_FACTOR_PENDING_SECONDS:
        pending_clear(request)
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def pending_next(request: HttpRequest) -> str:
    return str(request.session.get(PENDING_KEY, {}).get("next", ""))


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)
    request.session.pop(NEW_KEY_KEY, None)


def sign_in_complete(request: HttpRequest, *, user: User, device: Device) -> None:
    """The second factor passed: sign in for real (a new session key), remember the device."""
    backend = request.session[PENDING_KEY]["backend"]
    pending_clear(request)
    sign_in_succeeded(request, user.username)
    login(request, user, backend=backend)
    otp_login(request, device)


def sign_in_failed(request: HttpRequest, user: User) -> None:
    """A wrong code: logged as a failed sign-in. The sign-in throttle counted the try already
    (`sign_in_wait` before the code was checked), and only `sign_in_complete` clears it."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )


def new_key_for(request: HttpRequest, user: User) -> str:
    """The secret of an authenticator app being set up, kept in the session (not the database)
    until a code from it proves the app has it, so reloading the page shows the same QR code."""
    held = request.session.get(NEW_KEY_KEY)
    if held and held["user"] == user.pk:
        return str(held["key"])
    key = random_hex(20)
    request.session[NEW_KEY_KEY] = {"user": user.pk, "key": key}
    return key


def new_key_forget(request: HttpRequest) -> None:
    request.session.pop(NEW_KEY_KEY, None)


# --- Writes ------------------------------------------------------------------------------------


@transaction.atomic
def two_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts `code` (six digits from the app, or an unused recovery code, which
    is used up), or None.

    Raises ValidationError while django-otp's own throttle holds the device (1, 2, 4 … seconds
    after each wrong code).
    """
    code = "".join(code.split())
    device: Device | None
    if code.isdigit():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("-pk")
            .first()
        )
    else:
        device = RecoveryCodeDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return None
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ValidationError(
            _("För många felaktiga koder i rad. Vänta en stund och försök igen."),
            code="throttled",
        )
    return device if device.verify_token(code) else None


@transaction.atomic
def totp_device_confirm(*, user: User, key_hex: str, code: str) -> list[str]:
    """Set up (or replace) the user's authenticator app once a code from it is right, with a new
    set of recovery codes; returns the codes, which are shown once and stored only hashed."""
    step = totp_matches(key_hex, code)
    if step is None:
        raise ValidationError(
            _("Koden stämmer inte. Kontrollera att appen visar koden för Funktionsbrevlådan."),
            code="wrong_code",
        )
    replaced = TOTPDevice.objects.filter(user=user).delete()[0] > 0
    # last_t: the code just typed cannot be used again to sign in.
    TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key_hex, confirmed=True, last_t=step)
    codes = _recovery_codes_replace(user)
    access_log(
        action=AccessLog.Action.OTP_SETUP,
        user=user,
        detail="Bytte autentiseringsapp" if replaced else "Aktiverade autentiseringsapp",
    )
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """A new set of recovery codes, the old ones void; needs a current code from the app."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    wrong = ValidationError(_("Koden från appen stämmer inte."), code="wrong_code")
    if device is None or not device.verify_is_allowed()[0]:
        raise wrong
    if not device.verify_token("".join(code.split())):
        raise wrong
    codes = _recovery_codes_replace(user)
    access_log(action=AccessLog.Action.OTP_SETUP, user=user, detail="Skapade nya reservkoder")
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Reservkoder", confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_digest(user.pk, code)) for code in codes
    )
    return codes


def _new_recovery_code() -> str:
    # 80 random bits, written as four groups of four (a–z, 2–7): easy to copy by hand.
    text = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


@transaction.atomic
def two_factor_reset(*, actor: User, user: User, reason: str) -> None:
    """A system administrator removes a person's authenticator app and recovery codes (a lost
    phone); the person sets up a new app at their next sign-in. Nobody resets their own."""
    if not actor.is_superuser:
        raise ValidationError(_("Bara systemförvaltare kan återställa tvåstegsverifiering."))
    if actor.pk == user.pk:
        raise ValidationError(_("Du kan inte återställa din egen tvåstegsverifiering."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    access_log(
        action=AccessLog.Action.OTP_RESET,
        user=actor,
        detail=f"Återställde tvåstegsverifiering för {user.display_name()} "
        f"({user.username}). Skäl: {reason}",
    )


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    """Set a new password (already checked by Django's validators) and log it."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    access_log(action=AccessLog.Action.PASSWORD_CHANGE, user=user)
