"""accounts writes its access-log rows itself, in the transaction of the change they record: a
change whose row cannot be written is not made, and a change refused writes no row."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from accounts import agreement
from accounts.models import AgreementAcceptance, Role
from accounts.services import agreement_accept, employment_set_roles
from audit.models import AccessLog
from tests.factories import EmploymentFactory, UserFactory


def refuse_log_rows(detail_prefix: str) -> None:
    """Make PostgreSQL refuse access-log rows whose detail starts so, for this test only (the
    test's transaction takes the constraint away again)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE audit_accesslog ADD CONSTRAINT test_refuse_row "
            "CHECK (detail NOT LIKE %s) NOT VALID",
            [detail_prefix + "%"],
        )


def test_a_role_change_whose_log_row_fails_is_not_saved(world):
    actor = UserFactory.create(is_superuser=True)
    employment = world.outsider.employment
    refuse_log_rows("Ändrade roller")
    with pytest.raises(IntegrityError):
        employment_set_roles(
            actor=actor,
            actor_employment=None,
            employment=employment,
            roles=[Role.STAFF, Role.STATISTICS_READER],
            reason="Ska ta fram statistik",
        )
    employment.refresh_from_db()
    assert employment.roles == [Role.STAFF]
    assert (
        not LogEntry.objects.get_for_object(employment)
        .filter(action=LogEntry.Action.UPDATE)
        .exists()
    )


def test_a_role_change_and_its_row_are_written_together(world):
    actor = UserFactory.create(is_superuser=True, first_name="Sara", last_name="Systemsson")
    employment = employment_set_roles(
        actor=actor,
        actor_employment=None,
        employment=world.outsider.employment,
        roles=[Role.STAFF, Role.STATISTICS_READER],
        reason="  Ska ta fram statistik ",
    )
    assert employment.roles == [Role.STAFF, Role.STATISTICS_READER]
    row = AccessLog.objects.get(action=AccessLog.Action.ADMIN)
    assert (row.user_id_snapshot, row.user_name, row.organisation_name) == (
        actor.pk,
        "Sara Systemsson",
        world.arvika.name,
    )
    assert row.detail == (
        f"Ändrade roller för {world.outsider.user.display_name()}: Personal → "
        "Personal, Statistikläsare. Skäl: Ska ta fram statistik"
    )


def test_a_refused_role_change_writes_no_row(world):
    superuser = EmploymentFactory.create(
        organisation=world.karlstad, roles=[Role.STAFF, Role.SUPERUSER]
    )
    with pytest.raises(ValidationError):
        employment_set_roles(
            actor=superuser.user,
            actor_employment=superuser,
            employment=superuser,
            roles=[Role.STAFF, Role.SUPERUSER, Role.LOG_REVIEWER],
            reason="Jag behöver det",
        )
    with pytest.raises(ValidationError):
        employment_set_roles(
            actor=superuser.user,
            actor_employment=superuser,
            employment=world.nurse.employment,
            roles=[Role.STAFF, Role.LOG_REVIEWER],
            reason="Loggkontroll",
        )
    assert not AccessLog.objects.exists()


def test_roles_left_as_they_were_write_no_row(world):
    employment_set_roles(
        actor=UserFactory.create(is_superuser=True),
        actor_employment=None,
        employment=world.nurse.employment,
        roles=[Role.STAFF],
        reason="Ingen ändring",
    )
    assert not AccessLog.objects.exists()


def test_an_acceptance_whose_log_row_fails_is_not_recorded(world):
    user = UserFactory.create(agreement=False)
    refuse_log_rows("Godkände sekretessförbindelsen")
    with pytest.raises(IntegrityError):
        agreement_accept(user=user, version=agreement.CURRENT_VERSION)
    assert not AgreementAcceptance.objects.filter(user=user).exists()


def test_accepting_again_writes_no_second_row(world):
    user = UserFactory.create(agreement=False)
    agreement_accept(user=user, version=agreement.CURRENT_VERSION)
    agreement_accept(user=user, version=agreement.CURRENT_VERSION)
    row = AccessLog.objects.get(user_id_snapshot=user.pk)
    assert row.detail == f"Godkände sekretessförbindelsen version {agreement.CURRENT_VERSION}"
