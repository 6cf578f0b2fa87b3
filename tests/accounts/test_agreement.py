from django.test import Client
from django.urls import reverse

from accounts import agreement
from accounts.models import AgreementAcceptance, User
from audit.models import AccessLog
from tests.factories import AccessGrantFactory, EmploymentFactory, UserFactory


def new_user_client(world) -> tuple[Client, User]:
    user = UserFactory.create(agreement=False)
    EmploymentFactory.create(user=user, organisation=world.karlstad)
    client = Client()
    client.force_login(user)
    return client, user


def test_a_user_who_has_not_accepted_is_sent_to_the_agreement_first(world):
    client, _user = new_user_client(world)
    home = reverse("messenger:home")
    for url in (home, reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert (
            response["Location"]
            == f"{reverse('accounts:agreement')}?next={url.replace('/', '%2F')}"
        )
    page = client.get(reverse("accounts:agreement"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sekretessförbindelse" in body
    assert "tystnadsplikten" in body.lower()


def test_the_gate_blocks_access_administration_and_posts_too(world):
    client, _user = new_user_client(world)
    assert client.get(reverse("mailboxes:my_access")).status_code == 302
    response = client.post(reverse("mailboxes:request_create"), {})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:agreement")


def test_a_polled_fragment_gets_no_content_instead_of_the_agreement(world):
    client, _user = new_user_client(world)
    response = client.get(reverse("messenger:nav"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.content == b""


def test_login_logout_and_language_stay_reachable(world):
    client, _user = new_user_client(world)
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:login")).status_code == 200


def test_accepting_records_version_and_time_and_returns_to_the_page(world):
    client, user = new_user_client(world)
    target = reverse("mailboxes:my_access")
    response = client.post(
        reverse("accounts:agreement"),
        {"version": agreement.CURRENT_VERSION, "accept": "on", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == target
    acceptance = AgreementAcceptance.objects.get(user=user)
    assert acceptance.version == agreement.CURRENT_VERSION
    assert acceptance.accepted_at is not None
    assert AccessLog.objects.filter(
        action=AccessLog.Action.ADMIN,
        user_id_snapshot=user.pk,
        detail__contains="sekretessförbindelsen version",
    ).exists()
    assert client.get(reverse("messenger:home")).status_code == 200


def test_without_the_tick_nothing_is_recorded_and_a_swedish_error_shows(world):
    client, user = new_user_client(world)
    response = client.post(
        reverse("accounts:agreement"), {"version": agreement.CURRENT_VERSION, "next": "/"}
    )
    assert response.status_code == 200
    assert "Kryssa i rutan" in response.content.decode()
    assert not AgreementAcceptance.objects.filter(user=user).exists()


def test_an_old_version_cannot_be_accepted(world):
    client, user = new_user_client(world)
    response = client.post(
        reverse("accounts:agreement"),
        {"version": agreement.CURRENT_VERSION - 1, "accept": "on"},
    )
    assert response.status_code == 200
    assert "har ändrats" in response.content.decode()
    assert not AgreementAcceptance.objects.filter(user=user).exists()


def test_a_redirect_to_another_site_is_ignored(world):
    client, _user = new_user_client(world)
    response = client.post(
        reverse("accounts:agreement"),
        {
            "version": agreement.CURRENT_VERSION,
            "accept": "on",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("messenger:home")


def test_a_new_version_asks_everyone_again(world, monkeypatch):
    client = world.nurse.client()
    assert client.get(reverse("messenger:home")).status_code == 200
    new_version = agreement.CURRENT_VERSION + 1
    monkeypatch.setitem(agreement.VERSIONS, new_version, "Ny text om tystnadsplikt.")
    monkeypatch.setattr(agreement, "CURRENT_VERSION", new_version)
    import accounts.forms
    import accounts.services

    monkeypatch.setattr(accounts.forms, "CURRENT_VERSION", new_version)
    monkeypatch.setattr(accounts.services, "CURRENT_VERSION", new_version)
    response = client.get(reverse("messenger:home"))
    assert response.status_code == 302
    assert "Ny text om tystnadsplikt." in client.get(reverse("accounts:agreement")).content.decode()
    client.post(reverse("accounts:agreement"), {"version": new_version, "accept": "on"})
    assert client.get(reverse("messenger:home")).status_code == 200
    assert AgreementAcceptance.objects.filter(user=world.nurse.user).count() == 2


def test_logging_in_remembers_an_earlier_acceptance(world, demo_password):
    client = Client()
    assert client.login(username=world.nurse.user.username, password=demo_password)
    assert client.get(reverse("messenger:home")).status_code == 200


def test_the_agreement_page_forwards_someone_who_already_accepted(world):
    client = world.nurse.client()
    response = client.get(reverse("accounts:agreement"), {"next": "/behorighet/"})
    assert response.status_code == 302
    assert response["Location"] == "/behorighet/"


def test_no_page_shows_the_mailboxes_before_the_agreement_is_accepted(world):
    # R17: not even the names of the mailboxes, on the error pages the gate does not stand in
    # front of (an unknown address, a refused form) nor on the agreement page itself.
    client, user = new_user_client(world)
    AccessGrantFactory.create(user=user, mailbox=world.karlstad_fbl)
    refusing = Client(enforce_csrf_checks=True)
    refusing.force_login(user)
    pages = {
        404: client.get("/finns-inte/"),
        200: client.get(reverse("accounts:agreement")),
        403: refusing.post(reverse("accounts:agreement"), {"version": agreement.CURRENT_VERSION}),
    }
    for status, response in pages.items():
        assert response.status_code == status
        page = response.content.decode()
        assert world.karlstad_fbl.name not in page
        assert "Mina brevlådor" not in page

    client.post(
        reverse("accounts:agreement"), {"version": agreement.CURRENT_VERSION, "accept": "on"}
    )
    assert world.karlstad_fbl.name in client.get("/finns-inte/").content.decode()
