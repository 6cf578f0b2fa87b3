import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AccessLog
from messenger.models import Delivery, Thread
from messenger.selectors import decode_cursor
from messenger.services import delivery_move
from tests.helpers import delivery_of, send, thread_url
from tests.testdata import PATIENTS


@pytest.fixture
def thread(world, categories):
    return send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])


def folder_page(persona, mailbox, slug):
    url = reverse("messenger:mailbox", args=[mailbox.pk])
    return persona.client().get(url, {"mapp": slug}).content.decode()


def test_marking_handled_moves_the_thread_to_the_archive(world, thread):
    client = world.hc_nurse.client()
    response = client.post(
        thread_url("move", world.gripen_fbl, thread), {"folder": "archive"}, follow=True
    )
    assert response.redirect_chain[-1][1] == 302
    # The message names the thread that moved.
    assert f"”{thread.subject}” ligger nu i Arkiv." in response.content.decode()
    assert delivery_of(thread, world.gripen_fbl).folder == Delivery.Folder.ARCHIVE
    assert thread.subject in folder_page(world.hc_nurse, world.gripen_fbl, "arkiv")
    assert thread.subject not in folder_page(world.hc_nurse, world.gripen_fbl, "inkorg")
    # The other mailbox's copy stays where it was: folders are per mailbox.
    assert delivery_of(thread, world.karlstad_fbl).folder == Delivery.Folder.SENT


def test_an_unknown_folder_is_refused(world, thread):
    client = world.hc_nurse.client()
    response = client.post(
        thread_url("move", world.gripen_fbl, thread), {"folder": "nowhere"}, follow=True
    )
    assert "Mappen finns inte" in response.content.decode()
    assert delivery_of(thread, world.gripen_fbl).folder == Delivery.Folder.INBOX


def test_a_received_thread_cannot_be_moved_to_sent(world, thread):
    client = world.hc_nurse.client()
    page = client.get(thread_url("thread", world.gripen_fbl, thread)).content.decode()
    assert 'value="sent"' not in page
    response = client.post(
        thread_url("move", world.gripen_fbl, thread), {"folder": "sent"}, follow=True
    )
    assert "Mappen finns inte" in response.content.decode()
    assert delivery_of(thread, world.gripen_fbl).folder == Delivery.Folder.INBOX
    with pytest.raises(ValidationError):
        delivery_move(delivery=delivery_of(thread, world.gripen_fbl), folder="sent")


def test_the_sender_can_put_a_thread_back_in_sent(world, thread):
    client = world.nurse.client()
    client.post(thread_url("move", world.karlstad_fbl, thread), {"folder": "archive"})
    page = client.get(thread_url("thread", world.karlstad_fbl, thread)).content.decode()
    assert 'value="sent"' in page
    client.post(thread_url("move", world.karlstad_fbl, thread), {"folder": "sent"})
    assert delivery_of(thread, world.karlstad_fbl).folder == Delivery.Folder.SENT


def test_mark_unread_brings_back_the_unread_count(world, thread):
    client = world.hc_nurse.client()
    client.get(thread_url("thread", world.gripen_fbl, thread))
    assert delivery_of(thread, world.gripen_fbl).read_at is not None
    client.post(thread_url("mark_unread", world.gripen_fbl, thread))
    assert delivery_of(thread, world.gripen_fbl).read_at is None


def test_emptying_the_trash_asks_first_then_removes_only_this_mailboxs_copy(world, thread):
    client = world.hc_nurse.client()
    client.post(thread_url("move", world.gripen_fbl, thread), {"folder": "trash"})
    url = reverse("messenger:empty_trash", args=[world.gripen_fbl.pk])
    confirm = client.get(url).content.decode()
    assert "går inte att ångra" in confirm
    assert Delivery.objects.filter(thread=thread, mailbox=world.gripen_fbl).exists()

    response = client.post(url)
    assert response.status_code == 302
    assert not Delivery.objects.filter(thread=thread, mailbox=world.gripen_fbl).exists()
    assert Thread.objects.filter(pk=thread.pk).exists()  # Karlstad still holds it
    assert AccessLog.objects.filter(action=AccessLog.Action.EMPTY_TRASH).exists()


def test_a_thread_nobody_holds_any_longer_is_deleted(world, thread):
    for persona, mailbox in ((world.hc_nurse, world.gripen_fbl), (world.nurse, world.karlstad_fbl)):
        client = persona.client()
        client.post(thread_url("move", mailbox, thread), {"folder": "trash"})
        client.post(reverse("messenger:empty_trash", args=[mailbox.pk]))
    assert not Thread.objects.filter(pk=thread.pk).exists()
    # The access log outlives the thread.
    assert AccessLog.objects.filter(thread_id_snapshot=thread.pk).exists()


