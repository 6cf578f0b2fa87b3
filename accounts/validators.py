import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

_TAG = re.compile(r"<\s*[a-zA-Z/!?]")

# What people put between the digits of a personnummer: spaces of every kind (the non-breaking
# and narrow ones a copied document brings, the zero-width ones too), the hyphen, the dashes a
# word processor makes of it (en, em, figure dash), the minus sign, and the plus of someone
# 100 or older. Up to three in a row: "19121212 – 1212".
_GAP = r"[\s\u200b-\u200d\u2060\ufeff\u2010-\u2015\u2212+\-]{0,3}"
# Digits in pairs, the way a personnummer is written whole or grouped: (CC)YY MM DD NN NN,
# with a real month and day (a samordningsnummer's day is the birth day plus 60). So an order
# number of ten digits passes, and so do phone numbers in their usual groups ("054-540 00 00").
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_PATIENT_NUMBER = re.compile(
    rf"(?<!\d)(?:\d\d{_GAP})?\d\d{_GAP}{_MONTH}{_GAP}{_DAY}{_GAP}\d\d{_GAP}\d\d(?!\d)"
)


def no_markup(value: str) -> None:
    """Text only: anything that looks like an HTML tag or script is refused, not silently kept.

    Only for identifiers, never for prose: clinical text is full of "<" ("CRP <5", "Hb <lågt"),
    and the templates escape it anyway.
    """
    if _TAG.search(value or ""):
        raise ValidationError(
            _("Texten får inte innehålla HTML eller skript (till exempel <b> eller <script>)."),
            code="markup",
        )


def looks_like_patient_number(value: str) -> bool:
    """Whether the text holds something written like a personnummer or samordningsnummer:
    ten or twelve digits holding a date, grouped and separated however people write them.

    "19121212–1212", "191212 1212" and "19 12 12-12 12" do; "2026-12-01", "2026-12-01 12:00"
    and "070-123 45 67" do not. Ten digits in a row that hold a date do, phone number or not:
    better asked to write it another way than a patient shown in every list.
    """
    return _PATIENT_NUMBER.search(value or "") is not None


class NoPatientNumber:
    """Refuses a text holding a personnummer, with a message that says where it shows."""

    def __init__(self, message: "str | _StrPromise") -> None:
        self.message = message

    def __call__(self, value: str) -> None:
        if looks_like_patient_number(value):
            raise ValidationError(self.message, code="patient_number")


# Subjects show in lists and titles, where the patient is masked: no personnummer there.
no_patient_number = NoPatientNumber(
    _("Skriv inte personnummer i ämnet. Patienten anges i patientfältet.")
)
