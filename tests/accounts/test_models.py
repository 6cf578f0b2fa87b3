import pytest
from django.core.exceptions import ValidationError

from accounts.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "hsa_id", ["SE2321000016-7N1K", "SE1234567890-abc123", "SE0000000001-" + "A" * 18]
)
def test_it_accepts_hsa_ids(hsa_id):
    org = Organisation(kind="municipality", name="X", hsa_id=hsa_id, region="R")
    org.full_clean()


@pytest.mark.parametrize(
    "hsa_id",
    [
        "SE232100001-7N1K",  # nine digits
        "SE23210000166-7N1K",  # eleven digits
        "se2321000016-7N1K",  # lower-case country
        "SE2321000016_7N1K",  # wrong separator
        "SE2321000016-",  # nothing after the dash
        "SE2321000016-ÅÄÖ",  # not letters a–z
        "SE0000000001-" + "A" * 19,  # 32 characters
    ],
)
def test_it_rejects_malformed_hsa_ids(hsa_id):
    org = Organisation(kind="municipality", name="X", hsa_id=hsa_id, region="R")
    with pytest.raises(ValidationError) as error:
        org.full_clean()
    assert "hsa_id" in error.value.message_dict
