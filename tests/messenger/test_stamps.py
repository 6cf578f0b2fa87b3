"""The list's fast time filters write exactly what the date filter writes."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template

from messenger.templatetags.stamps import stamp, stamp_iso


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2027, 1, 15, 13, 5, tzinfo=UTC), "2027-01-15 14:05"),  # winter, UTC+1
        (datetime(2027, 7, 15, 13, 5, 59, 999, tzinfo=UTC), "2027-07-15 15:05"),  # summer, UTC+2
        (datetime(2027, 3, 28, 0, 59, tzinfo=UTC), "2027-03-28 01:59"),  # before the spring change
        (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "2027-03-28 03:00"),  # just after it
        (datetime(2027, 12, 31, 23, 30, tzinfo=UTC), "2028-01-01 00:30"),  # a new year in Sweden
    ],
)
def test_stamps_are_the_date_filters_text_in_stockholm_time(moment, written):
    template = Template("""{{ m|date:"Y-m-d H:i" }}|{{ m|date:"c" }}""")
    assert stamp(moment) == written
    assert f"{stamp(moment)}|{stamp_iso(moment)}" == template.render(Context({"m": moment}))


def test_no_time_is_written_as_nothing():
    assert stamp(None) == ""
    assert stamp_iso(None) == ""
