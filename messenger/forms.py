import re
import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import NoPatientNumber, no_markup, no_patient_number
from audit.models import AccessLog
from mailboxes.models import Mailbox
from messenger.log_control import LogQuery
from messenger.log_review import LOG_REVIEW_MAX_ROWS, NOTE_MAX, RANDOM_MAX_DAYS, Sample
from messenger.models import (
    MAX_REPLY_WINDOW_HOURS,
    Category,
    Delivery,
    JournalLink,
    LogReview,
    LogReviewItem,
    Notice,
)
from messenger.patients import normalise_patient_id
from messenger.selectors import STATE_OVERDUE, STATE_UNANSWERED, STATE_UNREAD
from messenger.statistics import MAX_MONTHS, months_between
from messenger.support import MAX_TEXT

MAX_BODY = 10_000


class PatientField(forms.CharField):
    """A personnummer or samordningsnummer in any usual written form, cleaned to 12 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("label", _("Patientens personnummer eller samordningsnummer"))
        kwargs.setdefault("help_text", _("ÅÅÅÅMMDD-NNNN. Visas i sin helhet bara i ärendet."))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return normalise_patient_id(text) if text else ""


class TokenForm(forms.Form):
    # One token per rendered form: posting the same form twice sends once.
    client_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("client_token") is None:
            # Missing or broken, the token is the whole form's problem: a hidden field's own
            # error would read "(Dolt fält client_token) …", which tells the user nothing.
            self.errors.pop("client_token", None)
            self.add_error(
                None,
                ValidationError(
                    _("Formuläret är för gammalt. Ladda om sidan och försök igen."),
                    code="no_token",
                ),
            )
        return data


class CategorySelect(forms.Select):
    """Marks each category that asks no action ("För kännedom", whatever it is called now), so
    the page shows its R8 warning only when one is chosen (CSS :has, no script)."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        category = getattr(option["value"], "instance", None)
        if isinstance(category, Category) and not category.requires_action:
            option["attrs"]["data-fyi"] = "true"
        return option


class ComposeForm(TokenForm):
    recipient = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(),
        label=_("Till"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Välj vilken funktionsbrevlåda meddelandet ska till."),
            "invalid_choice": _("Mottagaren finns inte eller är stängd. Välj en annan."),
        },
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        widget=CategorySelect,
        label=_("Kategori"),
        empty_label=_("Välj kategori"),
        error_messages={
            "required": _("Välj en kategori."),
            "invalid_choice": _("Kategorin finns inte. Välj en i listan."),
        },
    )
    fyi_understood = forms.BooleanField(
        required=False,
        label=_(
            "Jag förstår att ”För kännedom” inte leder till någon åtgärd och att det inte får "
            "innebära någon risk för patienten om meddelandet aldrig läses."
        ),
    )
    # Clinical text is full of "<" ("Hb <lågt"): no check for markup in what people write, the
    # templates escape it. Only the journal-link reference, an identifier, refuses markup.
    subject = forms.CharField(label=_("Ämne"), max_length=200, validators=[no_patient_number])
    patient = PatientField()
    body = forms.CharField(
        label=_("Meddelande"),
        max_length=MAX_BODY,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Skriv en tydlig fråga eller ett tydligt syfte."),
        error_messages={
            "min_length": _("Skriv en tydlig fråga eller ett syfte (minst 10 tecken).")
        },
    )

    def __init__(self, *args: Any, sender: Mailbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Mailbox.objects.active()
            .functional()
            .exclude(pk=sender.pk)
            .select_related("organisation")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        category = data.get("category")
        if category is not None and not category.requires_action and not data.get("fyi_understood"):
            self.add_error(
                "fyi_understood",
                _(
                    "Bekräfta att ”För kännedom” inte kräver någon åtgärd, eller välj en annan "
                    "kategori."
                ),
            )
        return data


class ReplyForm(TokenForm):
    body = forms.CharField(
        label=_("Svar"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Skriv ett svar innan du skickar.")},
    )


class FollowUpForm(forms.Form):
    """R9: the asking side took the matter up by phone; what was said goes into the history."""

    note = forms.CharField(
        label=_("Vad sades i telefon?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Skriv kort vad som sades i telefon.")},
    )


class ColleagueField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name())


