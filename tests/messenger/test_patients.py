from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from messenger.patients import mask_patient_id, normalise_patient_id
from tests.testdata import PATIENTS

TODAY = date(2026, 11, 22)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    "written",
    [
        "20000101-2384",
        "200001012384",
        "000101-2384",
        "0001012384",
        " 20000101 2384 ",
        "20000101\u20132384",  # an en dash, as pasted from a document
        "000101\u22122384",  # a minus sign
    ],
)
def test_it_reads_the_usual_written_forms(written):
    assert normalise_patient_id(written, today=TODAY) == "200001012384"


def test_every_skatteverket_test_number_is_valid():
    for number in PATIENTS:
        assert normalise_patient_id(number, today=TODAY) == number


def test_a_plus_sign_means_a_hundred_years_or_more():
    # 000101+2384 would be born 1900; checksum covers only the last ten digits.
    assert normalise_patient_id("000101+2384", today=TODAY) == "190001012384"


def test_ten_digits_name_the_most_recent_birthday_not_after_today():
    # 000331-2394 is Skatteverket's 20000331-2394. The day before the 100th birthday the person
    # is 99 and writes "-": born 2000, not 2100 in the future.
    with time_machine.travel(datetime(2100, 3, 30, 12, tzinfo=STOCKHOLM), tick=False):
        assert normalise_patient_id("000331-2394") == "200003312394"
    # On the birthday they turn 100 and write "+".
    with time_machine.travel(datetime(2100, 3, 31, 12, tzinfo=STOCKHOLM), tick=False):
        assert normalise_patient_id("000331+2394") == "200003312394"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("20000101-2385", "checksum"),  # deliberately wrong check digit
        ("2000-01-01", "format"),
        ("abc", "format"),
        ("", "format"),
        ("20000230-2380", "checksum"),
    ],
)
def test_it_rejects_bad_numbers_with_a_reason(written, code):
    with pytest.raises(ValidationError) as error:
        normalise_patient_id(written, today=TODAY)
    assert error.value.code == code


def test_a_future_birth_date_is_refused():
    with pytest.raises(ValidationError) as error:
        normalise_patient_id("200001012384", today=date(1999, 1, 1))
    assert error.value.code == "future"


def test_the_mask_keeps_only_the_birth_date():
    assert mask_patient_id("200001012384") == "20000101-****"
