from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import Role
from accounts.throttle import sign_in_succeeded, sign_in_wait, wait_message
from accounts.two_factor import two_factor_required


class LoginForm(AuthenticationForm):
    """Django's sign-in form behind the sign-in throttle (accounts/throttle.py): each try is
    counted before the password is checked, and a try during a wait is refused unchecked."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # the missing field's own message; nothing is checked
        if self.request is None:
            raise ImproperlyConfigured("LoginForm needs the request: the throttle counts by it")
        wait = sign_in_wait(self.request, username)
        if wait:
            raise forms.ValidationError(wait_message(wait), code="throttled")
        cleaned_data = super().clean()
        # With a code still to come, the code page ends the count (two_factor.sign_in_complete):
        # a right password alone must not hand out fresh tries for guessing the code.
        if not two_factor_required(self.get_user()):
            sign_in_succeeded(self.request, username)
        return cleaned_data


class AgreementForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    accept = forms.BooleanField(
        label=_("Jag har läst sekretessförbindelsen och förbinder mig att följa den."),
        error_messages={"required": _("Kryssa i rutan för att godkänna sekretessförbindelsen.")},
    )

    def clean_version(self) -> int:
        version: int = self.cleaned_data["version"]
        if version != CURRENT_VERSION:
            raise forms.ValidationError(
                _("Sekretessförbindelsen har ändrats medan du läste. Läs den nya versionen.")
            )
        return version


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roller"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reason = forms.CharField(
        label=_("Skäl till ändringen"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför rollerna ändras.")},
    )


class OneTimeCodeForm(forms.Form):
    """The second step of a password sign-in: a code from the app or a recovery code."""

    code = forms.CharField(
        label=_("Engångskod"),
        max_length=40,
        help_text=_("Sex siffror från autentiseringsappen, eller en av dina reservkoder."),
        error_messages={"required": _("Ange koden från autentiseringsappen.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "autofocus": True}
        ),
    )


class AuthenticatorSetupForm(forms.Form):
    """A code from the newly added app proves it holds the secret; on the security page the
    current password is asked too, so an unattended session cannot move the second factor."""

    password = forms.CharField(
        label=_("Ditt nuvarande lösenord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Ange ditt nuvarande lösenord.")},
    )
    code = forms.CharField(
        label=_("Koden som appen visar"),
        max_length=10,
        error_messages={"required": _("Ange koden som appen visar.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, user: Any = None, ask_password: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        if not ask_password:
            del self.fields["password"]

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Lösenordet stämmer inte."), code="wrong_password")
        return password


class RecoveryCodesForm(forms.Form):
    code = forms.CharField(
        label=_("Koden som appen visar nu"),
        max_length=10,
        error_messages={"required": _("Ange koden som appen visar.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TwoFactorResetForm(forms.Form):
    reason = forms.CharField(
        label=_("Skäl till återställningen"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför tvåstegsverifieringen återställs.")},
    )
