import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from mailboxes.models import Mailbox
from messenger.forms import ReplyForm
from messenger.models import Delivery, Message, Thread
from messenger.services import message_forward, message_reply
from tests.conftest import Persona
from tests.factories import EmploymentFactory, MailboxFactory
from tests.helpers import delivery_of, reply, send, thread_url
from tests.testdata import PATIENTS


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def test_the_first_reply_from_the_recipient_answers_the_thread(world, thread):
    response = world.hc_nurse.client().post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "Dosen sänks till 2,5 mg.", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.answered_at is not None
    assert thread.deadline().is_met


def test_a_reply_puts_the_thread_unread_in_the_other_sides_inbox(world, thread):
    reply(world.hc_nurse, thread)
    theirs = delivery_of(thread, world.karlstad_fbl)
    assert (theirs.folder, theirs.read_at) == (Delivery.Folder.INBOX, None)
    assert delivery_of(thread, world.gripen_fbl).read_at is not None


def test_the_senders_own_follow_up_does_not_answer_the_thread(world, thread):
    reply(world.nurse, thread, body="Tillägg: patienten har feber.")
    thread.refresh_from_db()
    assert thread.answered_at is None


def colleague_with_own_mailbox(organisation, username: str) -> Persona:
    employment = EmploymentFactory.create(user__username=username, organisation=organisation)
    mailbox = MailboxFactory.create(
        kind=Mailbox.Kind.PERSONAL,
        owner=employment.user,
        organisation=organisation,
        name=f"{username}, {organisation.name}",
        hsa_id="",
    )
    return Persona(user=employment.user, employment=employment, mailbox=mailbox)


def forward_to(persona: Persona, thread, mailbox, colleague: Persona) -> None:
    message_forward(
        actor=persona.user,
        employment=persona.employment,
        delivery=delivery_of(thread, mailbox),
        colleague=colleague.user,
        comment="",
        colleague_told=True,
    )


def test_a_sender_side_colleagues_reply_does_not_answer_the_thread(world, thread):
    colleague = colleague_with_own_mailbox(world.karlstad, "t_kalle")
    forward_to(world.nurse, thread, world.karlstad_fbl, colleague)
    reply(colleague, thread, body="Jag tar det här och ringer i morgon.")
    thread.refresh_from_db()
    assert thread.answered_at is None


def test_a_receiving_side_colleagues_reply_answers_the_thread(world, thread):
    forward_to(world.hc_nurse, thread, world.gripen_fbl, world.doctor)
    reply(world.doctor, thread, body="Dosen sänks till 2,5 mg.")
    thread.refresh_from_db()
    assert thread.answered_at is not None


def test_a_reply_after_two_forwards_on_the_receiving_side_answers_the_thread(world, thread):
    second = colleague_with_own_mailbox(world.gripen, "t_gustav")
    forward_to(world.hc_nurse, thread, world.gripen_fbl, world.doctor)
    forward_to(world.doctor, thread, world.doctor.mailbox, second)
    reply(second, thread, body="Dosen sänks till 2,5 mg.")
    thread.refresh_from_db()
    assert thread.answered_at is not None


def test_forwards_back_and_forth_on_the_sender_side_never_answer(world, thread):
    first = colleague_with_own_mailbox(world.karlstad, "t_kalle")
    second = colleague_with_own_mailbox(world.karlstad, "t_lisa")
    forward_to(world.nurse, thread, world.karlstad_fbl, first)
    forward_to(first, thread, first.mailbox, second)
    forward_to(second, thread, second.mailbox, first)  # a loop in the forwarding records
    reply(first, thread, body="Vi ringer vårdcentralen.")
    thread.refresh_from_db()
    assert thread.answered_at is None


def test_an_empty_reply_is_refused_and_nothing_is_saved(world, thread):
    response = world.hc_nurse.client().post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert "Skriv ett svar" in response.content.decode()
    assert thread.messages.count() == 1


def test_a_reply_with_a_tag_is_sent_as_text_and_shown_escaped(world, thread):
    client = world.hc_nurse.client()
    response = client.post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "Se <a href=x>här</a>", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    page = client.get(thread_url("thread", world.gripen_fbl, thread)).content.decode()
    assert "Se &lt;a href=x&gt;här&lt;/a&gt;" in page
    assert "<a href=x>" not in page


def test_a_double_submitted_reply_is_saved_once(world, thread):
    data = {"body": "Receptet är förnyat.", "client_token": str(uuid.uuid4())}
    client = world.hc_nurse.client()
    client.post(thread_url("reply", world.gripen_fbl, thread), data)
    client.post(thread_url("reply", world.gripen_fbl, thread), data)
    assert Message.objects.filter(thread=thread).count() == 2


