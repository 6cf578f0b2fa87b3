"""What the subject check takes for a personnummer, and what it leaves alone."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.validators import looks_like_patient_number, no_patient_number

WRITTEN_AS_A_PERSONNUMMER = [
    "Recept 19121212-1212",
    "Recept 19121212–1212",  # en dash, as a word processor makes of the hyphen
    "Recept 19121212—1212",  # em dash
    "Recept 191212−1212",  # minus sign
    "Recept 19121212\u00a01212",  # non-breaking space, from a copied document
    "Recept 191212\u202f1212",  # narrow non-breaking space
    "Recept 191212 1212",
    "Recept 19 12 12-12 12",
    "Recept 1912 12 12 – 1212",
    "Recept 121212+1212",  # someone 100 or older
    "Recept 191212121212",
    "Recept 1212121212",
    "Recept 19121272-1212",  # samordningsnummer: the day plus 60
    "Ang.19121212-1212:",
]

ORDINARY_SUBJECTS = [
    "Besök 2026-12-01",
    "Besök 2026-12-01 12:00",
    "Ring 054-540 00 00",
    "Ring 070-123 45 67",
    "Ring 010-123 45 67",
    "Ordernummer 1234567890",  # ten digits, but no date in them
    "Remiss 12345",
    "Dos 12 12 12",
    "CRP <ref 5, Hb <lågt",
]


@pytest.mark.parametrize("subject", WRITTEN_AS_A_PERSONNUMMER)
def test_a_personnummer_however_written_is_refused(subject):
    assert looks_like_patient_number(subject)
    with pytest.raises(ValidationError) as caught:
        no_patient_number(subject)
    with translation.override("sv"):  # another test may have left English on
        assert caught.value.messages == [
            "Skriv inte personnummer i ämnet. Patienten anges i patientfältet."
        ]


@pytest.mark.parametrize("subject", ORDINARY_SUBJECTS)
def test_dates_phone_numbers_and_other_figures_pass(subject):
    assert not looks_like_patient_number(subject)
    no_patient_number(subject)


def test_ten_digits_in_a_row_holding_a_date_are_refused_even_as_a_phone_number():
    # The boundary, chosen: a phone number written without its groups reads as a personnummer.
    assert looks_like_patient_number("Ring 0701234567")
    assert looks_like_patient_number("Besök 2026-12-01 1200")
