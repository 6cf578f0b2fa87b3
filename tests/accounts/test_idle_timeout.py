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
