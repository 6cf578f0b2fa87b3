"""The notification list, the header's badge on the navigation's poll, and e-mail choices."""

from django.urls import reverse

from accounts.models import Notification
from mailboxes.models import EmailSetting, NotificationKind
from tests.helpers import assert_num_queries

NAV = reverse("messenger:nav")
NOTICES = reverse("mailboxes:notifications")
SETTINGS = reverse("mailboxes:email_settings")


def test_the_poll_brings_the_badge_out_of_band_in_three_queries(world):
    Notification.objects.create(user=world.nurse.user, text="Påminnelse", url="/")
    client = world.nurse.client()
    client.get(NAV, headers={"HX-Request": "true"})  # warm the session
    # session, user, mailboxes with unread counts and the unread notifications' count in one;
    # the poll is no activity, so the session is not saved, and it shows no organisation's work.
    with assert_num_queries(3):
        response = client.get(NAV, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="notice-badge"' in body
    assert 'hx-swap-oob="true"' in body
    assert '<span class="badge">1<' in body
    assert world.karlstad_fbl.name in body


def test_every_page_shows_the_badge_without_the_out_of_band_mark(world):
    Notification.objects.create(user=world.nurse.user, text="Påminnelse", url="/")
    page = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert 'id="notice-badge"' in page
    assert "hx-swap-oob" not in page


def test_the_list_shows_ones_own_notices_and_marks_them_read(world):
    Notification.objects.create(
        user=world.nurse.user,
        text="Svarstiden har gått ut för en fråga från Karlstad (Recept).",
        url="/brevlador/1/arenden/2/",
        kind=NotificationKind.OVERDUE,
    )
    Notification.objects.create(user=world.outsider.user, text="Till David")
    client = world.nurse.client()
    page = client.get(NOTICES).content.decode()
    assert "Svarstiden har gått ut" in page
    assert 'href="/brevlador/1/arenden/2/"' in page
    assert "Till David" not in page
    assert not Notification.objects.unread().filter(user=world.nurse.user).exists()
    assert Notification.objects.unread().filter(user=world.outsider.user).exists()


def test_the_settings_show_the_defaults(world):
    page = world.doctor.client().get(SETTINGS).content.decode()
    box = world.doctor.mailbox.pk
    assert f'name="{box}-new_message" checked' in page
    assert f'name="{box}-reminder" checked' in page
    # A personal mailbox is not monitored: no choice about missed checks.
    assert f"{box}-check_missed" not in page


def test_choices_are_saved_per_mailbox_and_kind(world):
    box = world.gripen_fbl.pk
    response = world.hc_nurse.client().post(
        SETTINGS, {"mailbox": [box], f"{box}-new_message": "on", f"{box}-overdue": "on"}
    )
    assert response.status_code == 302
    chosen = dict(
        EmailSetting.objects.filter(user=world.hc_nurse.user).values_list("kind", "enabled")
    )
    assert chosen == {
        "new_message": True,
        "reminder": False,
        "overdue": True,
        "check_missed": False,
    }


def test_a_mailbox_without_a_grant_is_refused_and_nothing_saved(world):
    own, other = world.hc_nurse.mailbox.pk, world.arvika_fbl.pk
    response = world.hc_nurse.client().post(
        SETTINGS, {"mailbox": [own, other], f"{own}-reminder": "on", f"{other}-reminder": "on"}
    )
    assert response.status_code == 400
    assert "Du har inte behörighet till en av brevlådorna. Inget är sparat." in (
        response.content.decode()
    )
    assert not EmailSetting.objects.exists()


def test_a_malformed_mailbox_id_is_refused(world):
    response = world.hc_nurse.client().post(SETTINGS, {"mailbox": ["x"]})
    assert response.status_code == 400
    assert not EmailSetting.objects.exists()


def test_the_pages_need_a_sign_in(client):
    assert client.get(NOTICES).status_code == 302
    assert client.post(SETTINGS, {}).status_code == 302


def test_only_the_notices_shown_become_read(world):
    for n in range(55):
        Notification.objects.create(user=world.nurse.user, text=f"Avisering {n}")
    world.nurse.client().get(NOTICES)
    assert Notification.objects.unread().filter(user=world.nurse.user).count() == 5
