from django.urls import reverse

from audit.models import AccessLog
from tests.factories import EmploymentFactory


def test_a_person_employed_twice_switches_working_organisation(world):
    # R18: a nurse who also works for the region switches without logging in again.
    EmploymentFactory(user=world.nurse.user, organisation=world.gripen)
    client = world.nurse.client()
    page = client.get(reverse("messenger:home")).content.decode()
    assert 'id="org-select"' in page

    response = client.post(
        reverse("accounts:switch_organisation"), {"organisation": world.gripen.pk}
    )
    assert response.status_code == 302
    page = client.get(reverse("messenger:home")).content.decode()
    assert f'value="{world.gripen.pk}" selected' in page
    entry = AccessLog.objects.get(action=AccessLog.Action.SWITCH_ORGANISATION)
    assert entry.organisation_name == world.gripen.name


def test_it_refuses_an_organisation_the_user_does_not_work_for(world):
    client = world.nurse.client()
    response = client.post(
        reverse("accounts:switch_organisation"), {"organisation": world.arvika.pk}
    )
    assert response.status_code == 404
    response = client.post(reverse("accounts:switch_organisation"), {"organisation": "x"})
    assert response.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.SWITCH_ORGANISATION).exists()


def test_it_ignores_a_redirect_to_another_site(world):
    EmploymentFactory(user=world.nurse.user, organisation=world.gripen)
    response = world.nurse.client().post(
        reverse("accounts:switch_organisation"),
        {"organisation": world.gripen.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("messenger:home")


def test_single_employment_shows_the_organisation_without_a_switcher(world):
    page = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert "Karlstads kommun" in page
    assert 'id="org-select"' not in page