def test_a_token_from_another_threads_form_is_refused_not_taken_as_sent(world, thread, categories):
    token = str(uuid.uuid4())
    client = world.hc_nurse.client()
    client.post(
        thread_url("reply", world.gripen_fbl, thread), {"body": "Svar", "client_token": token}
    )
    other = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[1])
    response = client.post(
        thread_url("reply", world.gripen_fbl, other), {"body": "Annat svar", "client_token": token}
    )
    assert response.status_code == 400
    assert "Formuläret är för gammalt" in response.content.decode()
    assert other.messages.count() == 1
    assert thread.messages.count() == 2


def test_a_token_from_another_authors_form_is_refused(world, thread):
    token = uuid.uuid4()
    message_reply(
        author=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(thread, world.gripen_fbl),
        body="Svar",
        client_token=token,
    )
    with pytest.raises(ValidationError, match="Formuläret är för gammalt"):
        message_reply(
            author=world.nurse.user,
            employment=world.nurse.employment,
            delivery=delivery_of(thread, world.karlstad_fbl),
            body="Tack",
            client_token=token,
        )
    assert thread.messages.count() == 2


@pytest.mark.parametrize("token", [None, "", "inte-en-uuid"], ids=["missing", "empty", "broken"])
def test_a_form_without_its_token_asks_for_a_reload(world, thread, token):
    data = {"body": "Svar"} if token is None else {"body": "Svar", "client_token": token}
    response = world.hc_nurse.client().post(thread_url("reply", world.gripen_fbl, thread), data)
    assert response.status_code == 400
    assert "Formuläret är för gammalt. Ladda om sidan och försök igen." in response.content.decode()
    assert thread.messages.count() == 1
    with translation.override("sv"):
        form = ReplyForm(data)
        assert list(form.errors) == ["__all__"]
        assert "Dolt fält" not in str(form)


def test_a_reply_to_a_closed_mailbox_is_refused(world, thread):
    world.karlstad_fbl.closed_at = thread.created_at
    world.karlstad_fbl.save(update_fields=["closed_at"])
    response = world.hc_nurse.client().post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "Svar", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert "stängd" in response.content.decode()
    assert thread.messages.count() == 1


def test_a_reply_reaches_a_sender_who_emptied_the_thread_from_the_trash(world, thread):
    from django.urls import reverse

    client = world.nurse.client()
    client.post(thread_url("move", world.karlstad_fbl, thread), {"folder": "trash"})
    client.post(reverse("messenger:empty_trash", args=[world.karlstad_fbl.pk]))
    assert not Delivery.objects.filter(thread=thread, mailbox=world.karlstad_fbl).exists()
    reply(world.hc_nurse, thread, body="Svar till er trots allt.")
    back = delivery_of(thread, world.karlstad_fbl)
    assert (back.folder, back.read_at) == (Delivery.Folder.INBOX, None)
    page = client.get(thread_url("thread", world.karlstad_fbl, thread)).content.decode()
    assert "Svar till er trots allt." in page


def test_a_reply_to_a_thread_purged_since_the_page_opened_is_a_message(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    stale = delivery_of(thread, world.gripen_fbl)
    Thread.objects.filter(pk=thread.pk).delete()  # the purge, between page and reply
    with pytest.raises(ValidationError, match="Ärendet finns inte längre här"):
        message_reply(
            author=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=stale,
            body="Svar",
        )
    assert not Message.objects.filter(body="Svar").exists()


def test_a_reply_after_the_own_trash_was_emptied_is_a_message(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    stale = delivery_of(thread, world.gripen_fbl)
    Delivery.objects.filter(pk=stale.pk).delete()  # the trash emptied in another tab
    with pytest.raises(ValidationError, match="Ärendet finns inte längre här"):
        message_reply(
            author=world.hc_nurse.user,
            employment=world.hc_nurse.employment,
            delivery=stale,
            body="Svar",
        )
    assert not Delivery.objects.filter(thread=thread, mailbox=world.gripen_fbl).exists()


def test_the_reply_page_says_so_and_returns_to_the_mailbox(world, categories, monkeypatch):
    import messenger.views.thread as views

    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    real = views.message_reply

    def purged_meanwhile(**kwargs):
        Thread.objects.filter(pk=thread.pk).delete()
        return real(**kwargs)

    monkeypatch.setattr(views, "message_reply", purged_meanwhile)
    client = world.hc_nurse.client()
    response = client.post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": "Svar", "client_token": str(uuid.uuid4())},
        follow=True,
    )
    assert response.status_code == 200
    assert "Ärendet finns inte längre här" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/brevlador/{world.gripen_fbl.pk}/"
