"""Forms of the system administrators' people pages (`accounts/admin_views.py`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class _OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class PersonForm(forms.Form):
    hsa_id = forms.CharField(
        label=_("HSA-id"),
        max_length=31,
        help_text=_("Personens HSA-id i katalogen, till exempel SE2321000016-P0123."),
        error_messages={"required": _("Ange personens HSA-id.")},
    )
    first_name = forms.CharField(
        label=_("Förnamn"), max_length=150, error_messages={"required": _("Ange förnamn.")}
    )
    last_name = forms.CharField(
        label=_("Efternamn"), max_length=150, error_messages={"required": _("Ange efternamn.")}
    )
    email = forms.EmailField(
        label=_("E-post"),
        required=False,
        error_messages={"invalid": _("Ange en giltig e-postadress.")},
    )
    organisation = _OrganisationChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.all(),
        error_messages={
            "required": _("Välj organisationen där personen är anställd."),
            "invalid_choice": _("Välj en organisation i listan."),
        },
    )
    profession = forms.CharField(
        label=_("Yrke"), max_length=100, error_messages={"required": _("Ange yrke.")}
    )


class EmploymentEndForm(forms.Form):
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför anställningen avslutas.")},
    )


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("Namn eller HSA-id"), max_length=100, required=False)
