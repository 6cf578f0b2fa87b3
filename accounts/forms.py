from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import Role
from accounts.selectors import sign_in_locked


class LoginForm(AuthenticationForm):
    """Django's sign-in form, which refuses to try the password once a username has failed too
    often (LOGIN_MAX_FAILURES within LOGIN_LOCK_MINUTES)."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and sign_in_locked(username):
            # Still logged as a failure: an attack that goes on keeps the lock on.
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=self.request
            )
            raise forms.ValidationError(
                _(
                    "För många misslyckade inloggningar. Vänta %(minutes)s minuter och försök "
                    "igen, eller kontakta din superanvändare."
                ),
                code="locked",
                params={"minutes": settings.LOGIN_LOCK_MINUTES},
            )
        return super().clean()


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
