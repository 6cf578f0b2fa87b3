"""/forvaltning/personer/: system administrators add a person and end an employment in the app's
own pages (R17, R25); everyone else gets 404."""

import pytest
from django.urls import reverse

from accounts.models import Employment, User
from audit.models import AccessLog
from mailboxes.models import AccessGrant, Mailbox

HSA_ID = "SE2321000016-P0200"


def new_person(world, **changes) -> dict:
    return {
        "hsa_id": HSA_ID,
        "first_name": "Greta",
        "last_name": "Gran",
        "email": "greta@example.se",
        "organisation": world.gripen.pk,
        "profession": "Distriktssköterska",
        **changes,
    }


def counts() -> tuple[int, int, int, int, int]:
    return (
        User.objects.count(),
        Employment.objects.count(),
        Mailbox.objects.count(),
        AccessGrant.objects.count(),
        AccessLog.objects.filter(action=AccessLog.Action.ADMIN).count(),
    )


def test_the_people_list_finds_a_person_by_name_or_hsa_id(world, sysadmin):
    world.doctor.user.hsa_id = HSA_ID
    world.doctor.user.save()
    client = sysadmin.client()

    by_hsa = client.get(reverse("people:people"), {"q": "P0200"})
    by_name = client.get(reverse("people:people"), {"q": world.nurse.user.last_name})

    assert by_hsa.status_code == 200
    assert list(by_hsa.context["people"]) == [world.doctor.user]
    assert "Vårdcentralen Gripen (Läkare)" in by_hsa.content.decode()
    assert list(by_name.context["people"]) == [world.nurse.user]


def test_the_admin_navigation_links_to_the_people_pages_for_system_administrators(world, sysadmin):
    url = reverse("people:people")

    assert url in sysadmin.client().get(reverse("messenger:home")).content.decode()
    assert url not in world.nurse.client().get(reverse("messenger:home")).content.decode()


def test_a_system_administrator_adds_a_person_with_job_and_personal_mailbox(world, sysadmin):
    response = sysadmin.client().post(reverse("people:person_new"), new_person(world))

    person = User.objects.get(hsa_id=HSA_ID)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:person", args=[person.pk])
    assert (person.username, person.get_full_name()) == (HSA_ID.lower(), "Greta Gran")
    assert not person.has_usable_password()
    job = person.employments.get()
    assert (job.organisation, job.profession, job.roles) == (
        world.gripen,
        "Distriktssköterska",
        ["staff"],
    )
    box = Mailbox.objects.get(owner=person)
    grant = AccessGrant.objects.usable_by(person).get()
    assert (grant.mailbox, grant.level, grant.employment) == (box, AccessGrant.Level.MANAGE, job)
    logged = AccessLog.objects.filter(
        user_id_snapshot=sysadmin.user.pk, action=AccessLog.Action.ADMIN
    ).order_by("pk")
    assert [row.detail for row in logged][:2] == [
        f"Lade till personen Greta Gran (HSA-id {HSA_ID})",
        "Anställning för Greta Gran vid Vårdcentralen Gripen som Distriktssköterska; "
        "roller: Personal",
    ]
    assert all(row.user_name == sysadmin.user.display_name() for row in logged)


def test_the_person_page_shows_the_jobs_and_the_personal_mailbox(world, sysadmin):
    sysadmin.client().post(reverse("people:person_new"), new_person(world))
    person = User.objects.get(hsa_id=HSA_ID)

    page = sysadmin.client().get(reverse("people:person", args=[person.pk])).content.decode()

    assert "Greta Gran, Vårdcentralen Gripen" in page
    assert reverse("people:employment_end", args=[person.employments.get().pk]) in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"hsa_id": "P0200"}, "Ange ett HSA-id"),
        ({"organisation": ""}, "Välj organisationen där personen är anställd."),
        ({"first_name": ""}, "Ange förnamn."),
        ({"email": "inte-en-adress"}, "Ange en giltig e-postadress."),
    ],
)
def test_bad_input_is_a_swedish_message_and_saves_nothing(world, sysadmin, changes, error):
    before = counts()

    response = sysadmin.client().post(reverse("people:person_new"), new_person(world, **changes))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert "Formuläret har fel. Inget har sparats." in response.content.decode()
    assert counts() == before


def test_an_hsa_id_already_taken_is_refused(world, sysadmin):
    world.doctor.user.hsa_id = HSA_ID
    world.doctor.user.save()
    before = counts()

    response = sysadmin.client().post(reverse("people:person_new"), new_person(world))

    assert response.status_code == 200
    assert f"Det finns redan en person med HSA-id:t {HSA_ID}." in response.content.decode()
    assert counts() == before


def test_ending_an_employment_ends_its_grants_and_is_logged(world, sysadmin):
    job = world.nurse.employment
    grant = AccessGrant.objects.get(user=world.nurse.user, mailbox=world.karlstad_fbl)
    url = reverse("people:employment_end", args=[job.pk])
    client = sysadmin.client()
    assert world.karlstad_fbl.name in client.get(url).content.decode()

    response = client.post(url, {"reason": "Slutat sin tjänst"})

    assert response.status_code == 302
    job.refresh_from_db()
    grant.refresh_from_db()
    assert job.ended_at is not None
    assert grant.ended_at is not None
    assert (grant.ended_by, grant.end_reason) == (sysadmin.user, "Slutat sin tjänst")
    assert not AccessGrant.objects.usable_by(world.nurse.user).exists()
    details = list(
        AccessLog.objects.filter(user_id_snapshot=sysadmin.user.pk).values_list("detail", flat=True)
    )
    assert any(
        d.startswith("Avslutade anställningen för") and "Slutat sin tjänst" in d for d in details
    )
    assert any(d.startswith("Avslutade behörighet Läsa och skicka") for d in details)


def test_ending_an_employment_needs_a_reason(world, sysadmin):
    job = world.nurse.employment

    response = sysadmin.client().post(reverse("people:employment_end", args=[job.pk]), {})

    job.refresh_from_db()
    assert response.status_code == 200
    assert "Ange varför anställningen avslutas." in response.content.decode()
    assert job.ended_at is None


def test_an_ended_employment_cannot_be_ended_again(world, sysadmin):
    url = reverse("people:employment_end", args=[world.nurse.employment.pk])
    sysadmin.client().post(url, {"reason": "Slutat"})

    assert sysadmin.client().post(url, {"reason": "Igen"}).status_code == 404


@pytest.mark.parametrize("persona", ["nurse", "approver", "log_reviewer", "doctor"])
def test_everyone_but_system_administrators_gets_404(world, persona):
    client = getattr(world, persona).client()
    before = counts()
    job = world.nurse.employment

    for url in (
        reverse("people:people"),
        reverse("people:person_new"),
        reverse("people:person", args=[world.nurse.user.pk]),
        reverse("people:employment_end", args=[job.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("people:person_new"), new_person(world)).status_code == 404
    assert (
        client.post(reverse("people:employment_end", args=[job.pk]), {"reason": "x"}).status_code
        == 404
    )
    job.refresh_from_db()
    assert job.ended_at is None
    assert counts() == before


def test_an_anonymous_visitor_is_sent_to_sign_in(world, client):
    response = client.get(reverse("people:people"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
