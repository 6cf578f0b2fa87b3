"""accounts registers its own models with django-auditlog (accounts/apps.py)."""

import pytest
from auditlog.models import LogEntry

from tests.factories import OrganisationFactory, UserFactory


def test_users_organisations_and_employments_keep_a_change_history(world):
    employment = world.nurse.employment
    employment.profession = "Distriktssköterska"
    employment.save()
    organisation = OrganisationFactory.create(name="Hammarö kommun")
    organisation.name = "Hammarö kommun HSL"
    organisation.save()
    for record in (employment, organisation, world.nurse.user):
        assert LogEntry.objects.get_for_object(record).exists(), record


@pytest.mark.django_db
def test_the_password_and_last_sign_in_stay_out_of_a_users_history():
    user = UserFactory.create()
    before = LogEntry.objects.get_for_object(user).count()
    user.set_password("ett-annat-lösenord-2026")
    user.save()
    user.last_login = user.date_joined
    user.save()
    assert LogEntry.objects.get_for_object(user).count() == before
    user.first_name = "Ny"
    user.save()
    latest = LogEntry.objects.get_for_object(user).latest("timestamp")
    assert "first_name" in latest.changes_dict
    assert "password" not in latest.changes_dict
