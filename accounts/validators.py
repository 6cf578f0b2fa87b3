import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_TAG = re.compile(r"<\s*[a-zA-Z/!?]")
# Ten or twelve digits, with or without a separator: what a personnummer looks like in text.
_PATIENT_NUMBER = re.compile(r"(?<!\d)(\d{2})?\d{6}\s?[-+]?\s?\d{4}(?!\d)")


def no_markup(value: str) -> None:
    """Text only: anything that looks like an HTML tag or script is refused, not silently kept."""
    if _TAG.search(value or ""):
        raise ValidationError(
            _("Texten får inte innehålla HTML eller skript (till exempel <b> eller <script>)."),
            code="markup",
        )


def looks_like_patient_number(value: str) -> bool:
    """Whether the text holds something written like a personnummer or samordningsnummer."""
    return _PATIENT_NUMBER.search(value or "") is not None


def no_patient_number(value: str) -> None:
    """Subjects show in lists and titles, where the patient is masked: no personnummer there."""
    if looks_like_patient_number(value):
        raise ValidationError(
            _("Skriv inte personnummer i ämnet. Patienten anges i patientfältet."),
            code="patient_number",
        )
