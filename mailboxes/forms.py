import re
from datetime import date, time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Employment, Organisation, Role, User
from accounts.validators import NoPatientNumber
from mailboxes.models import AccessGrant, AddressList, Mailbox
from mailboxes.selectors import grant_holder_ids
from mailboxes.services import check_date_ahead

# Swedish date formats also accept US m/d/Y (PITFALLS): ISO only.
ISO_DATE = ["%Y-%m-%d"]


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name()} ({obj.username})"


class _MailboxChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Mailbox) -> str:
        return obj.name


def _date_field(label: Any, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=ISO_DATE,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
        error_messages={"invalid": _("Skriv datumet som ÅÅÅÅ-MM-DD.")},
    )


def _date_ahead(day: date | None) -> date | None:
    check_date_ahead(day)
    return day


class AccessRequestForm(forms.Form):
    applicant = _PersonChoiceField(
        label=_("Ansökan gäller"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Som behörighetsbeställare kan du ansöka åt en kollega."),
    )
    mailbox = _MailboxChoiceField(
        label=_("Brevlåda"),
        queryset=Mailbox.objects.active().functional(),
        error_messages={"required": _("Välj en brevlåda.")},
    )
    level = forms.TypedChoiceField(
        label=_("Behörighet"),
        choices=AccessGrant.Level.choices,
        coerce=int,
        initial=AccessGrant.Level.READ,
        widget=forms.RadioSelect,
    )
    justification = forms.CharField(
        label=_("Motivering"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Varför behöver personen behörigheten i sitt arbete? Skriv inga patientuppgifter."
        ),
        error_messages={"required": _("Motivera varför behörigheten behövs.")},
    )
    requested_until = _date_field(
        _("Behövs till och med"), _("Lämna tomt om behovet inte har något slutdatum.")
    )

    def __init__(self, *args: Any, user: User, employment: Employment | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        if employment is not None and employment.has_role(Role.ACCESS_APPROVER):
            field = self.fields["applicant"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = User.objects.filter(
                employments__in=Employment.objects.active().filter(
                    organisation_id=employment.organisation_id
                ),
                is_active=True,
            ).order_by("last_name", "first_name")
            field.empty_label = _("Mig själv")
        else:
            del self.fields["applicant"]

    def clean_requested_until(self) -> date | None:
        return _date_ahead(self.cleaned_data.get("requested_until"))

    def chosen_applicant(self) -> User:
        return self.cleaned_data.get("applicant") or self.user


APPROVE = "approve"
DENY = "deny"


class DecisionForm(forms.Form):
    risk_assessed = forms.BooleanField(
        label=_(
            "Jag har gjort en behovs- och riskanalys: jag har prövat om personen behöver "
            "behörigheten i sitt arbete och bedömt riskerna."
        ),
        error_messages={"required": _("Bekräfta att behovs- och riskanalysen är gjord.")},
    )
    risk_note = forms.CharField(
        label=_("Behovs- och riskbedömning"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Skriv behovs- och riskbedömningen.")},
    )
    reason = forms.CharField(
        label=_("Motivering av beslutet"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Motivera beslutet.")},
    )
    valid_until = _date_field(
        _("Behörigheten gäller till och med"), _("Lämna tomt för en behörighet utan slutdatum.")
    )

    def __init__(self, *args: Any, decision: str | None = None, **kwargs: Any):
        # Which button was pressed: Bevilja (approve) or Avslå (deny).
        super().__init__(*args, **kwargs)
        self.decision = decision

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.decision not in (APPROVE, DENY):
            raise forms.ValidationError(_("Välj att bevilja eller avslå."), code="decision")
        # The end date matters only to an approval: a denial is never held up by it.
        if self.decision == APPROVE:
            try:
                check_date_ahead(data.get("valid_until"))
            except forms.ValidationError as error:
                self.add_error("valid_until", error)
        return data


class GrantEndForm(forms.Form):
    NOW = "now"
    DATE = "date"
    when = forms.ChoiceField(
        label=_("När"),
        choices=[(NOW, _("Direkt")), (DATE, _("Från och med ett datum"))],
        initial=NOW,
        widget=forms.RadioSelect,
    )
    from_date = _date_field(_("Datum"), _("Behörigheten upphör när detta datum börjar."))
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför behörigheten avslutas.")},
    )

    def clean_from_date(self) -> date | None:
        return _date_ahead(self.cleaned_data.get("from_date"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        missing = cleaned.get("when") == self.DATE and not cleaned.get("from_date")
        if missing and "from_date" not in self.errors:
            self.add_error("from_date", _("Välj datumet då behörigheten ska upphöra."))
        if cleaned.get("when") == self.NOW:
            cleaned["from_date"] = None
        return cleaned


class _OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class MailboxForm(forms.Form):
    organisation = _OrganisationChoiceField(
        label=_("Organisation som äger brevlådan"),
        queryset=Organisation.objects.all(),
        error_messages={"required": _("Välj organisation.")},
    )
    name = forms.CharField(
        label=_("Namn"),
        max_length=200,
        help_text=_(
            "Slutar med ”(FBL)”. Vårdcentralens brevlåda för kommunerna heter ”Vc Ort"
            " Allmänmedicinska mottagningen (FBL)”; vårdcentralens andra brevlådor får andra namn."
        ),
        error_messages={"required": _("Ange brevlådans namn.")},
    )
    hsa_id = forms.CharField(label=_("HSA-id"), max_length=31, required=False)
    phone = forms.CharField(label=_("Telefon"), max_length=40, required=False)


class MailboxEditForm(MailboxForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The owning organisation is fixed once the mailbox exists.
        del self.fields["organisation"]


def _display_name(user: User) -> str:
    return user.display_name()


_LIST_SEPARATORS = re.compile(r"[,;\s]+")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _ListField(forms.CharField):
    """A list typed as text, items separated by commas (or semicolons, or spaces)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(self.format_item(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().to_python(value) or ""
        # The length limit is on the text typed, not on the list it becomes.
        super().run_validators(text)
        return sorted({self.parse_item(item) for item in _LIST_SEPARATORS.split(text) if item})

    def run_validators(self, value: Any) -> None:
        """Run on the text, in to_python."""

    def format_item(self, item: Any) -> str:
        raise NotImplementedError

    def parse_item(self, item: str) -> Any:
        raise NotImplementedError


class CheckTimesField(_ListField):
    def format_item(self, item: time) -> str:
        return f"{item:%H:%M}"

    def parse_item(self, item: str) -> time:
        match = _TIME.match(item)
        if match is None:
            raise forms.ValidationError(
                _(
                    "”%(value)s” är inte en tid. Skriv tiderna som TT:MM med kommatecken "
                    "emellan, till exempel 10:00, 15:00."
                ),
                code="invalid",
                params={"value": item},
            )
        return time(int(match[1]), int(match[2]))


class ClosedDaysField(_ListField):
    def format_item(self, item: date) -> str:
        return f"{item:%Y-%m-%d}"

    def parse_item(self, item: str) -> date:
        # ISO only, and checked before fromisoformat, which also takes 20261228 and weeks.
        try:
            if _ISO_DATE.match(item):
                return date.fromisoformat(item)
        except ValueError:
            pass
        raise forms.ValidationError(
            _(
                "”%(value)s” är inte ett datum. Skriv dagarna som ÅÅÅÅ-MM-DD med kommatecken "
                "emellan, till exempel 2026-12-28."
            ),
            code="invalid",
            params={"value": item},
        )


class RoutineForm(forms.Form):
    monitors = forms.ModelMultipleChoiceField(
        label=_("Bevakare"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Utsedda att bevaka brevlådan varje förmiddag och eftermiddag."),
    )
    check_times = CheckTimesField(
        label=_("Bevakas klockan"),
        max_length=200,
        help_text=_(
            "Klockslag på arbetsdagar, med kommatecken emellan, till exempel 10:00, 15:00. "
            "Den som inte hunnit bevaka brevlådan till en tid larmas, liksom "
            "organisationens superanvändare."
        ),
        error_messages={
            "required": _("Ange minst en tid då brevlådan bevakas, till exempel 10:00, 15:00.")
        },
    )
    closed_days = ClosedDaysField(
        label=_("Stängda dagar"),
        max_length=2000,
        required=False,
        help_text=_(
            "Dagar då enheten är stängd utöver helger och helgdagar, till exempel en klämdag. "
            "Skriv ÅÅÅÅ-MM-DD med kommatecken emellan. De dagarna larmas inte."
        ),
    )
    emptied_by = forms.CharField(
        label=_("Tömmer gamla meddelanden"), max_length=300, required=False
    )
    holiday_cover = forms.CharField(
        label=_("Bevakning vid semester"), max_length=300, required=False
    )
    access_updated_by = forms.CharField(
        label=_("Uppdaterar behörigheter när personal byts"), max_length=300, required=False
    )
    reserve_phone = forms.CharField(
        label=_("Telefon vid driftstopp"),
        max_length=40,
        required=False,
        help_text=_("Reservrutin (R21): numret andra enheter ringer när systemet inte fungerar."),
    )
    reserve_hours = forms.CharField(
        label=_("Nås vid driftstopp"),
        max_length=200,
        required=False,
        help_text=_("Till exempel vardagar 08–17."),
    )
    reserve_instructions = forms.CharField(
        label=_("Gör så här vid driftstopp"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Vad andra enheter ska göra medan systemet inte fungerar. Bara vanlig text."),
    )

    def __init__(self, *args: Any, mailbox: Mailbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["monitors"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = User.objects.filter(pk__in=grant_holder_ids(mailbox)).order_by(
            "last_name", "first_name"
        )
        field.label_from_instance = _display_name  # type: ignore[method-assign,assignment]


class MailboxCloseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Jag förstår att brevlådan stängs för alltid och inte kan öppnas igen."),
        error_messages={"required": _("Bekräfta att brevlådan ska stängas för alltid.")},
    )
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför brevlådan stängs.")},
    )


class AddressListAddForm(forms.Form):
    mailbox = _MailboxChoiceField(
        label=_("Lägg till brevlåda"),
        queryset=Mailbox.objects.none(),
        error_messages={"required": _("Välj en brevlåda.")},
    )

    def __init__(self, *args: Any, address_list: AddressList, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mailbox"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Mailbox.objects.active()
            .functional()
            .filter(organisation__kind=Organisation.Kind.HEALTH_CENTRE)
            .exclude(pk__in=address_list.entries.values("mailbox_id"))
        )


class AbsenceForm(forms.Form):
    until = _date_field(
        _("Frånvarande till och med"),
        _("Lämna tomt när du är tillbaka. Kollegor som vill vidarebefordra till dig ser det."),
    )
    note = forms.CharField(
        label=_("Meddelande till kollegor (valfritt)"),
        max_length=300,
        required=False,
        help_text=_("Till exempel vem som tar dina ärenden. Inga patientuppgifter."),
        # Shown to colleagues about to forward any thread, not only this patient's.
        validators=[
            NoPatientNumber(
                _("Skriv inte personnummer i frånvaromeddelandet. Kollegor ser det i alla ärenden.")
            )
        ],
    )

    def clean_until(self) -> date | None:
        return _date_ahead(self.cleaned_data.get("until"))
