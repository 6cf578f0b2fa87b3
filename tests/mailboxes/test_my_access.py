from django.urls import reverse

from accounts.models import Notification
from tests.mailboxes.conftest import apply

URL = reverse("mailboxes:my_access")


def test_it_lists_grants_requests_and_notifications(world, applicant):
    apply(world.nurse, world.arvika_fbl)
    Notification.objects.create(user=world.nurse.user, text="Din ansökan är beviljad.")
    response = world.nurse.client().get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert world.karlstad_fbl.name in body  # her grant
    assert "Väntar på beslut" in body  # her request to Arvika
    assert "Din ansökan är beviljad." in body
    # Shown once as new; read afterwards.
    assert not Notification.objects.unread().filter(user=world.nurse.user).exists()


def test_it_shows_nobody_elses_grants_or_notifications(world):
    Notification.objects.create(user=world.outsider.user, text="Till David")
    body = world.nurse.client().get(URL).content.decode()
    assert world.arvika_fbl.name not in body
    assert "Till David" not in body


def test_unread_notifications_are_announced_at_login(world, demo_password):
    from django.test import Client

    Notification.objects.create(user=world.nurse.user, text="Beviljad")
    client = Client()
    response = client.post(
        reverse("accounts:login"),
        {"username": world.nurse.user.username, "password": demo_password},
        follow=True,
    )
    assert "1 ny avisering" in response.content.decode()
