"""R16: messages more than a year old are removed, also inside a thread still in use; a thread goes
once it has no message left. Legal hold keeps a thread whole; the access log stays."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from audit.models import AccessLog
from messenger.models import (
    Delivery,
    JournalLink,
    JournalLinkRecipient,
    Message,
    Question,
    Thread,
    ThreadEvent,
)
from messenger.selectors import search_deliveries
from messenger.services import (
    journal_link_attach,
    message_forward,
    messages_purge,
    thread_legal_hold,
    thread_legal_release,
)
from tests.helpers import at_once, delivery_of, reply, send
from tests.testdata import PATIENTS

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
YEAR_AND_A_DAY = timedelta(days=366)
ALMOST_A_YEAR = timedelta(days=364)


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def send_at(when, world, categories, patient, body="Kan dosen ändras?"):
    with time_machine.travel(when, tick=False):
        return send(
            world.nurse, world.gripen_fbl, categories["Recept"], patient_id=patient, body=body
        )


def reply_at(when, persona, thread, body):
    with time_machine.travel(when, tick=False):
        reply(persona, thread, body=body)


def bodies(thread):
    return list(Message.objects.filter(thread=thread).values_list("body", flat=True))


def purge_rows():
    return AccessLog.objects.filter(action=AccessLog.Action.PURGE)


def test_a_year_old_message_goes_from_an_active_thread_and_the_recent_one_stays(world, categories):
    thread = send_at(NOW - YEAR_AND_A_DAY, world, categories, PATIENTS[0], body="Gammal fråga")
    reply_at(NOW - ALMOST_A_YEAR, world.hc_nurse, thread, "Nytt svar")

    purged = messages_purge()

    assert (purged.messages, purged.threads) == (1, 0)
    assert bodies(thread) == ["Nytt svar"]
    # The thread and where it lies stay as they were.
    assert set(Delivery.objects.filter(thread=thread).values_list("mailbox_id", flat=True)) == {
        world.karlstad_fbl.pk,
        world.gripen_fbl.pk,
    }


def test_a_message_just_under_a_year_old_stays(world, categories):
    thread = send_at(NOW - ALMOST_A_YEAR, world, categories, PATIENTS[0])
    assert messages_purge().messages == 0
    assert len(bodies(thread)) == 1


def test_a_thread_with_only_old_messages_goes_with_everything_it_holds(world, categories):
    old = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    reply_at(NOW - YEAR_AND_A_DAY, world.hc_nurse, old, "Svar, också gammalt")
    recent = send_at(NOW - timedelta(days=10), world, categories, PATIENTS[1])

    purged = messages_purge()

    assert (purged.messages, purged.threads) == (2, 1)
    assert list(Thread.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Delivery.objects.filter(thread_id=old.pk).exists()
    # The access log still says who sent what about whom, without the thread.
    sent = AccessLog.objects.get(action=AccessLog.Action.SEND, thread_id_snapshot=old.pk)
    assert sent.patient_id == PATIENTS[0]


def test_search_no_longer_finds_the_purged_text(world, categories):
    thread = send_at(
        NOW - YEAR_AND_A_DAY, world, categories, PATIENTS[0], body="Hur mycket Waran tar hon?"
    )
    reply_at(NOW - timedelta(days=3), world.hc_nurse, thread, "Provsvaret kom i dag.")

    def found(text):
        results = search_deliveries(
            world.gripen_fbl, user=world.hc_nurse.user, employment=None, text=text
        )
        return [delivery.thread_id for delivery in results]

    assert found("waran") == [thread.pk]
    messages_purge()
    assert found("waran") == []
    # What is left is still found: the remaining reply and the subject.
    assert found("provsvaret") == [thread.pk]
    assert found("ordination") == [thread.pk]


def test_history_older_than_a_year_goes_and_journal_links_keep_their_ledger(world, categories):
    thread = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    with time_machine.travel(NOW - timedelta(days=390), tick=False):
        journal_link_attach(
            actor=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=delivery_of(thread, world.gripen_fbl),
            kind="journal_note",
            title="Anteckning",
            reference="J-1",
        )
    with time_machine.travel(NOW - timedelta(days=20), tick=False):
        message_forward(
            actor=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=delivery_of(thread, world.gripen_fbl),
            colleague=world.doctor.user,
            comment="Titta på detta",
            colleague_told=True,
        )
    reply_at(NOW - timedelta(days=20), world.hc_nurse, thread, "Nytt svar")

    messages_purge()

    # The year-old "link attached" event goes; the recent forward stays.
    assert list(ThreadEvent.objects.filter(thread=thread).values_list("kind", flat=True)) == [
        ThreadEvent.Kind.FORWARDED
    ]
    # The link and who it went to stay with the thread (R11), until the thread goes.
    link = JournalLink.objects.get(thread=thread)
    assert set(link.recipients.values_list("mailbox_name", flat=True)) == {
        world.karlstad_fbl.name,
        world.doctor.mailbox.name,
    }


def test_history_goes_once_a_year_old_even_after_the_message_before_it_went(world, categories):
    thread = send_at(NOW - timedelta(days=380), world, categories, PATIENTS[0])
    with time_machine.travel(NOW - timedelta(days=370), tick=False):
        message_forward(
            actor=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=delivery_of(thread, world.gripen_fbl),
            colleague=world.doctor.user,
            comment="Titta på detta",
            colleague_told=True,
        )
    reply_at(NOW - timedelta(days=30), world.hc_nurse, thread, "Nytt svar")
    # Two weeks ago the question went; the forward ten days after it was not a year old yet.
    assert messages_purge(now=NOW - timedelta(days=14)).messages == 1
    assert ThreadEvent.objects.filter(thread=thread).exists()

    purged = messages_purge()

    assert purged.messages == 0
    assert not ThreadEvent.objects.filter(thread=thread).exists()
    assert bodies(thread) == ["Nytt svar"]


def test_a_year_old_questions_clock_goes_and_the_current_one_stays(world, categories):
    thread = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    reply_at(NOW - timedelta(days=399), world.hc_nurse, thread, "Svar")
    reply_at(NOW - timedelta(days=10), world.nurse, thread, "En ny fråga")
    assert Question.objects.filter(thread=thread).count() == 2

    messages_purge()

    assert list(Question.objects.filter(thread=thread).values_list("asked_at", flat=True)) == [
        NOW - timedelta(days=10)
    ]


def test_journal_links_and_their_ledger_go_with_the_thread(world, categories):
    old = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    with time_machine.travel(NOW - timedelta(days=399), tick=False):
        journal_link_attach(
            actor=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=delivery_of(old, world.gripen_fbl),
            kind="journal_note",
            title="Anteckning",
            reference="J-1",
        )
    assert messages_purge().threads == 1
    assert not JournalLink.objects.exists()
    assert not JournalLinkRecipient.objects.exists()
    assert not ThreadEvent.objects.exists()


def test_a_thread_on_legal_hold_keeps_everything(world, categories, sysadmin):
    held = send_at(NOW - timedelta(days=800), world, categories, PATIENTS[0], body="Gammal")
    reply_at(NOW - timedelta(days=5), world.hc_nurse, held, "Nytt")
    whole = send_at(NOW - timedelta(days=800), world, categories, PATIENTS[1])
    for thread in (held, whole):
        with time_machine.travel(NOW - timedelta(days=700), tick=False):
            thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="IVO-ärende")

    assert messages_purge().messages == 0
    assert sorted(bodies(held)) == ["Gammal", "Nytt"]
    assert Thread.objects.filter(pk=whole.pk).exists()
    # Its year-old history, the hold itself included, stays too.
    assert ThreadEvent.objects.filter(thread=held, kind=ThreadEvent.Kind.LEGAL_HOLD).exists()
    assert not purge_rows().exists()


def test_after_release_the_next_purge_removes_it(world, categories, sysadmin):
    thread = send_at(NOW - timedelta(days=800), world, categories, PATIENTS[0])
    with time_machine.travel(NOW - timedelta(days=700), tick=False):
        thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Tvist")
    assert messages_purge().threads == 0

    thread_legal_release(actor=sysadmin.user, thread_id=thread.pk)

    assert messages_purge().threads == 1
    assert not Thread.objects.filter(pk=thread.pk).exists()


def test_the_access_log_gets_a_summary_row_without_patient_subject_or_text(world, categories):
    gone = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0], body="Hemlig text")
    kept = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[1], body="Också text")
    reply_at(NOW - timedelta(days=1), world.hc_nurse, kept, "Svar")
    before = AccessLog.objects.count()

    messages_purge()

    assert AccessLog.objects.count() == before + 1
    row = purge_rows().get()
    assert (row.patient_id, row.thread_id_snapshot, row.user_name) == ("", None, "")
    assert row.detail.startswith("2 meddelanden skickade före 2025-11-22 borttagna ur 2 ärenden")
    assert f"Borttagna: {gone.pk}" in row.detail
    assert f"Kvar: {kept.pk}" in row.detail
    for secret in (*PATIENTS[:2], PATIENTS[0][:8], "Hemlig", "Också", "ordination"):
        assert secret not in row.detail


def test_a_summary_too_long_for_the_log_names_the_first_threads_and_an_ellipsis(world, categories):
    threads = [
        send_at(NOW - timedelta(days=400), world, categories, PATIENTS[n % len(PATIENTS)])
        for n in range(120)
    ]

    assert messages_purge().threads == 120

    detail = purge_rows().get().detail
    assert len(detail) <= 500
    assert f"Borttagna: {threads[0].pk}, {threads[1].pk}, " in detail
    assert str(threads[-1].pk) not in detail
    assert detail.endswith(", …")


def test_it_works_in_batches_and_is_safe_to_run_again(world, categories):
    for patient in PATIENTS[:5]:
        send_at(NOW - timedelta(days=400), world, categories, patient)
    assert messages_purge(batch_size=2).threads == 5
    assert messages_purge(batch_size=2).threads == 0
    assert purge_rows().count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_share_the_work_without_fighting(world, categories):
    # transaction=True flushes the categories between tests; `categories` puts them back.
    threads = [send_at(NOW - timedelta(days=400), world, categories, p) for p in PATIENTS[:6]]
    for thread in threads[:3]:
        reply_at(NOW - timedelta(days=1), world.hc_nurse, thread, "Nytt svar")

    results, errors = at_once(lambda: messages_purge(batch_size=1))

    assert errors == []
    assert sum(r.messages for r in results) == 6
    assert sum(r.threads for r in results) == 3
    assert Thread.objects.count() == 3
    assert Message.objects.count() == 3
    # One summary row per batch, whichever run took it.
    assert purge_rows().count() == 6


def test_the_operator_command_counts_then_removes(world, categories, capsys):
    gone = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    kept = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[1])
    reply_at(NOW - timedelta(days=1), world.hc_nurse, kept, "Svar")
    call_command("purge_messages", "--dry-run")
    assert "2 messages are more than a year old; 1 threads would be left empty" in (
        capsys.readouterr().out
    )
    assert Message.objects.count() == 3
    call_command("purge_messages")
    assert "Removed 2 messages and 1 threads left empty." in capsys.readouterr().out
    assert not Thread.objects.filter(pk=gone.pk).exists()


def test_a_thread_whose_only_question_went_keeps_no_clock(world, categories):
    thread = send_at(NOW - timedelta(days=400), world, categories, PATIENTS[0])
    # The unit answered late, by a message that is itself recent: the old question goes.
    reply_at(NOW - timedelta(days=10), world.hc_nurse, thread, "Svar till slut")
    messages_purge()
    thread.refresh_from_db()
    assert not Question.objects.filter(thread=thread).exists()
    assert thread.deadline() is None
    assert not thread.is_overdue()
