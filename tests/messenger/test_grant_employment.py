"""R18: a person employed in two places acts in a mailbox as the job its grant was given for.

Anna is a nurse at Karlstad and a district nurse at Vc Gripen, with a grant on each unit's
mailbox for that job. Working as Karlstad (the switcher), she still reads and writes Gripen's
mailbox as Gripen's district nurse: the access log and her signature say Gripen.
"""

import uuid

import pytest
from django.urls import reverse

from audit.models import AccessLog
from mailboxes.models import AccessGrant
from messenger.models import JournalLink, Message, Thread
from tests.conftest import Persona
from tests.factories import AccessGrantFactory, EmploymentFactory
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS

GRIPEN_JOB = "Distriktssköterska"


@pytest.fixture
def anna(world) -> Persona:
    """The Karlstad nurse, also employed at Vc Gripen with a grant on Gripen's mailbox for
    that job, working as Karlstad right now."""
    gripen_job = EmploymentFactory.create(
        user=world.nurse.user, organisation=world.gripen, profession=GRIPEN_JOB
    )
    AccessGrantFactory.create(
        user=world.nurse.user,
        mailbox=world.gripen_fbl,
        employment=gripen_job,
        level=AccessGrant.Level.SEND,
    )
    return world.nurse


def working_as(persona: Persona, organisation):
    client = persona.client()
    response = client.post(
        reverse("accounts:switch_organisation"), {"organisation": organisation.pk}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def question(world, categories):
    """Arvika asks Gripen: Anna sees it only through her Gripen grant."""
    return send(world.outsider, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])


@pytest.fixture
def asked_by_gripen(world, categories):
    """Gripen asks Arvika, and waits: the asking side may follow it up by phone."""
    return send(world.hc_nurse, world.arvika_fbl, categories["Recept"], patient_id=PATIENTS[1])


def logged(action: str) -> list[str]:
    return list(AccessLog.objects.filter(action=action).values_list("organisation_name", flat=True))


def test_reading_through_the_other_jobs_grant_is_logged_as_that_job(world, anna, question):
    client = working_as(anna, world.karlstad)
    assert client.get(thread_url("thread", world.gripen_fbl, question)).status_code == 200
    assert client.get(thread_url("print", world.gripen_fbl, question)).status_code == 200
    assert client.get(thread_url("forward", world.gripen_fbl, question)).status_code == 200
    assert logged(AccessLog.Action.VIEW_THREAD) == [world.gripen.name, world.gripen.name]
    assert logged(AccessLog.Action.PRINT) == [world.gripen.name]


def test_a_reply_is_signed_and_logged_as_the_grants_job(world, anna, question):
    client = working_as(anna, world.karlstad)
    response = client.post(
        thread_url("reply", world.gripen_fbl, question),
        {"body": "Receptet är förnyat.", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    message = Message.objects.get(author=anna.user)
    assert (message.author_organisation, message.author_profession) == (
        world.gripen.name,
        GRIPEN_JOB,
    )
    assert logged(AccessLog.Action.REPLY) == [world.gripen.name]


def test_a_reply_with_errors_logs_the_view_as_the_grants_job(world, anna, question):
    client = working_as(anna, world.karlstad)
    response = client.post(
        thread_url("reply", world.gripen_fbl, question),
        {"body": "", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert logged(AccessLog.Action.VIEW_THREAD) == [world.gripen.name]


def test_a_new_message_is_signed_and_logged_as_the_grants_job(world, anna, categories):
    client = working_as(anna, world.karlstad)
    response = client.post(
        reverse("messenger:compose", args=[world.gripen_fbl.pk]),
        {
            "recipient": world.arvika_fbl.pk,
            "category": categories["Recept"].pk,
            "subject": "Förnya recept",
            "patient": PATIENTS[2],
            "body": "Kan ni förnya receptet?",
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    message = Thread.objects.get().messages.get()
    assert (message.author_organisation, message.author_profession) == (
        world.gripen.name,
        GRIPEN_JOB,
    )
    assert logged(AccessLog.Action.SEND) == [world.gripen.name]


def test_the_other_way_round_it_is_the_first_jobs_grant(world, anna, categories):
    # Working as Gripen, Anna still writes from Karlstad's mailbox as Karlstad's nurse.
    client = working_as(anna, world.gripen)
    thread = send(world.outsider, world.karlstad_fbl, categories["Recept"], patient_id=PATIENTS[0])
    client.post(
        thread_url("reply", world.karlstad_fbl, thread),
        {"body": "Vi ringer er.", "client_token": str(uuid.uuid4())},
    )
    message = Message.objects.get(author=anna.user)
    assert (message.author_organisation, message.author_profession) == (
        world.karlstad.name,
        "Sjuksköterska",
    )
    assert logged(AccessLog.Action.REPLY) == [world.karlstad.name]


def test_forward_search_and_emptying_the_trash_are_logged_as_the_grants_job(world, anna, question):
    client = working_as(anna, world.karlstad)
    response = client.post(
        thread_url("forward", world.gripen_fbl, question),
        {
            "colleague": world.doctor.user.pk,
            "colleague_told": "on",
            "comment": "",
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("messenger:search", args=[world.gripen_fbl.pk]), {"text": "recept"}
    )
    assert response.status_code == 200
    response = client.post(reverse("messenger:empty_trash", args=[world.gripen_fbl.pk]))
    assert response.status_code == 302
    assert logged(AccessLog.Action.FORWARD) == [world.gripen.name]
    assert logged(AccessLog.Action.SEARCH) == [world.gripen.name]
    assert logged(AccessLog.Action.EMPTY_TRASH) == [world.gripen.name]


def test_a_follow_up_by_phone_is_logged_as_the_grants_job(world, anna, asked_by_gripen):
    client = working_as(anna, world.karlstad)
    response = client.post(
        thread_url("follow_up", world.gripen_fbl, asked_by_gripen),
        {"note": "Ringde Arvika, de återkommer."},
    )
    assert response.status_code == 302
    assert logged(AccessLog.Action.FOLLOW_UP) == [world.gripen.name]


def test_the_grants_job_at_the_health_centre_may_attach_journal_links(world, anna, question):
    # R11 asks for health-centre staff: through her Gripen grant she is, whatever she works as.
    client = working_as(anna, world.karlstad)
    page = client.get(thread_url("thread", world.gripen_fbl, question)).content.decode()
    assert "Bifoga länk" in page
    response = client.post(
        thread_url("attach_link", world.gripen_fbl, question),
        {
            "kind": "journal_note",
            "title": "Besök 2026-11-30",
            "reference": "J-77",
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert JournalLink.objects.get().attached_by == anna.user
    assert logged(AccessLog.Action.LINK) == [world.gripen.name]


def test_giving_a_grant_back_is_logged_as_the_grants_job(world, anna):
    client = working_as(anna, world.karlstad)
    grant = AccessGrant.objects.get(user=anna.user, mailbox=world.gripen_fbl)
    response = client.post(reverse("mailboxes:grant_give_up", args=[grant.pk]))
    assert response.status_code == 302
    assert logged(AccessLog.Action.ADMIN) == [world.gripen.name]
