"""R9: 72 hours to answer, shown as a clock; across DST and holidays the 72 are real hours."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from django.utils.html import strip_tags

from messenger.templatetags.deadlines import deadline_badge
from tests.helpers import reply, send
from tests.testdata import PATIENTS

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


def clock(thread) -> str:
    with translation.override("sv"):
        html = deadline_badge(thread.deadline())
    return " ".join(strip_tags(html).split())


@pytest.fixture
def new_thread(world, categories):
    def make(category="Läkemedel"):
        return send(world.nurse, world.gripen_fbl, categories[category], patient_id=PATIENTS[0])

    return make


def test_it_shows_when_the_answer_is_due_and_hours_left(new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 24, 10, 5), tick=False):
        assert clock(thread) == "svar senast tis 24 nov 14:05 · 4 h kvar"


def test_it_shows_how_late_an_unanswered_thread_is(new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 24, 20, 5), tick=False):
        assert clock(thread).startswith("försenad 6 h")
        assert thread.is_overdue()


def test_under_an_hour_left_shows_minutes(new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 24, 13, 5), tick=False):
        assert clock(thread).endswith("· 1 h kvar")
    with time_machine.travel(at(2026, 11, 24, 13, 35, 30), tick=False):
        assert clock(thread) == "svar senast tis 24 nov 14:05 · 29 min kvar"


def test_under_an_hour_late_shows_minutes(new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 24, 14, 35), tick=False):
        assert clock(thread).startswith("försenad 30 min ·")
    with time_machine.travel(at(2026, 11, 24, 15, 5), tick=False):
        assert clock(thread).startswith("försenad 1 h ·")


def test_an_answer_under_an_hour_late_says_how_many_minutes(world, new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 24, 14, 50), tick=False):
        reply(world.hc_nurse, thread)
    thread.refresh_from_db()
    assert clock(thread) == "Besvarad 45 min för sent"


def test_the_72_hours_are_real_hours_across_the_autumn_clock_change(new_thread):
    # Sweden leaves summer time on Sunday 25 October 2026: the wall clock loses an hour's lead.
    with time_machine.travel(at(2026, 10, 24, 14, 5), tick=False):
        thread = new_thread()
    assert thread.reply_due_at.astimezone(STOCKHOLM) == at(2026, 10, 27, 13, 5)


def test_the_72_hours_are_real_hours_across_the_spring_clock_change(new_thread):
    with time_machine.travel(at(2026, 3, 28, 9, 0), tick=False):
        thread = new_thread()
    assert thread.reply_due_at.astimezone(STOCKHOLM) == at(2026, 3, 31, 10, 0)


def test_holidays_do_not_pause_the_clock(new_thread):
    # R9 gives 72 hours, not working days: sent on Christmas Eve, due on the 27th.
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        thread = new_thread()
    assert thread.reply_due_at.astimezone(STOCKHOLM) == at(2026, 12, 27, 10, 0)


def test_an_answer_in_time_meets_the_deadline(world, new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        reply(world.hc_nurse, thread)
    thread.refresh_from_db()
    assert clock(thread) == "Besvarad i tid · 2026-11-23 09:00"


def test_a_late_answer_says_how_late(world, new_thread):
    with time_machine.travel(at(2026, 11, 21, 14, 5), tick=False):
        thread = new_thread()
    with time_machine.travel(at(2026, 11, 25, 14, 5), tick=False):
        reply(world.hc_nurse, thread)
    thread.refresh_from_db()
    assert clock(thread) == "Besvarad 24 h för sent"


def test_for_information_has_no_clock(new_thread):
    thread = new_thread("För kännedom")
    assert thread.reply_due_at is None
    assert clock(thread) == "Ingen svarstid (för kännedom)"
