import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.models import Employment, Organisation, Role, User
from mailboxes.models import AccessGrant, Mailbox
from messenger.categories import ensure_categories
from messenger.models import Category
from messenger.notices import clear_notice_cache
from tests.factories import (
    AccessGrantFactory,
    EmploymentFactory,
    MailboxFactory,
    OrganisationFactory,
    UserFactory,
)

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Persona:
    user: User
    employment: Employment
    mailbox: Mailbox | None

    def client(self) -> Client:
        client = Client()
        client.force_login(self.user)
        return client


@dataclass
class World:
    """The personas every view is tested with (STYLE 12)."""

    karlstad: Organisation
    arvika: Organisation
    gripen: Organisation
    karlstad_fbl: Mailbox
    arvika_fbl: Mailbox
    gripen_fbl: Mailbox
    nurse: Persona  # municipal nurse, Karlstad
    hc_nurse: Persona  # health-centre nurse, Vc Gripen
    outsider: Persona  # municipal nurse, Arvika
    approver: Persona  # access approver, Karlstad
    log_reviewer: Persona  # log reviewer, Vc Gripen
    doctor: Persona  # doctor, Vc Gripen, personal mailbox only


def _persona(username: str, org: Organisation, mailbox: Mailbox | None, **kwargs) -> Persona:
    # UserFactory records the acceptance of the current confidentiality agreement (R17), so
    # personas pass the agreement gate; tests of the gate itself use UserFactory(agreement=False).
    employment = EmploymentFactory.create(user__username=username, organisation=org, **kwargs)
    if mailbox is not None:
        AccessGrantFactory.create(
            user=employment.user, mailbox=mailbox, level=AccessGrant.Level.SEND
        )
    return Persona(user=employment.user, employment=employment, mailbox=mailbox)


@pytest.fixture
def world(db) -> World:
    karlstad = OrganisationFactory.create(name="Karlstads kommun")
    arvika = OrganisationFactory.create(name="Arvika kommun")
    gripen = OrganisationFactory.create(
        name="Vårdcentralen Gripen", kind=Organisation.Kind.HEALTH_CENTRE
    )
    karlstad_fbl = MailboxFactory.create(organisation=karlstad, name="Karlstads kommun HSL (FBL)")
    arvika_fbl = MailboxFactory.create(organisation=arvika, name="Arvika kommun HSL (FBL)")
    gripen_fbl = MailboxFactory.create(
        organisation=gripen, name="Vc Gripen Allmänmedicinska mottagningen (FBL)"
    )
    return World(
        karlstad=karlstad,
        arvika=arvika,
        gripen=gripen,
        karlstad_fbl=karlstad_fbl,
        arvika_fbl=arvika_fbl,
        gripen_fbl=gripen_fbl,
        nurse=_persona("t_anna", karlstad, karlstad_fbl),
        hc_nurse=_persona("t_bo", gripen, gripen_fbl),
        outsider=_persona("t_david", arvika, arvika_fbl),
        approver=_persona("t_eva", karlstad, None, roles=["staff", "access_approver"]),
        log_reviewer=_persona("t_fredrik", gripen, None, roles=["staff", "log_reviewer"]),
        doctor=_doctor(gripen),
    )


def _doctor(gripen: Organisation) -> Persona:
    employment = EmploymentFactory.create(
        user__username="t_cecilia", organisation=gripen, profession="Läkare"
    )
    mailbox = MailboxFactory.create(
        kind=Mailbox.Kind.PERSONAL,
        owner=employment.user,
        organisation=gripen,
        name="Cecilia Test, Vårdcentralen Gripen",
        hsa_id="",
    )
    AccessGrantFactory.create(user=employment.user, mailbox=mailbox, level=AccessGrant.Level.MANAGE)
    return Persona(user=employment.user, employment=employment, mailbox=mailbox)


@pytest.fixture
def sysadmin(world) -> Persona:
    """A system administrator (`is_superuser`): mailboxes, preset lists and categories."""
    region = OrganisationFactory.create(
        name="Region Värmland Förvaltning", kind=Organisation.Kind.REGION_UNIT
    )
    employment = EmploymentFactory.create(
        user=UserFactory.create(username="t_admin", is_superuser=True, is_staff=True),
        organisation=region,
        roles=[Role.STAFF, Role.SUPERUSER],
    )
    return Persona(user=employment.user, employment=employment, mailbox=None)


@pytest.fixture
def categories(db) -> dict[str, Category]:
    # Transactional tests flush the rows the data migration made; put them back when needed.
    ensure_categories(Category)
    return {c.name: c for c in Category.objects.all()}


@pytest.fixture(autouse=True)
def _fresh_notice_banner() -> None:
    """The banner's notices are cached in the process for 30 s (messenger.notices): each test
    starts without, so none sees another's (rolled-back) notices, and query counts do not depend
    on the order tests run in."""
    clear_notice_cache()


@pytest.fixture(autouse=True)
def _swedish_first() -> Iterator[None]:
    """Each test starts in Swedish. The locale middleware leaves the last request's language
    active in the thread, so a test that asked for an English page would otherwise turn the
    next test's messages English, depending on the order the tests run in."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def demo_password() -> str:
    return settings.DEMO_PASSWORD


def pytest_configure(config) -> None:
    # Real hashing costs half a second a user; the tests are not about PBKDF2's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
