import itertools

import factory
from django.conf import settings

from accounts.models import Employment, Organisation, Role, User
from mailboxes.models import AccessGrant, Mailbox

_hsa = itertools.count(1)


def next_hsa_id(prefix: str = "T") -> str:
    return f"SE{1000000000 + next(_hsa):010d}-{prefix}{next(_hsa)}"


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.MUNICIPALITY
    name = factory.Sequence(lambda n: f"Testkommun {n}")
    hsa_id = factory.LazyFunction(next_hsa_id)
    region = "Region Värmland"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.django.Password(settings.DEMO_PASSWORD)


class EmploymentFactory(factory.django.DjangoModelFactory[Employment]):
    class Meta:
        model = Employment

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    profession = "Sjuksköterska"
    roles = factory.LazyFunction(lambda: [Role.STAFF])


class MailboxFactory(factory.django.DjangoModelFactory[Mailbox]):
    class Meta:
        model = Mailbox

    kind = Mailbox.Kind.FUNCTIONAL
    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Testbrevlåda {n} (FBL)")
    hsa_id = factory.LazyFunction(lambda: next_hsa_id("F"))


class AccessGrantFactory(factory.django.DjangoModelFactory[AccessGrant]):
    class Meta:
        model = AccessGrant

    user = factory.SubFactory(UserFactory)
    mailbox = factory.SubFactory(MailboxFactory)
    level = AccessGrant.Level.SEND
