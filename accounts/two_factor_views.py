"""Pages of the second factor: the code asked after a password, setting up an authenticator app,
the user's own "Inloggning och säkerhet" page, and a system administrator's reset."""

from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.forms import (
    AuthenticatorSetupForm,
    OneTimeCodeForm,
    RecoveryCodesForm,
    TwoFactorResetForm,
)
from accounts.http import AppRequest
from accounts.models import User
from accounts.throttle import sign_in_wait, wait_message


class PasswordLoginView(LoginView):
    """Django's sign-in page; when a second factor is due, a right password leads to the code
    page instead of signing in."""

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor.two_factor_required(user):
            return super().form_valid(form)
        two_factor.pending_start(self.request, user=user, next_url=self.get_success_url())
        if two_factor.totp_device_of(user) is None:
            return HttpResponseRedirect(reverse("accounts:two_factor_setup"))
        return HttpResponseRedirect(reverse("accounts:two_factor"))


def _start_over(request: AppRequest, message: str) -> HttpResponse:
    two_factor.pending_clear(request)
    messages.error(request, message)
    return HttpResponseRedirect(reverse("accounts:login"))


def _expired(request: AppRequest) -> HttpResponse:
    return _start_over(request, _("Inloggningen tog för lång tid. Logga in igen."))


@never_cache
@require_http_methods(["GET", "POST"])
def code(request: AppRequest) -> HttpResponse:
    """Ange engångskod: the second step of a password sign-in."""
    user = two_factor.pending_user(request)
    if user is None:
        return _expired(request)
    if two_factor.totp_device_of(user) is None:
        return HttpResponseRedirect(reverse("accounts:two_factor_setup"))
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = sign_in_wait(request, user.username)
        if wait:
            # Nothing checked and nothing counted: the code stays where it is, to try again.
            messages.error(request, wait_message(wait))
            return HttpResponseRedirect(reverse("accounts:two_factor"))
        next_url = two_factor.pending_next(request)
        try:
            device = two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
            device = None
        if device is None:
            two_factor.sign_in_failed(request, user)
            if not form.errors:
                form.add_error("code", _("Koden stämmer inte. Försök igen med en ny kod."))
        else:
            two_factor.sign_in_complete(request, user=user, device=device)
            if not isinstance(device, TOTPDevice):
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "Du loggade in med en reservkod. Du har %(count)s kvar; skapa nya under "
                        "Inloggning och säkerhet."
                    )
                    % {"count": left},
                )
            return HttpResponseRedirect(next_url or reverse(settings.LOGIN_REDIRECT_URL))
    return render(
        request,
        "accounts/two_factor_code.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _qr_svg(uri: str) -> SafeString:
    # segno draws the QR code as SVG on the server: no script, no image request, CSP unchanged.
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR-kod för autentiseringsappen")
    )
    # Safe: segno writes the markup itself; the address is encoded into the drawing, not the text.
    return SafeString(svg)


