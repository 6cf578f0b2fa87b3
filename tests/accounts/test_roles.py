from auditlog.models import LogEntry
from django.urls import reverse

from accounts.models import Employment, Organisation, Role
from audit.models import AccessLog
from tests.factories import EmploymentFactory, OrganisationFactory, UserFactory


def make_sysadmin():
    region = OrganisationFactory.create(
        name="Region Värmland Förvaltning", kind=Organisation.Kind.REGION_UNIT
    )
    return EmploymentFactory.create(
        user=UserFactory.create(is_superuser=True, is_staff=True),
        organisation=region,
        roles=[Role.STAFF, Role.SUPERUSER],
    )


def make_org_superuser(org):
    return EmploymentFactory.create(organisation=org, roles=[Role.STAFF, Role.SUPERUSER])


def login(employment):
    from django.test import Client

    client = Client()
    client.force_login(employment.user)
    return client


def test_a_system_administrator_assigns_roles_in_any_organisation(world):
    client = login(make_sysadmin())
    assert world.arvika.name in client.get(reverse("accounts:roles_index")).content.decode()
    page = client.get(reverse("accounts:roles", args=[world.arvika.pk])).content.decode()
    assert world.outsider.user.display_name() in page
    response = client.post(
        reverse("accounts:employment_roles", args=[world.outsider.employment.pk]),
        {"roles": ["staff", "access_approver"], "reason": "Ny behörighetsbeställare för HSL"},
    )
    assert response.status_code == 302
    world.outsider.employment.refresh_from_db()
    assert world.outsider.employment.roles == ["staff", "access_approver"]
    entry = AccessLog.objects.get(action=AccessLog.Action.ADMIN, detail__contains="Ändrade roller")
    assert entry.organisation_name == world.arvika.name
    assert "Behörighetsbeställare" in entry.detail
    assert "Ny behörighetsbeställare för HSL" in entry.detail
    assert LogEntry.objects.get_for_object(world.outsider.employment).exists()


def test_an_organisations_superuser_assigns_roles_in_their_own_organisation(world):
    superuser = make_org_superuser(world.karlstad)
    client = login(superuser)
    index = client.get(reverse("accounts:roles_index"))
    assert index["Location"] == reverse("accounts:roles", args=[world.karlstad.pk])
    response = client.post(
        reverse("accounts:employment_roles", args=[world.nurse.employment.pk]),
        {"roles": ["staff", "statistics_reader"], "reason": "Följer svarstiderna"},
    )
    assert response.status_code == 302
    world.nurse.employment.refresh_from_db()
    assert world.nurse.employment.roles == ["staff", "statistics_reader"]


def test_a_superuser_of_another_organisation_gets_404(world):
    client = login(make_org_superuser(world.arvika))
    assert client.get(reverse("accounts:roles", args=[world.karlstad.pk])).status_code == 404
    response = client.post(
        reverse("accounts:employment_roles", args=[world.nurse.employment.pk]),
        {"roles": ["staff", "superuser"], "reason": "försök"},
    )
    assert response.status_code == 404
    world.nurse.employment.refresh_from_db()
    assert world.nurse.employment.roles == ["staff"]


def test_people_without_the_role_get_404(world):
    for persona in (world.nurse, world.approver, world.log_reviewer):
        client = persona.client()
        assert client.get(reverse("accounts:roles_index")).status_code == 404
        assert client.get(reverse("accounts:roles", args=[world.karlstad.pk])).status_code == 404
        url = reverse("accounts:employment_roles", args=[world.nurse.employment.pk])
        assert client.get(url).status_code == 404


def test_a_missing_reason_keeps_the_choice_and_changes_nothing(world):
    client = login(make_org_superuser(world.karlstad))
    response = client.post(
        reverse("accounts:employment_roles", args=[world.nurse.employment.pk]),
        {"roles": ["staff", "statistics_reader"], "reason": ""},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ange varför rollerna ändras." in body
    assert 'value="statistics_reader" id="id_roles_4" checked' in body
    world.nurse.employment.refresh_from_db()
    assert world.nurse.employment.roles == ["staff"]
    assert not AccessLog.objects.filter(detail__contains="Ändrade roller").exists()


def test_the_working_organisation_decides_what_a_person_may_do(world):
    # Superuser in Karlstad, plain staff at Vc Gripen: only while working in Karlstad.
    superuser = make_org_superuser(world.karlstad)
    EmploymentFactory.create(user=superuser.user, organisation=world.gripen)
    client = login(superuser)
    client.post(reverse("accounts:switch_organisation"), {"organisation": world.gripen.pk})
    assert client.get(reverse("accounts:roles", args=[world.karlstad.pk])).status_code == 404
    client.post(reverse("accounts:switch_organisation"), {"organisation": world.karlstad.pk})
    assert client.get(reverse("accounts:roles", args=[world.karlstad.pk])).status_code == 200


def test_roles_of_an_ended_employment_cannot_be_changed(world):
    from django.utils import timezone

    Employment.objects.filter(pk=world.nurse.employment.pk).update(ended_at=timezone.now())
    client = login(make_sysadmin())
    url = reverse("accounts:employment_roles", args=[world.nurse.employment.pk])
    assert client.get(url).status_code == 404


def test_nobody_changes_their_own_roles(world):
    superuser = make_org_superuser(world.karlstad)
    response = login(superuser).post(
        reverse("accounts:employment_roles", args=[superuser.pk]),
        {"roles": ["staff", "superuser", "access_approver"], "reason": "Jag behöver det"},
    )
    assert "Ingen ändrar sina egna roller" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.roles == ["staff", "superuser"]
    admin = make_sysadmin()
    login(admin).post(
        reverse("accounts:employment_roles", args=[admin.pk]),
        {"roles": ["staff", "superuser", "log_reviewer"], "reason": "Själv"},
    )
    admin.refresh_from_db()
    assert admin.roles == ["staff", "superuser"]


def test_only_a_system_administrator_gives_or_takes_approver_and_log_reviewer(world):
    superuser = make_org_superuser(world.karlstad)
    client = login(superuser)
    for roles in (["staff", "access_approver"], ["staff", "log_reviewer"]):
        response = client.post(
            reverse("accounts:employment_roles", args=[world.nurse.employment.pk]),
            {"roles": roles, "reason": "Behövs"},
        )
        assert "ges och tas bort av regionens systemförvaltare" in response.content.decode()
    world.nurse.employment.refresh_from_db()
    assert world.nurse.employment.roles == ["staff"]
    # Nor taken away: Eva stays Karlstad's access approver.
    client.post(
        reverse("accounts:employment_roles", args=[world.approver.employment.pk]),
        {"roles": ["staff"], "reason": "Slutar"},
    )
    world.approver.employment.refresh_from_db()
    assert "access_approver" in world.approver.employment.roles
