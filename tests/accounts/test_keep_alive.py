"""The idle warning's keep-alive: a signed-in POST that counts as activity, nothing more."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import EmploymentFactory, UserFactory

KEEP_ALIVE = reverse("accounts:keep_alive")


def test_it_counts_as_activity_and_keeps_the_session(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    assert client.get(reverse("messenger:home")).status_code == 200
    time_machine.shift(timedelta(minutes=29))
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 204
    assert response.content == b""
    time_machine.shift(timedelta(minutes=29))  # 58 minutes since the page, 29 since the press
    assert client.get(reverse("messenger:home")).status_code == 200


def test_without_it_the_same_wait_ends_the_session(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    time_machine.shift(timedelta(minutes=31))
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_needs_a_signed_in_user(db):
    response = Client().post(KEEP_ALIVE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_needs_the_csrf_token_and_a_post(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.nurse.user)
    assert client.post(KEEP_ALIVE).status_code == 403
    page = client.get(reverse("messenger:home")).content.decode()
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post(KEEP_ALIVE, headers={"X-CSRFToken": token}).status_code == 204
    assert client.get(KEEP_ALIVE).status_code == 405


def test_it_works_before_the_agreement_is_accepted(world):
    # The agreement page has the idle warning too: its "Fortsätt arbeta" must not be turned away.
    user = UserFactory.create(agreement=False)
    EmploymentFactory.create(user=user, organisation=world.karlstad)
    client = Client()
    client.force_login(user)
    assert client.post(KEEP_ALIVE).status_code == 204


def test_signed_in_pages_tell_the_script_the_idle_time(world, settings):
    settings.SESSION_IDLE_SECONDS = 600
    page = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert 'data-idle-seconds="600"' in page
    assert 'data-idle-passive="/brevlador/nav/"' in page
    assert f'data-keep-alive-url="{KEEP_ALIVE}"' in page
    assert f'data-login-url="{reverse("accounts:login")}"' in page
    assert 'role="alertdialog"' in page
    assert "Fortsätt arbeta" in page
    assert '<script src="/static/js/idle.js" defer></script>' in page


def test_the_login_page_has_no_idle_timer(db):
    page = Client().get(reverse("accounts:login")).content.decode()
    assert "data-idle-seconds" not in page
    assert 'role="alertdialog"' not in page


def test_the_login_page_reached_after_the_timeout_keeps_its_next(world, time_machine):
    # Where the idle warning sends the browser: the login form, coming back to the thread after.
    time_machine.move_to(timezone.now(), tick=False)
    client = world.nurse.client()
    client.get(reverse("messenger:home"))
    time_machine.shift(timedelta(minutes=31))
    back = reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])
    response = client.get(reverse("accounts:login"), {"next": back})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Du har loggats ut efter en tids inaktivitet." in page
    assert f'value="{back}"' in page
    assert client.get(back).status_code == 302  # signed out
