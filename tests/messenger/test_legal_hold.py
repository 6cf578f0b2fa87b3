"""Legal hold: a system administrator keeps a thread from the purge (R16) until released."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AccessLog
from messenger.models import Thread, ThreadEvent
from messenger.services import thread_legal_hold, thread_legal_release
from tests.helpers import assert_num_queries, send, thread_url
from tests.testdata import PATIENTS

NOW = datetime(2026, 11, 22, 14, 5, tzinfo=ZoneInfo("Europe/Stockholm"))
PAGE = reverse("messenger:legal_holds")


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def thread(world, categories) -> Thread:
    return send(
        world.nurse,
        world.gripen_fbl,
        categories["Recept"],
        patient_id=PATIENTS[0],
        subject="Förnyelse av Waran",
    )


def messages_of(error: ValidationError) -> list[str]:
    return error.messages


# The services


def test_hold_records_who_when_and_why_and_logs_it(thread, sysadmin):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="  IVO-ärende 2026-17 ")

    thread.refresh_from_db()
    assert thread.legal_hold_at == NOW
    assert thread.legal_hold_by == sysadmin.user
    assert thread.legal_hold_reason == "IVO-ärende 2026-17"
    row = AccessLog.objects.get(action=AccessLog.Action.LEGAL_HOLD)
    assert row.thread_id_snapshot == thread.pk
    assert row.user_id_snapshot == sysadmin.user.pk
    assert row.detail == "Skäl: IVO-ärende 2026-17"
    # The administrator never saw the patient: the row names none.
    assert row.patient_id == ""


def test_release_clears_the_hold_and_logs_it(thread, sysadmin):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Tvist")
    thread_legal_release(actor=sysadmin.user, thread_id=thread.pk)

    thread.refresh_from_db()
    assert not thread.is_on_legal_hold()
    assert (thread.legal_hold_by, thread.legal_hold_reason) == (None, "")
    row = AccessLog.objects.get(action=AccessLog.Action.LEGAL_HOLD_RELEASE)
    assert row.thread_id_snapshot == thread.pk
    assert row.detail == "I bevarande sedan 2026-11-22 14:05"


def test_hold_and_release_show_in_the_threads_history(thread, sysadmin, world):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="IVO-ärende")
    thread_legal_release(actor=sysadmin.user, thread_id=thread.pk)

    assert list(ThreadEvent.objects.filter(thread=thread).values_list("kind", flat=True)) == [
        ThreadEvent.Kind.LEGAL_HOLD,
        ThreadEvent.Kind.LEGAL_HOLD_RELEASED,
    ]
    page = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    text = page.content.decode()
    name = sysadmin.user.display_name()
    assert f"{name} satte ärendet i bevarande" in text
    assert "Skäl: IVO-ärende" in text
    assert f"{name} hävde bevarandet" in text


def test_a_held_thread_says_so_on_its_page(thread, sysadmin, world):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="IVO-ärende")
    page = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert "Gallras inte: i bevarande sedan 2026-11-22 14:05" in page.content.decode()


def test_an_unknown_thread_number_is_a_message(db, sysadmin):
    with pytest.raises(ValidationError) as caught:
        thread_legal_hold(actor=sysadmin.user, thread_id=987654, reason="Tvist")
    assert messages_of(caught.value) == ["Det finns inget ärende med nummer 987654."]
    assert not AccessLog.objects.filter(action=AccessLog.Action.LEGAL_HOLD).exists()


def test_holding_twice_is_a_message_and_keeps_the_first_hold(thread, sysadmin):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Först")
    with pytest.raises(ValidationError) as caught:
        thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Sedan")
    assert messages_of(caught.value) == [f"Ärende {thread.pk} är redan i bevarande."]
    thread.refresh_from_db()
    assert thread.legal_hold_reason == "Först"
    assert AccessLog.objects.filter(action=AccessLog.Action.LEGAL_HOLD).count() == 1


def test_releasing_a_thread_not_on_hold_is_a_message(thread, sysadmin):
    with pytest.raises(ValidationError) as caught:
        thread_legal_release(actor=sysadmin.user, thread_id=thread.pk)
    assert messages_of(caught.value) == [f"Ärende {thread.pk} är inte i bevarande."]
    assert not AccessLog.objects.filter(action=AccessLog.Action.LEGAL_HOLD_RELEASE).exists()
    assert not ThreadEvent.objects.exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Ange skälet till att ärendet ska bevaras."),
        ("   ", "Ange skälet till att ärendet ska bevaras."),
        (
            "Gäller 20000101-2384",
            "Skriv inte personnummer i skälet. Det syns i loggen och historiken.",
        ),
    ],
)
def test_a_hold_without_a_usable_reason_is_refused(thread, sysadmin, reason, message):
    with pytest.raises(ValidationError) as caught:
        thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason=reason)
    assert messages_of(caught.value) == [message]
    thread.refresh_from_db()
    assert not thread.is_on_legal_hold()


def test_only_a_system_administrator_may_hold(thread, world):
    with pytest.raises(ValidationError):
        thread_legal_hold(actor=world.hc_nurse.user, thread_id=thread.pk, reason="Tvist")
    thread.refresh_from_db()
    assert not thread.is_on_legal_hold()


# The administrators' page


def test_the_page_lists_held_threads_without_patient_or_subject(thread, sysadmin, world):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="IVO-ärende 17")
    client = sysadmin.client()
    before = AccessLog.objects.count()

    response = client.get(PAGE)

    assert response.status_code == 200
    text = response.content.decode()
    row = text[text.index("<tbody>") : text.index("</tbody>")]
    for shown in (
        f"<td>{thread.pk}</td>",
        world.karlstad_fbl.name,
        world.gripen_fbl.name,
        "2026-11-22 14:05",
        sysadmin.user.display_name(),
        "IVO-ärende 17",
    ):
        assert shown in row
    for hidden in (PATIENTS[0], PATIENTS[0][:8], "Waran"):
        assert hidden not in text
    # Reading the list logs nothing: it shows no patient data.
    assert AccessLog.objects.count() == before


def test_the_list_costs_the_same_few_queries_however_many_are_held(world, categories, sysadmin):
    def hold(patient):
        held = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=patient)
        thread_legal_hold(actor=sysadmin.user, thread_id=held.pk, reason="Tvist")

    client = sysadmin.client()
    client.get(PAGE)  # the first request of a session saves it anew
    hold(PATIENTS[0])
    # session, user, employments, the header's unread notifications, the navigation's
    # mailboxes, the held threads (one query, their mailboxes and holders joined), then the
    # session's save: savepoint, update, release
    with assert_num_queries(9):
        assert client.get(PAGE).status_code == 200
    for patient in PATIENTS[1:6]:
        hold(patient)
    with assert_num_queries(9):
        assert client.get(PAGE).status_code == 200


def test_the_form_puts_a_thread_on_hold(thread, sysadmin):
    response = sysadmin.client().post(
        PAGE, {"thread_number": str(thread.pk), "reason": "Begäran om utlämnande"}, follow=True
    )
    assert response.status_code == 200
    assert f"Ärende {thread.pk} är i bevarande" in response.content.decode()
    thread.refresh_from_db()
    assert thread.legal_hold_reason == "Begäran om utlämnande"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"thread_number": "", "reason": "Tvist"}, "Ange ärendets nummer."),
        ({"thread_number": "12a", "reason": "Tvist"}, "Ärendenumret är ett heltal"),
        ({"thread_number": "0", "reason": "Tvist"}, "Ärendenumret är ett heltal"),
        ({"thread_number": "9" * 30, "reason": "Tvist"}, "Det finns inget ärende med det numret"),
        ({"thread_number": "987654", "reason": "Tvist"}, "Det finns inget ärende med nummer"),
        ({"thread_number": "THREAD", "reason": ""}, "Ange skälet till att ärendet ska bevaras."),
    ],
)
def test_bad_input_is_a_swedish_message_and_nothing_is_saved(thread, sysadmin, data, message):
    if data["thread_number"] == "THREAD":
        data = {**data, "thread_number": str(thread.pk)}
    response = sysadmin.client().post(PAGE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Thread.objects.on_legal_hold().exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.LEGAL_HOLD).exists()


def test_the_release_button_releases(thread, sysadmin):
    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Tvist")
    url = reverse("messenger:legal_hold_release", args=[thread.pk])
    response = sysadmin.client().post(url, follow=True)
    assert f"Bevarandet av ärende {thread.pk} är hävt" in response.content.decode()
    thread.refresh_from_db()
    assert not thread.is_on_legal_hold()


def test_releasing_twice_is_a_message_not_an_error(thread, sysadmin):
    url = reverse("messenger:legal_hold_release", args=[thread.pk])
    response = sysadmin.client().post(url, follow=True)
    assert response.status_code == 200
    assert f"Ärende {thread.pk} är inte i bevarande." in response.content.decode()


@pytest.mark.parametrize("persona", ["nurse", "hc_nurse", "approver", "log_reviewer"])
def test_the_page_is_404_for_everyone_but_system_administrators(thread, world, persona):
    client = getattr(world, persona).client()
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"thread_number": thread.pk, "reason": "x"}).status_code == 404
    release = reverse("messenger:legal_hold_release", args=[thread.pk])
    assert client.post(release).status_code == 404
    thread.refresh_from_db()
    assert not thread.is_on_legal_hold()


def test_the_administration_menu_links_the_page_for_system_administrators_only(sysadmin, world):
    assert PAGE in sysadmin.client().get(reverse("mailboxes:my_access")).content.decode()
    assert PAGE not in world.nurse.client().get(reverse("mailboxes:my_access")).content.decode()


def test_emptying_every_trash_keeps_a_held_thread(thread, sysadmin, world):
    from messenger.models import Delivery
    from messenger.services import trash_empty

    thread_legal_hold(actor=sysadmin.user, thread_id=thread.pk, reason="Lex Maria-utredning")
    Delivery.objects.filter(thread=thread).update(folder=Delivery.Folder.TRASH)
    for persona in (world.nurse, world.hc_nurse):
        trash_empty(user=persona.user, employment=persona.employment, mailbox=persona.mailbox)
    assert Thread.objects.filter(pk=thread.pk).exists()
    assert not Delivery.objects.filter(thread=thread).exists()
    thread_legal_release(actor=sysadmin.user, thread_id=thread.pk)