class ForwardForm(TokenForm):
    colleague = ColleagueField(
        queryset=User.objects.none(),
        label=_("Kollega"),
        empty_label=_("Välj kollega"),
        error_messages={
            "required": _("Välj vem ärendet ska till."),
            "invalid_choice": _(
                "Personen har inget konto med egen brevlåda här. Använd en annan kanal."
            ),
        },
    )
    colleague_told = forms.BooleanField(
        required=False, label=_("Jag har informerat kollegan om att ärendet skickas till hen.")
    )
    comment = forms.CharField(
        label=_("Kommentar (valfri)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["colleague"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = candidates

    def clean_colleague_told(self) -> bool:
        told = bool(self.cleaned_data.get("colleague_told"))
        if not told:
            raise ValidationError(
                _("Bekräfta att kollegan vet om att ärendet skickas till hen."), code="not_told"
            )
        return told


class JournalLinkForm(TokenForm):
    kind = forms.ChoiceField(
        label=_("Typ"), choices=JournalLink.Kind.choices, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("Rubrik"), max_length=200)
    # An identifier in the record system, never prose: markup there is a mistake.
    reference = forms.CharField(
        label=_("Referens i journalsystemet"),
        max_length=200,
        validators=[no_markup],
        help_text=_("Anteckningens eller listans id i journalen. Innehållet kopieras aldrig hit."),
    )

    def __init__(self, *args: Any, medication_list: bool = True, **kwargs: Any) -> None:
        """Without `medication_list` (a region unit that is no health centre, R11), journal
        notes only."""
        super().__init__(*args, **kwargs)
        if not medication_list:
            field = self.fields["kind"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(JournalLink.Kind.JOURNAL_NOTE, JournalLink.Kind.JOURNAL_NOTE.label)]
            field.initial = JournalLink.Kind.JOURNAL_NOTE


class MoveForm(forms.Form):
    folder = forms.ChoiceField()

    def __init__(self, *args: Any, delivery: Delivery, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["folder"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = delivery.folder_choices()


class SearchForm(forms.Form):
    patient = PatientField(required=False, help_text="")
    text = forms.CharField(
        label=_("Fritext i ämne och meddelanden"), required=False, max_length=200
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        label=_("Kategori"),
        empty_label=_("Alla kategorier"),
        error_messages={"invalid_choice": _("Kategorin finns inte. Välj en i listan.")},
    )
    state = forms.ChoiceField(
        label=_("Läge"),
        required=False,
        choices=[
            ("", _("Alla")),
            (STATE_UNANSWERED, _("Obesvarade")),
            (STATE_OVERDUE, _("Försenade")),
            (STATE_UNREAD, _("Olästa")),
        ],
    )

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if text and not re.search(r"\w", text):
            raise ValidationError(_("Skriv minst ett ord att söka på."), code="no_words")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not any(
            data.get(k) for k in ("patient", "text", "category", "state")
        ):
            raise ValidationError(_("Fyll i minst ett sökvillkor."), code="empty")
        return data


class CategoryForm(forms.Form):
    """A category as system administrators edit it (R7). The rules themselves (the reply window's
    range, none on a category asking no action, a name not taken) are the model's and the
    service's; the form only reads the fields."""

    name = forms.CharField(
        label=_("Namn"), max_length=100, error_messages={"required": _("Ange kategorins namn.")}
    )
    requires_action = forms.BooleanField(
        label=_("Kräver åtgärd av mottagaren"),
        required=False,
        help_text=_("Utan åtgärd är meddelandet bara för kännedom och har ingen svarstid."),
    )
    reply_window_hours = forms.IntegerField(
        label=_("Svarstid i timmar"),
        required=False,
        help_text=_("Från 1 till 336 timmar. Tomt: 72 timmar."),
        validators=Category._meta.get_field("reply_window_hours").validators,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_REPLY_WINDOW_HOURS}),
        error_messages={
            "invalid": _("Ange svarstiden som ett helt antal timmar, till exempel 48.")
        },
    )


class CategoryEditForm(CategoryForm):
    place = forms.IntegerField(
        label=_("Plats i listan"),
        help_text=_("1 står först i listan när man väljer kategori."),
        error_messages={
            "required": _("Ange kategorins plats i listan."),
            "invalid": _("Ange platsen som ett heltal, till exempel 1."),
        },
    )

    field_order = ["name", "place", "requires_action", "reply_window_hours"]


class LegalHoldForm(forms.Form):
    thread_number = forms.IntegerField(
        label=_("Ärendenummer"),
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": _("Ange ärendets nummer."),
            "invalid": _("Ärendenumret är ett heltal, till exempel 1234."),
            "min_value": _("Ärendenumret är ett heltal, till exempel 1234."),
            "max_value": _("Det finns inget ärende med det numret."),
        },
    )
    reason = forms.CharField(
        label=_("Skäl"),
        help_text=_("Till exempel ett tillsynsärende eller en begäran om utlämnande."),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange skälet till att ärendet ska bevaras.")},
    )


def _refuse_backwards(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValidationError(_("Perioden slutar innan den börjar."), code="backwards")


def _refuse_beyond_the_log(start: date, end: date) -> None:
    """A period of the access log no longer than the log is kept (R18)."""
    years = settings.AUDIT_RETENTION_YEARS
    if end - start > timedelta(days=366 * years):
        raise ValidationError(
            _("Perioden får vara högst %(years)s år, så länge loggen sparas."),
            code="too_long",
            params={"years": years},
        )


class LogFilterForm(forms.Form):
    """Log control's filter (R18). Posted, never in a URL: it may hold a patient's number."""

    patient = PatientField(required=False, help_text="")
    person = forms.CharField(
        label=_("Person (namn eller del av namn)"), required=False, max_length=100
    )
    mailbox = forms.ChoiceField(label=_("Brevlåda"), required=False)
    action = forms.ChoiceField(
        label=_("Händelse"),
        required=False,
        choices=[("", _("Alla händelser")), *AccessLog.Action.choices],
        error_messages={"invalid_choice": _("Händelsen finns inte. Välj en i listan.")},
    )
    start = forms.DateField(
        label=_("Från och med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Till och med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, mailbox_names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mailbox_field = self.fields["mailbox"]
        assert isinstance(mailbox_field, forms.ChoiceField)
        mailbox_field.choices = [("", _("Alla brevlådor")), *((n, n) for n in mailbox_names)]
        mailbox_field.error_messages["invalid_choice"] = _(
            "Brevlådan hör inte till din organisation. Välj en i listan."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        _refuse_backwards(start, end)
        if start:
            _refuse_beyond_the_log(start, end or timezone.localdate())
        return data

    def query(self) -> LogQuery:
        data = self.cleaned_data
        return LogQuery(
            patient_id=data.get("patient", ""),
            person=data.get("person", "").strip(),
            mailbox=data.get("mailbox", ""),
            action=data.get("action", ""),
            start=data.get("start"),
            end=data.get("end"),
        )


class ExtractForm(LogFilterForm):
    """A patient's log extract: the patient is required, the rest of the filter is not offered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, mailbox_names=[], **kwargs)
        for name in ("person", "mailbox", "action"):
            del self.fields[name]
        self.fields["patient"].required = True
        self.fields["patient"].error_messages["required"] = _(
            "Ange patientens personnummer eller samordningsnummer."
        )


class LogReviewStartForm(forms.Form):
    """What a systematic review draws (R18): a random sample, the reads outside office hours,
    or one person's reads, always within a period."""

    kind = forms.ChoiceField(
        label=_("Urval"),
        choices=LogReview.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Välj vilket urval som ska granskas."),
            "invalid_choice": _("Välj ett av urvalen i listan."),
        },
    )
    start = forms.DateField(
        label=_("Från och med"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Ange periodens första dag.")},
    )
    end = forms.DateField(
        label=_("Till och med"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Ange periodens sista dag.")},
    )
    size = forms.IntegerField(
        label=_("Antal läsningar (slumpmässigt urval)"),
        required=False,
        min_value=1,
        max_value=LOG_REVIEW_MAX_ROWS,
        error_messages={
            "min_value": _("Urvalet ska vara 1–500 läsningar."),
            "max_value": _("Urvalet ska vara 1–500 läsningar."),
            "invalid": _("Ange antalet läsningar som en siffra, 1–500."),
        },
    )
    person = forms.CharField(
        label=_("Personens namn (en persons läsningar)"),
        help_text=_("Hela namnet, som det står i loggen."),
        required=False,
        max_length=300,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, start, end = data.get("kind"), data.get("start"), data.get("end")
        _refuse_backwards(start, end)
        if kind == LogReview.Kind.RANDOM:
            if not data.get("size") and "size" not in self.errors:
                self.add_error("size", _("Ange hur många läsningar som ska dras, 1–500."))
            if start and end and (end - start).days >= RANDOM_MAX_DAYS:
                raise ValidationError(
                    _("Ett slumpmässigt urval dras ur högst ett år. Välj en kortare period."),
                    code="too_long",
                )
        if start and end:
            _refuse_beyond_the_log(start, end)
        if kind == LogReview.Kind.PERSON and not data.get("person", "").strip():
            self.add_error("person", _("Ange personens namn."))
        return data

    def sample(self) -> Sample:
        data = self.cleaned_data
        return Sample(
            kind=data["kind"],
            start=data["start"],
            end=data["end"],
            size=data.get("size"),
            person=data.get("person", "").strip(),
        )


class LogReviewMarkForm(forms.Form):
    """One row of a review marked OK or Utreds, with a note."""

    verdict = forms.ChoiceField(
        label=_("Bedömning"),
        choices=[
            (LogReviewItem.Verdict.OK, LogReviewItem.Verdict.OK.label),
            (LogReviewItem.Verdict.INVESTIGATE, LogReviewItem.Verdict.INVESTIGATE.label),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Välj OK eller Utreds."),
            "invalid_choice": _("Välj OK eller Utreds."),
        },
    )
    note = forms.CharField(
        label=_("Anteckning"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": _(
                "Anteckningen får vara högst %(limit_value)d tecken (den har %(show_value)d)."
            )
        },
    )


# Notices are shown to everyone and in a public feed: never a patient in them.
no_patient_number_in_notice = NoPatientNumber(
    _("Skriv inget personnummer eller samordningsnummer i ett driftmeddelande.")
)


class NoticeForm(forms.Form):
    """A notice about the system (R20) as system administrators write it. Times are read in
    Stockholm time, as the pages show them."""

    title = forms.CharField(
        label=_("Rubrik"),
        max_length=150,
        validators=[no_patient_number_in_notice],
        error_messages={"required": _("Ange en rubrik.")},
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        validators=[no_patient_number_in_notice],
        error_messages={"required": _("Skriv meddelandets text.")},
    )
    kind = forms.ChoiceField(label=_("Typ"), choices=Notice.Kind.choices)
    starts_at = forms.DateTimeField(
        label=_("Börjar"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Ange när meddelandet börjar gälla."),
            "invalid": _("Ange tiden som ÅÅÅÅ-MM-DD TT:MM."),
        },
    )
    ends_at = forms.DateTimeField(
        label=_("Slutar"),
        required=False,
        help_text=_("Tomt: gäller tills vidare."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Ange tiden som ÅÅÅÅ-MM-DD TT:MM.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("Meddelandet slutar innan det börjar."))
        return data


class NewNoticeForm(NoticeForm, TokenForm):
    """A new notice: posted twice (a double click), it is published once."""


class FaultReportForm(TokenForm):
    """A fault report (R22). The service refuses a personnummer and a mailbox not granted."""

    what_happened = forms.CharField(
        label=_("Vad hände?"),
        help_text=_(
            "Beskriv felet: vad du gjorde, vad som hände och vad du väntade dig. "
            "Skriv inga patientuppgifter."
        ),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Beskriv vad som hände."),
            "max_length": _("Beskriv felet med högst 2000 tecken."),
        },
    )
    happened_at = forms.DateTimeField(
        label=_("När hände det?"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Ange när felet hände."),
            "invalid": _("Ange datum och tid, till exempel 2026-12-01 14:30."),
        },
    )
    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(),
        label=_("Vilken brevlåda gäller det?"),
        required=False,
        empty_label=_("Ingen särskild brevlåda"),
        error_messages={
            "invalid_choice": _(
                "Du har inte behörighet till den brevlådan. Välj en av dina brevlådor."
            )
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mailbox"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Mailbox.objects.granted_to(user).order_by("name")
        self.fields["happened_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean_happened_at(self) -> Any:
        value = self.cleaned_data["happened_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise ValidationError(_("Felet kan inte ha hänt i framtiden."), code="future")
        return value


class FaultReportReplyForm(forms.Form):
    """A superuser's or administrator's answer, or a word with a closing or an escalation."""

    text = forms.CharField(
        label=_("Svar"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Skriv högst 2000 tecken.")},
    )


class StatisticsForm(forms.Form):
    """The statistics period (R19), whole months from `start` to `end`; the system administrator
    also picks an organisation, or none for the whole region. Read from GET: no patient data."""

    start = forms.DateField(
        label=_("Från och med månad"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={
            "required": _("Ange periodens första månad."),
            "invalid": _("Ange månaden som år-månad, till exempel 2027-01."),
        },
    )
    end = forms.DateField(
        label=_("Till och med månad"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={
            "required": _("Ange periodens sista månad."),
            "invalid": _("Ange månaden som år-månad, till exempel 2027-12."),
        },
    )

    def __init__(self, *args: Any, organisations: Any = None, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        if organisations is not None:
            self.fields["organisation"] = forms.ModelChoiceField(
                label=_("Organisation"),
                queryset=organisations,
                required=False,
                empty_label=_("Hela regionen"),
                error_messages={"invalid_choice": _("Välj en organisation i listan.")},
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if end < start:
            raise forms.ValidationError(_("Periodens sista månad är före den första."))
        if end.replace(day=1) > self.today.replace(day=1):
            raise forms.ValidationError(_("Perioden kan inte sluta i framtiden."))
        if months_between(start, end) > MAX_MONTHS:
            raise forms.ValidationError(
                _("Perioden kan vara högst %(months)s månader.") % {"months": MAX_MONTHS}
            )
        return cleaned
