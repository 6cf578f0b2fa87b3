from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.agreement import CURRENT_VERSION
from accounts.models import Role


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
