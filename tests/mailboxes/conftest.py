import pytest
from django.test import Client

from accounts.models import Role
from mailboxes.models import AccessGrant, AccessRequest, Mailbox
from mailboxes.services import access_request_approve, access_request_create
from tests.conftest import Persona
from tests.factories import EmploymentFactory


def apply(
    persona: Persona, mailbox: Mailbox, level: int = AccessGrant.Level.READ, **kwargs
) -> AccessRequest:
    """The persona applies for access to the mailbox for themself, through the real service."""
    return access_request_create(
        applicant=persona.user,
        requested_by=persona.user,
        requested_by_employment=persona.employment,
        mailbox=mailbox,
        level=level,
        justification=kwargs.pop("justification", "Arbetar i hemsjukvården i området"),
        **kwargs,
    )


def order(approver: Persona, applicant: Persona, mailbox: Mailbox) -> AccessRequest:
    """An access approver applies for read access on a colleague's behalf."""
    return access_request_create(
        applicant=applicant.user,
        requested_by=approver.user,
        requested_by_employment=approver.employment,
        mailbox=mailbox,
        level=AccessGrant.Level.READ,
        justification="Ny i hemsjukvården",
    )


def approve(approver: Persona, access_request: AccessRequest, **kwargs) -> AccessGrant:
    """The approver grants the request through the real service, assessment done."""
    return access_request_approve(
        access_request=access_request,
        approver=approver.user,
        approver_employment=approver.employment,
        risk_assessed=True,
        risk_note=kwargs.pop("risk_note", "Låg risk"),
        reason=kwargs.pop("reason", "Styrkt behov"),
        **kwargs,
    )


@pytest.fixture
def arvika_approver(world) -> Persona:
    employment = EmploymentFactory.create(
        user__username="t_arvid",
        organisation=world.arvika,
        roles=[Role.STAFF, Role.ACCESS_APPROVER],
    )
    return Persona(user=employment.user, employment=employment, mailbox=None)


@pytest.fixture
def gripen_approver(world) -> Persona:
    employment = EmploymentFactory.create(
        user__username="t_gunilla",
        organisation=world.gripen,
        roles=[Role.STAFF, Role.ACCESS_APPROVER],
    )
    return Persona(user=employment.user, employment=employment, mailbox=None)


@pytest.fixture
def applicant(world) -> Persona:
    """A new Karlstad nurse without any grant yet."""
    employment = EmploymentFactory.create(user__username="t_greta", organisation=world.karlstad)
    return Persona(user=employment.user, employment=employment, mailbox=None)


def anonymous() -> Client:
    return Client()
