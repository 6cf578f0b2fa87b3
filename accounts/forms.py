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
