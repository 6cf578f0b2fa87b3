"""The navigation's poll: answered with 304 Not Modified while what it shows stays the same."""

from django.urls import reverse

from accounts.models import Notification
from messenger.services import delivery_move, delivery_open
from tests.helpers import assert_num_queries, delivery_of, send
from tests.testdata import PATIENTS

NAV = reverse("messenger:nav")
HTMX = {"HX-Request": "true"}


def poll(client, etag: str | None = None):
    headers = dict(HTMX, **({"If-None-Match": etag} if etag else {}))
    return client.get(NAV, headers=headers)


def test_it_answers_304_when_the_browser_holds_what_it_would_show(world, categories):
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    client = world.hc_nurse.client()
    first = poll(client)
    assert first.status_code == 200
    # session, user, the navigation with both counts: a 304 costs no query more or less.
    with assert_num_queries(3):
        again = poll(client, first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_the_poll_may_be_kept_only_to_be_revalidated_by_this_browser(world):
    response = poll(world.nurse.client())
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-cache", "private"} <= cache_control
    # no-store would stop the browser from keeping it, and so from ever sending If-None-Match.
    assert "no-store" not in cache_control
    assert response.has_header("ETag")
    revalidated = poll(world.nurse.client(), response["ETag"])
    assert revalidated.status_code == 304
    assert "no-store" not in revalidated["Cache-Control"]
    assert "HX-Request" in revalidated["Vary"]


def test_other_signed_in_pages_are_still_never_stored(world):
    response = world.nurse.client().get(reverse("messenger:home"))
    assert "no-store" in response["Cache-Control"]
    assert not response.has_header("ETag")


def test_a_new_thread_changes_the_answer(world, categories):
    client = world.hc_nurse.client()
    before = poll(client)
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    after = poll(client, before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert '<span class="badge">1' in after.content.decode()


def test_reading_or_moving_a_thread_changes_the_answer(world, categories):
    first = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    second = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[1])
    client = world.hc_nurse.client()
    two = poll(client)
    assert '<span class="badge">2' in two.content.decode()
    delivery_open(user=world.hc_nurse.user, delivery=delivery_of(first, world.gripen_fbl))
    one = poll(client, two["ETag"])
    assert one.status_code == 200
    assert '<span class="badge">1' in one.content.decode()
    delivery_move(delivery=delivery_of(second, world.gripen_fbl), folder="archive")
    none = poll(client, one["ETag"])
    assert none.status_code == 200
    assert 'class="badge"' not in none.content.decode()


def test_a_new_notice_changes_the_answer(world):
    client = world.nurse.client()
    before = poll(client)
    Notification.objects.create(user=world.nurse.user, text="Påminnelse", url="/")
    after = poll(client, before["ETag"])
    assert after.status_code == 200
    assert '<span class="badge">1<' in after.content.decode()


def test_another_users_etag_gets_the_full_answer(world):
    nurse = poll(world.nurse.client())
    other = poll(world.hc_nurse.client(), nurse["ETag"])
    assert other.status_code == 200
    assert world.gripen_fbl.name in other.content.decode()


def test_a_user_without_mailboxes_still_sees_the_notice_badge(world):
    Notification.objects.create(user=world.outsider.user, text="Beslut", url="/")
    world.outsider.user.access_grants.all().delete()
    body = poll(world.outsider.client()).content.decode()
    assert "Inga brevlådor" in body
    assert '<span class="badge">1<' in body


def test_a_signed_out_poll_is_still_sent_to_sign_in(world, client):
    response = client.get(NAV, headers={"If-None-Match": '"anything"'})
    assert response.status_code == 302
