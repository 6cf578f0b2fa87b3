"""Clinical text keeps its "<": "CRP <ref 5" is sent as written and shown as text, escaped.

The templates escape every text; refusing the character would refuse ordinary notes.
"""

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from messenger.models import Message, Thread, ThreadEvent
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS

CLINICAL = "CRP <ref 5, Hb <lågt"
ESCAPED = "CRP &lt;ref 5, Hb &lt;lågt"


def test_a_reply_with_clinical_text_is_sent_and_shown_escaped(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Provtagning"], patient_id=PATIENTS[0])
    client = world.hc_nurse.client()
    response = client.post(
        thread_url("reply", world.gripen_fbl, thread),
        {"body": CLINICAL, "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert Message.objects.filter(thread=thread, body=CLINICAL).exists()
    page = client.get(thread_url("thread", world.gripen_fbl, thread)).content.decode()
    assert ESCAPED in page
    assert "<ref" not in page


def test_a_new_message_keeps_the_sign_in_subject_and_text(world, categories):
    response = world.nurse.client().post(
        reverse("messenger:compose", args=[world.karlstad_fbl.pk]),
        {
            "recipient": world.gripen_fbl.pk,
            "category": categories["Provtagning"].pk,
            "subject": "Hb <lågt",
            "patient": PATIENTS[0],
            "body": CLINICAL,
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    thread = Thread.objects.get()
    assert (thread.subject, thread.messages.get().body) == ("Hb <lågt", CLINICAL)
    inbox = world.hc_nurse.client().get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk]))
    assert "Hb &lt;lågt" in inbox.content.decode()


def test_forward_comment_and_phone_note_keep_clinical_text(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Provtagning"], patient_id=PATIENTS[0])
    response = world.hc_nurse.client().post(
        thread_url("forward", world.gripen_fbl, thread),
        {
            "colleague": world.doctor.user.pk,
            "colleague_told": "on",
            "comment": CLINICAL,
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    response = world.nurse.client().post(
        thread_url("follow_up", world.karlstad_fbl, thread), {"note": CLINICAL}
    )
    assert response.status_code == 302
    assert sorted(ThreadEvent.objects.values_list("kind", "comment")) == [
        (ThreadEvent.Kind.FOLLOWED_UP, CLINICAL),
        (ThreadEvent.Kind.FORWARDED, CLINICAL),
    ]
    page = world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    assert page.content.decode().count(ESCAPED) == 2


def test_no_template_turns_escaping_off():
    # Escaping is what makes "<" harmless: a |safe or an autoescape off would undo it.
    unsafe = re.compile(r"\|\s*safe\b|{%\s*autoescape\s+off|\|\s*safeseq\b")
    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    assert [str(path) for path in templates if unsafe.search(path.read_text())] == []


def test_a_journal_link_title_keeps_the_sign_but_its_reference_refuses_markup(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Provtagning"], patient_id=PATIENTS[0])
    client = world.hc_nurse.client()
    url = thread_url("attach_link", world.gripen_fbl, thread)
    link = {"kind": "journal_note", "title": "Lab: CRP <ref", "client_token": str(uuid.uuid4())}
    # The reference is an identifier in the record system, never prose.
    assert client.post(url, {**link, "reference": "<img src=x>"}).status_code == 400
    assert client.post(url, {**link, "reference": "J-1"}).status_code == 302
    page = client.get(thread_url("thread", world.gripen_fbl, thread)).content.decode()
    assert "Lab: CRP &lt;ref" in page


def test_a_legal_hold_reason_keeps_the_sign(world, categories, sysadmin):
    thread = send(world.nurse, world.gripen_fbl, categories["Provtagning"], patient_id=PATIENTS[0])
    response = sysadmin.client().post(
        reverse("messenger:legal_holds"),
        {"thread_number": thread.pk, "reason": "Tillsyn: svar <72 h"},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.legal_hold_reason == "Tillsyn: svar <72 h"
