"""R9: the 72 hours belong to each question; a follow-up question after an answer has its own."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from messenger.models import Question, ThreadEvent
from messenger.services import question_follow_up
from tests.helpers import delivery_of, reply, send
from tests.messenger.test_deadline import at
from tests.testdata import PATIENT


@pytest.fixture
def question(world, categories):
    with time_machine.travel(at(2026, 11, 16, 9, 0), tick=False):
        return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENT)


def test_the_first_message_starts_a_clock_of_the_categorys_window(question):
    (first,) = Question.objects.filter(thread=question)
    assert first.due_at == at(2026, 11, 19, 9, 0)
    assert first.remind_at == at(2026, 11, 18, 9, 0)
    assert question.reply_due_at == first.due_at


def test_for_information_starts_no_clock(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["För kännedom"], patient_id=PATIENT)
    assert not Question.objects.filter(thread=thread).exists()
    assert thread.deadline() is None


def test_the_receiving_sides_reply_stops_the_clock(world, question):
    with time_machine.travel(at(2026, 11, 17, 10, 0), tick=False):
        reply(world.hc_nurse, question)
    first = Question.objects.get(thread=question)
    assert first.answered_at == at(2026, 11, 17, 10, 0)
    assert first.answered_by_name == world.hc_nurse.user.display_name()
    question.refresh_from_db()
    assert question.deadline().is_met


def test_a_follow_up_question_after_an_answer_starts_a_new_clock(world, question):
    with time_machine.travel(at(2026, 11, 17, 10, 0), tick=False):
        reply(world.hc_nurse, question)
    with time_machine.travel(at(2026, 11, 18, 8, 0), tick=False):
        reply(world.nurse, question, body="En fråga till: ska provet tas fastande?")
    first, second = Question.objects.filter(thread=question)
    assert second.asked_at == at(2026, 11, 18, 8, 0)
    assert second.due_at == at(2026, 11, 21, 8, 0)
    assert second.answered_at is None
    question.refresh_from_db()
    assert question.has_open_question()
    with time_machine.travel(at(2026, 11, 21, 9, 0), tick=False):
        assert question.is_overdue()


def test_more_from_the_asking_side_while_the_clock_runs_does_not_restart_it(world, question):
    with time_machine.travel(at(2026, 11, 17, 10, 0), tick=False):
        reply(world.nurse, question, body="Tillägg: gäller kvällsdosen.")
    (only,) = Question.objects.filter(thread=question)
    assert only.due_at == at(2026, 11, 19, 9, 0)


def test_the_receiving_side_writing_again_asks_nothing(world, question):
    reply(world.hc_nurse, question)
    reply(world.hc_nurse, question, body="Och receptet är förnyat.")
    assert Question.objects.filter(thread=question).count() == 1
    assert not Question.objects.open().filter(thread=question).exists()


def follow_up(persona, thread, note="Ringde Vc Gripen, dosen ändras i dag."):
    question_follow_up(
        actor=persona.user,
        employment=persona.employment,
        delivery=delivery_of(thread, persona.mailbox),
        note=note,
    )


def test_a_follow_up_by_phone_stops_the_clock_and_goes_into_the_history(world, question):
    with time_machine.travel(at(2026, 11, 19, 10, 0), tick=False):
        follow_up(world.nurse, question)
    question.refresh_from_db()
    assert not question.has_open_question()
    assert question.deadline().is_followed_up
    event = ThreadEvent.objects.get(thread=question, kind=ThreadEvent.Kind.FOLLOWED_UP)
    assert event.actor_name == world.nurse.user.display_name()
    assert event.at == at(2026, 11, 19, 10, 0)
    assert "dosen ändras" in event.comment
    assert Question.objects.get(thread=question).followed_up_note.startswith("Ringde")


def test_only_the_asking_side_follows_up_and_only_an_open_question(world, question):
    with pytest.raises(ValidationError, match="den som frågade"):
        follow_up(world.hc_nurse, question)
    follow_up(world.nurse, question)
    with pytest.raises(ValidationError, match="Ingen fråga väntar"):
        follow_up(world.nurse, question)
    assert ThreadEvent.objects.filter(kind=ThreadEvent.Kind.FOLLOWED_UP).count() == 1


def test_a_follow_up_needs_a_note(world, question):
    with pytest.raises(ValidationError) as refused:
        follow_up(world.nurse, question, note="   ")
    assert "Skriv kort vad som sades" in str(refused.value)
    question.refresh_from_db()
    assert question.has_open_question()


def test_a_question_asked_before_the_dst_change_runs_72_real_hours(world, categories):
    # Summer time starts 2027-03-28 at 02:00: 72 hours from Friday noon is Monday 13:00.
    with time_machine.travel(at(2027, 3, 26, 12, 0), tick=False):
        thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENT)
    due = Question.objects.get(thread=thread).due_at
    assert due == at(2027, 3, 29, 13, 0)
    assert due - at(2027, 3, 26, 12, 0) == timedelta(hours=72)