def _setup_context(user: User, key: str, form: AuthenticatorSetupForm) -> dict[str, Any]:
    return {
        "form": form,
        "qr_svg": _qr_svg(two_factor.provisioning_uri(user, key)),
        "secret": two_factor.secret_for_display(key),
        "issuer": settings.OTP_TOTP_ISSUER,
        "account": user.username,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def setup_at_sign_in(request: AppRequest) -> HttpResponse:
    """REQUIRE_2FA is on and the person has no app yet: they set one up before getting in."""
    user = two_factor.pending_user(request)
    if user is None:
        return _expired(request)
    if two_factor.totp_device_of(user) is not None:
        return HttpResponseRedirect(reverse("accounts:two_factor"))
    key = two_factor.new_key_for(request, user)
    form = AuthenticatorSetupForm(request.POST or None, user=user, ask_password=False)
    if request.method == "POST" and form.is_valid():
        next_url = two_factor.pending_next(request)
        try:
            codes = two_factor.totp_device_confirm(
                user=user, key_hex=key, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            device = two_factor.totp_device_of(user)
            assert device is not None  # noqa: S101  (just created)
            two_factor.sign_in_complete(request, user=user, device=device)
            return _show_recovery_codes(
                request, codes, next_url or reverse(settings.LOGIN_REDIRECT_URL)
            )
    context = _setup_context(user, key, form)
    context["at_sign_in"] = True
    return render(
        request,
        "accounts/two_factor_setup.html",
        context,
        status=400 if form.errors else 200,
    )


def _show_recovery_codes(request: AppRequest, codes: list[str], next_url: str) -> HttpResponse:
    # Rendered in the answer to the POST itself and kept nowhere: the codes are shown once.
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": next_url, "hide_navigation": True},
    )


def _password_account(request: AppRequest) -> None:
    if not two_factor.is_password_session(request):
        raise Http404


def _security_page(
    request: AppRequest,
    *,
    password_form: PasswordChangeForm | None = None,
    codes_form: RecoveryCodesForm | None = None,
) -> HttpResponse:
    password_session = two_factor.is_password_session(request)
    device = two_factor.totp_device_of(request.user) if password_session else None
    return render(
        request,
        "accounts/security.html",
        {
            "password_session": password_session,
            "password_form": password_form or PasswordChangeForm(request.user),
            "codes_form": codes_form or RecoveryCodesForm(),
            "device": device,
            "codes_left": two_factor.recovery_codes_left(request.user) if device else 0,
            "require_2fa": settings.REQUIRE_2FA,
        },
        status=400
        if (password_form and password_form.errors) or (codes_form and codes_form.errors)
        else 200,
    )


@login_required
@require_GET
def security(request: AppRequest) -> HttpResponse:
    """Inloggning och säkerhet: password, authenticator app, recovery codes."""
    return _security_page(request)


@login_required
@require_POST
def password_change(request: AppRequest) -> HttpResponse:
    _password_account(request)
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _security_page(request, password_form=form)
    two_factor.password_change(user=request.user, new_password=form.cleaned_data["new_password1"])
    # Stay signed in here; sessions elsewhere end, as the old password's hash no longer matches.
    update_session_auth_hash(request, request.user)
    messages.success(request, _("Ditt lösenord är bytt."))
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_http_methods(["GET", "POST"])
def authenticator(request: AppRequest) -> HttpResponse:
    """Set up an authenticator app, or move to a new one (a new phone)."""
    _password_account(request)
    key = two_factor.new_key_for(request, request.user)
    form = AuthenticatorSetupForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_device_confirm(
                user=request.user, key_hex=key, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            two_factor.new_key_forget(request)
            device = two_factor.totp_device_of(request.user)
            assert device is not None  # noqa: S101  (just created)
            # The session now rests on the new app: the old one's device is gone.
            two_factor.otp_login(request, device)
            return _show_recovery_codes(request, codes, reverse("accounts:security"))
    context = _setup_context(request.user, key, form)
    context["replacing"] = two_factor.totp_device_of(request.user) is not None
    return render(
        request,
        "accounts/two_factor_setup.html",
        context,
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def recovery_codes(request: AppRequest) -> HttpResponse:
    _password_account(request)
    form = RecoveryCodesForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.recovery_codes_regenerate(
                user=request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            return _show_recovery_codes(request, codes, reverse("accounts:security"))
    return _security_page(request, codes_form=form)


def _require_system_admin(user: User) -> None:
    if not user.is_superuser:
        raise Http404


@login_required
@require_GET
def reset_search(request: AppRequest) -> HttpResponse:
    """A system administrator finds a person whose second factor must be reset (a lost phone)."""
    _require_system_admin(request.user)
    query = request.GET.get("q", "").strip()[:100]
    people: list[User] = []
    if query:
        people = list(
            User.objects.filter(
                Q(username__icontains=query)
                | Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(hsa_id__iexact=query)
            )
            .exclude(pk=request.user.pk)
            .annotate(
                has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
            )
            .order_by("last_name", "first_name", "username")[:25]
        )
    return render(
        request, "accounts/two_factor_reset_search.html", {"query": query, "people": people}
    )


@login_required
@require_http_methods(["GET", "POST"])
def reset(request: AppRequest, user_id: int) -> HttpResponse:
    _require_system_admin(request.user)
    # Nobody resets their own second factor this way: for them the page does not exist.
    person = User.objects.exclude(pk=request.user.pk).filter(pk=user_id).first()
    if person is None:
        raise Http404
    form = TwoFactorResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.two_factor_reset(
                actor=request.user, user=person, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Tvåstegsverifieringen för %(name)s är återställd. Personen ställer in en ny "
                    "app vid nästa inloggning."
                )
                % {"name": person.display_name()},
            )
            return HttpResponseRedirect(reverse("accounts_admin:two_factor_reset_search"))
    return render(
        request,
        "accounts/two_factor_reset.html",
        {
            "person": person,
            "form": form,
            "has_app": two_factor.totp_device_of(person) is not None,
            "codes_left": two_factor.recovery_codes_left(person),
        },
        status=400 if form.errors else 200,
    )
