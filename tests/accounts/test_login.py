import pytest
from django.urls import reverse

from audit.models import AccessLog

WRONG_CREDENTIALS = "Ange ett korrekt användarnamn och lösenord"


@pytest.fixture
def login_url() -> str:
    return reverse("accounts:login")


def test_it_shows_the_login_form_in_swedish(db, client, login_url):
    response = client.get(login_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="sv">' in body
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert "Logga in" in body


def test_it_logs_in_and_lands_on_the_mailbox_list(client, world, demo_password, login_url):
    response = client.post(
        login_url, {"username": world.nurse.user.username, "password": demo_password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("messenger:home")
    assert AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN, user_id_snapshot=world.nurse.user.pk
    ).exists()


def test_wrong_password_and_unknown_user_get_the_same_swedish_message(client, world, login_url):
    wrong_password = client.post(
        login_url, {"username": world.nurse.user.username, "password": "fel-losenord-123"}
    )
    unknown_user = client.post(login_url, {"username": "finns_inte", "password": "vad-som-helst"})
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert WRONG_CREDENTIALS in response.content.decode()
    # The typed username is kept, the password is not echoed back.
    assert "fel-losenord-123" not in wrong_password.content.decode()
    assert f'value="{world.nurse.user.username}"' in wrong_password.content.decode()
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).count() == 2


def test_inactive_user_cannot_log_in(client, world, demo_password, login_url):
    world.nurse.user.is_active = False
    world.nurse.user.save(update_fields=["is_active"])
    response = client.post(
        login_url, {"username": world.nurse.user.username, "password": demo_password}
    )
    assert WRONG_CREDENTIALS in response.content.decode()


def test_logout_needs_a_post_and_ends_the_session(world):
    client = world.nurse.client()
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("messenger:home")).status_code == 302
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGOUT).count() == 1


def test_pages_need_login(client, world):
    response = client.get(reverse("messenger:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_english_is_available(db, client, login_url):
    response = client.post(reverse("set_language"), {"language": "en", "next": login_url})
    assert response.status_code == 302
    body = client.get(login_url).content.decode()
    assert '<html lang="en">' in body


def test_swedish_even_when_the_browser_asks_for_english(db, client, login_url):
    response = client.get(login_url, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="sv">' in response.content.decode()
    assert response["Content-Language"] == "sv"


def test_the_english_ui_is_translated(db, client, login_url):
    client.post(reverse("set_language"), {"language": "en", "next": login_url})
    body = client.get(login_url).content.decode()
    assert "Log in" in body
    assert "Användarnamn" not in body