def test_an_empty_trash_says_so_instead_of_offering_to_delete_nothing(world, thread):
    url = reverse("messenger:empty_trash", args=[world.gripen_fbl.pk])
    page = world.hc_nurse.client().get(url).content.decode()
    assert "Papperskorgen är redan tom." in page
    assert "Ja, töm papperskorgen" not in page


def test_emptying_the_trash_needs_a_send_grant_and_a_post(world, thread):
    url = reverse("messenger:empty_trash", args=[world.gripen_fbl.pk])
    assert world.outsider.client().post(url).status_code == 404
    assert world.hc_nurse.client().delete(url).status_code == 405


def test_the_inbox_pages_by_keyset_not_offset(world, categories):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(30):
        send(
            world.nurse,
            world.gripen_fbl,
            categories["Recept"],
            patient_id=PATIENTS[n],
            subject=f"Ärende nummer {n:02d}",
        )
    client = world.hc_nurse.client()
    url = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    with CaptureQueriesContext(connection) as captured:
        first = client.get(url)
    assert not any("OFFSET" in q["sql"] for q in captured)
    page = first.context["page"]
    assert len(page.deliveries) == 25
    assert page.next_cursor
    second = client.get(url, {"efter": page.next_cursor}, headers={"HX-Request": "true"})
    # The fragment renders no template of its own, so the test client records no context.
    rest = [int(pk) for pk in re.findall(r"/arenden/(\d+)/", second.content.decode())]
    assert len(rest) == 5
    seen = {row.thread_id for row in page.deliveries} | set(rest)
    assert len(seen) == 30
    assert "<html" not in second.content.decode()  # the htmx fragment only


@pytest.mark.parametrize(
    "cursor",
    [
        "inte-en-markör",
        "2024-13-45T00:00:00_5",
        "2024-01-01T25:00:00_1",
        "2024-01-01T10:00:00_1",
        "2024-01-01T00:00:00+00:00_\u00b2",
        "2024-01-01T00:00:00+00:00_\u0661",
        "2024-01-01T00:00:00+00:00_99999999999999999999999",
        "2024-01-01T00:00:00+00:00_",
        "0001-01-01T00:00:00+01:00_1",
        "9999-12-31T23:59:59-23:59_1",
        "2024-01-01T00:00:00+00:00_1\x00",
        "\x00",
    ],
    ids=[
        "garbled",
        "impossible-date",
        "impossible-hour",
        "naive",
        "superscript-digit",
        "arabic-indic-digit",
        "id-beyond-bigint",
        "no-id",
        "year-1-east-of-utc",
        "year-9999-west-of-utc",
        "nul-after-id",
        "nul",
    ],
)
def test_a_bad_cursor_shows_the_first_page(world, thread, cursor):
    url = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    response = world.hc_nurse.client().get(url, {"efter": cursor})
    assert response.status_code == 200
    assert thread.subject in response.content.decode()


def test_a_control_character_in_the_folder_name_shows_the_inbox(world, thread):
    url = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    response = world.hc_nurse.client().get(url, {"mapp": "arkiv\x00"})
    assert response.status_code == 200
    assert thread.subject in response.content.decode()


def test_a_cursor_with_an_offset_postgresql_refuses_still_pages(world, thread):
    # Python reads +16:00; PostgreSQL stops at ±15:59. In UTC it is an ordinary moment.
    url = reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    response = world.hc_nurse.client().get(url, {"efter": "2099-01-01T00:00:00+16:00_1"})
    assert response.status_code == 200
    assert thread.subject in response.content.decode()


def test_a_cursor_in_another_time_zone_names_the_same_moment():
    position = decode_cursor("2026-11-22T06:30:00+01:00_7")
    assert position == (datetime(2026, 11, 22, 5, 30, tzinfo=UTC), 7)
    assert position[0].utcoffset() == timedelta(0)


def test_opening_the_mailbox_records_the_grants_last_use(world):
    from mailboxes.models import AccessGrant

    grant = AccessGrant.objects.get(user=world.hc_nurse.user, mailbox=world.gripen_fbl)
    assert grant.last_used_at is None
    world.hc_nurse.client().get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk]))
    grant.refresh_from_db()
    assert grant.last_used_at is not None
