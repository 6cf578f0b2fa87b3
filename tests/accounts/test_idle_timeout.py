from datetime import timedelta

from django.urls import reverse
from django.utils import timezone


def test_a_user_idle_longer_than_the_limit_is_logged_out(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    assert client.get(reverse("messenger:home")).status_code == 200
    time_machine.shift(timedelta(minutes=31))
    response = client.get(reverse("messenger:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("messenger:home")).status_code == 302


def test_activity_keeps_the_session_but_background_polls_do_not(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    for _ in range(3):
        time_machine.shift(timedelta(minutes=20))
        assert client.get(reverse("messenger:home")).status_code == 200
    for _ in range(2):
        time_machine.shift(timedelta(minutes=20))
        client.get(reverse("messenger:nav"), headers={"HX-Request": "true"})
    assert client.get(reverse("messenger:home")).status_code == 302


def test_even_an_active_session_ends_after_the_longest_life(world, time_machine, settings):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    for _ in range(int(settings.SESSION_COOKIE_AGE / (25 * 60))):
        time_machine.shift(timedelta(minutes=25))
        assert client.get(reverse("messenger:home")).status_code == 200
    time_machine.shift(timedelta(minutes=25))
    assert client.get(reverse("messenger:home")).status_code == 302


def test_an_htmx_poll_after_the_timeout_sends_the_whole_page_to_the_login(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    time_machine.shift(timedelta(minutes=31))
    page = "http://testserver/brevlador/1/arenden/2/"
    response = client.get(
        reverse("messenger:nav"), headers={"HX-Request": "true", "HX-Current-URL": page}
    )
    # Not the login form swapped into the navigation: the browser leaves the thread.
    assert response.status_code == 204
    assert response.content == b""
    assert (
        response["HX-Redirect"]
        == reverse("accounts:login") + "?next=%2Fbrevlador%2F1%2Farenden%2F2%2F"
    )
    # Signed out, a later poll gets the same.
    again = client.get(reverse("messenger:nav"), headers={"HX-Request": "true"})
    assert again.status_code == 204
    assert again["HX-Redirect"].startswith(reverse("accounts:login"))


def test_an_ordinary_request_after_the_timeout_still_gets_the_plain_redirect(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    time_machine.shift(timedelta(minutes=31))
    assert client.get(reverse("messenger:nav")).status_code == 302
