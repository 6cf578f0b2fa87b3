import pytest
from django.urls import reverse

from audit.models import AccessLog
from mailboxes.models import AccessGrant
from tests.helpers import delivery_of, send, thread_url
from tests.testdata import PATIENTS

THREAD_VIEWS = ["thread", "print", "forward"]
THREAD_POSTS = ["reply", "attach_link", "move", "mark_unread", "forward"]


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])


def test_it_shows_the_whole_thread_with_the_full_patient_number(world, thread):
    response = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    page = response.content.decode()
    assert response.status_code == 200
    assert "20000101-2384" in page
    assert world.nurse.user.display_name() in page
    assert "Sjuksköterska" in page
    assert "Karlstads kommun" in page
    assert "svar senast" in page
    assert "72 h kvar" in page or "71 h kvar" in page
    assert "20000101-2384" not in response.request["PATH_INFO"]
    title = page.split("<title>")[1].split("</title>")[0]
    assert thread.subject not in title  # subjects may name the patient: titles never show them


def test_opening_marks_it_read_in_that_mailbox_only_and_records_the_first_opener(world, thread):
    world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    thread.refresh_from_db()
    assert delivery_of(thread, world.gripen_fbl).read_at is not None
    assert thread.first_opened_by == world.hc_nurse.user
    first = thread.first_opened_at
    # The sender opening its copy changes nothing about who opened it first.
    world.nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    thread.refresh_from_db()
    assert (thread.first_opened_by, thread.first_opened_at) == (world.hc_nurse.user, first)


def test_every_view_is_logged_with_the_patient(world, thread):
    world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    entry = AccessLog.objects.get(action=AccessLog.Action.VIEW_THREAD)
    assert entry.user_id_snapshot == world.hc_nurse.user.pk
    assert entry.patient_id == PATIENTS[0]
    assert entry.mailbox_name == world.gripen_fbl.name
    assert entry.thread_id_snapshot == thread.pk


@pytest.mark.parametrize("name", THREAD_VIEWS)
def test_outsider_gets_404_on_every_thread_page(world, thread, name):
    client = world.outsider.client()
    for mailbox in (world.gripen_fbl, world.karlstad_fbl, world.arvika_fbl):
        assert client.get(thread_url(name, mailbox, thread)).status_code == 404
    # Nothing read is logged; each refusal is, as a denied attempt without the patient.
    outsiders_rows = AccessLog.objects.filter(
        user_id_snapshot=world.outsider.user.pk, thread_id_snapshot__isnull=False
    )
    assert not outsiders_rows.exclude(action=AccessLog.Action.DENIED).exists()
    assert outsiders_rows.filter(action=AccessLog.Action.DENIED, patient_id="").count() == 3


@pytest.mark.parametrize("name", THREAD_POSTS)
def test_outsider_gets_404_on_every_thread_action(world, thread, name):
    client = world.outsider.client()
    response = client.post(
        thread_url(name, world.gripen_fbl, thread), {"body": "x", "folder": "trash"}
    )
    assert response.status_code == 404
    assert thread.messages.count() == 1


def test_a_grant_on_one_mailbox_does_not_open_the_thread_through_another(world, thread):
    # bo holds Gripen's grant; asking through Karlstad's mailbox id must not work.
    response = world.hc_nurse.client().get(thread_url("thread", world.karlstad_fbl, thread))
    assert response.status_code == 404


def test_an_ended_grant_closes_the_thread_at_once(world, thread):
    client = world.hc_nurse.client()
    assert client.get(thread_url("thread", world.gripen_fbl, thread)).status_code == 200
    AccessGrant.objects.filter(user=world.hc_nurse.user).update(ended_at=thread.created_at)
    assert client.get(thread_url("thread", world.gripen_fbl, thread)).status_code == 404


def test_a_read_only_grant_reads_but_cannot_reply_or_sort(world, thread):
    from messenger.models import Delivery

    AccessGrant.objects.filter(user=world.hc_nurse.user).update(level=AccessGrant.Level.READ)
    client = world.hc_nurse.client()
    page = client.get(thread_url("thread", world.gripen_fbl, thread)).content.decode()
    assert "Skicka svar" not in page
    assert "Flytta" not in page
    response = client.post(thread_url("reply", world.gripen_fbl, thread), {"body": "Svar"})
    assert response.status_code == 404
    assert thread.messages.count() == 1
    for name, data in (("move", {"folder": "trash"}), ("mark_unread", {})):
        assert client.post(thread_url(name, world.gripen_fbl, thread), data).status_code == 404
    copy = Delivery.objects.get(thread=thread, mailbox=world.gripen_fbl)
    assert copy.folder == Delivery.Folder.INBOX
    assert copy.read_at is not None  # opened above, and not marked unread


def test_the_print_view_carries_the_working_document_notice(world, thread):
    response = world.hc_nurse.client().get(thread_url("print", world.gripen_fbl, thread))
    page = response.content.decode()
    assert "Arbetsmaterial" in page
    assert "förstöras när ärendet är avslutat" in page
    assert AccessLog.objects.filter(action=AccessLog.Action.PRINT).count() == 1


def test_markup_in_a_message_is_shown_as_text(world, categories):
    thread = send(
        world.nurse,
        world.gripen_fbl,
        categories["Recept"],
        patient_id=PATIENTS[1],
        body="Tecken som 5 < 7 & 8 > 3 visas som text",
    )
    page = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert "5 &lt; 7 &amp; 8 &gt; 3" in page.content.decode()


def test_unknown_thread_is_404(world):
    url = reverse("messenger:thread", args=[world.gripen_fbl.pk, 999999])
    assert world.hc_nurse.client().get(url).status_code == 404


def test_someone_whose_employments_have_all_ended_reads_nothing(world, thread):
    from accounts.models import Employment

    client = world.hc_nurse.client()
    Employment.objects.filter(user=world.hc_nurse.user).update(ended_at=thread.created_at)
    for name in ("thread", "print"):
        assert client.get(thread_url(name, world.gripen_fbl, thread)).status_code == 404
    url = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    assert client.get(url).status_code == 404


def test_the_access_log_names_the_organisation_that_owns_the_mailbox(world, thread):
    world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    entry = AccessLog.objects.get(action=AccessLog.Action.VIEW_THREAD)
    assert entry.mailbox_organisation_name == world.gripen.name
    assert entry.organisation_name == world.gripen.name


def test_opening_the_forward_page_is_logged(world, thread):
    world.hc_nurse.client().get(thread_url("forward", world.gripen_fbl, thread))
    assert AccessLog.objects.filter(
        action=AccessLog.Action.VIEW_THREAD, thread_id_snapshot=thread.pk
    ).exists()


def test_a_link_on_another_site_does_not_open_the_thread_in_the_users_name(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    client = world.hc_nurse.client()
    for name in ("thread", "print"):
        url = thread_url(name, world.gripen_fbl, thread)
        page = client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
        assert page.status_code == 200
        body = page.content.decode()
        assert f'href="{url}"' in body
        assert thread.subject not in body
    assert delivery_of(thread, world.gripen_fbl).read_at is None
    thread.refresh_from_db()
    assert thread.first_opened_at is None
    assert not AccessLog.objects.filter(action__in=["view_thread", "print"]).exists()
    # The one click on our own page opens it.
    opened = client.get(
        thread_url("thread", world.gripen_fbl, thread), headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert thread.subject in opened.content.decode()
    assert delivery_of(thread, world.gripen_fbl).read_at is not None
