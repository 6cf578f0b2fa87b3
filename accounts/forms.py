from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import Role
from accounts.throttle import sign_in_succeeded, sign_in_wait, wait_message


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
        # A second factor still to come moves this after its code (see accounts/throttle.py).
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
