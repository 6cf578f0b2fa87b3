"""Swedish personal identity numbers and coordination numbers (samordningsnummer)."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_WRITTEN = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")


def luhn_ok(nine_digits_and_check: str) -> bool:
    total = 0
    for index, char in enumerate(nine_digits_and_check):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def normalise_patient_id(raw: str, *, today: date | None = None) -> str:
    """The 12-digit form of a personnummer or samordningsnummer written in any usual way.

    Accepts 19121212-1212, 191212121212, 121212-1212, 1212121212 and 121212+1212 (the plus marks
    someone 100 or older). Raises ValidationError with a Swedish message otherwise.
    """
    # Spaces go; dashes copied from a document (en dash, minus sign) count as the hyphen.
    text = re.sub(r"\s", "", raw or "")
    text = re.sub("[\u2010-\u2015\u2212]", "-", text)
    match = _WRITTEN.match(text)
    if not match:
        raise ValidationError(
            _("Ange personnummer eller samordningsnummer som ÅÅÅÅMMDD-NNNN."), code="format"
        )
    century, short, separator, tail = match.groups()
    if not luhn_ok(short + tail):
        raise ValidationError(
            _("Kontrollsiffran stämmer inte. Kontrollera numret."), code="checksum"
        )
    year2, month, day = int(short[:2]), int(short[2:4]), int(short[4:6])
    if day > 60:  # samordningsnummer: birth day plus 60
        day -= 60
    today = today or timezone.localdate()
    if century:
        year = int(century + short[:2])
    else:
        # The most recent birthday with these digits that is not after today, by the whole
        # date: on 30 March 2100, 000331 is 31 March 2000, someone of 99.
        year = (today.year // 100) * 100 + year2
        if (year, month, day) > (today.year, today.month, today.day):
            year -= 100
        if separator == "+":
            year -= 100
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationError(_("Datumet i numret finns inte."), code="date") from None
    if born > today:
        raise ValidationError(_("Födelsedatumet ligger i framtiden."), code="future")
    return f"{year:04d}{short[2:]}{tail}"


def mask_patient_id(patient_id: str) -> str:
    return f"{patient_id[:8]}-****"
