from django.test import Client
from django.urls import reverse

from audit.models import AccessLog

NEW_PASSWORD = "Granskog-vid-Klarälven-7"


def change(client: Client, old: str, new: str, again: str | None = None):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


def test_the_security_page_offers_the_password_change(world):
    response = world.nurse.client().get(reverse("accounts:security"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Inloggning och säkerhet" in body
    assert 'name="old_password"' in body
    assert 'name="new_password1"' in body


def test_a_user_changes_their_password_stays_signed_in_and_it_is_logged(world, demo_password):
    client = world.nurse.client()
    response = change(client, demo_password, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:security")
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(NEW_PASSWORD)
    # update_session_auth_hash: this session goes on.
    assert client.get(reverse("messenger:home")).status_code == 200
    assert AccessLog.objects.filter(
        action=AccessLog.Action.PASSWORD_CHANGE, user_id_snapshot=world.nurse.user.pk
    ).exists()


def test_other_sessions_end_when_the_password_changes(world, demo_password):
    elsewhere = world.nurse.client()
    assert elsewhere.get(reverse("messenger:home")).status_code == 200
    change(world.nurse.client(), demo_password, NEW_PASSWORD)
    assert elsewhere.get(reverse("messenger:home")).status_code == 302


def test_a_short_password_is_refused_in_swedish_and_nothing_changes(world, demo_password):
    client = world.nurse.client()
    response = change(client, demo_password, "Kort-7a")
    assert response.status_code == 400
    body = response.content.decode()
    assert "minst 12 tecken" in body
    assert "Inget har sparats" in body
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(demo_password)
    assert not AccessLog.objects.filter(action=AccessLog.Action.PASSWORD_CHANGE).exists()


def test_a_common_password_is_refused(world, demo_password):
    response = change(world.nurse.client(), demo_password, "password1234")
    assert response.status_code == 400
    assert "för vanligt" in response.content.decode()
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(demo_password)


def test_the_wrong_old_password_is_refused(world, demo_password):
    response = change(world.nurse.client(), "inte-mitt-losenord", NEW_PASSWORD)
    assert response.status_code == 400
    assert "gamla lösenord" in response.content.decode()
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(demo_password)


def test_two_different_new_passwords_are_refused(world, demo_password):
    response = change(world.nurse.client(), demo_password, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert response.status_code == 400
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(demo_password)


def test_the_password_change_needs_a_post_and_a_signed_in_user(client, world):
    assert world.nurse.client().get(reverse("accounts:password_change")).status_code == 405
    response = client.post(reverse("accounts:password_change"), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_single_sign_on_session_cannot_change_a_password_here(world, demo_password):
    client = world.nurse.client()
    session = client.session
    session["auth_method"] = "oidc"
    session.save()
    assert change(client, demo_password, NEW_PASSWORD).status_code == 404
    world.nurse.user.refresh_from_db()
    assert world.nurse.user.check_password(demo_password)
