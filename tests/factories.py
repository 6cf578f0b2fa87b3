import itertools

import factory
from django.conf import settings

from accounts.agreement import CURRENT_VERSION
from accounts.models import AgreementAcceptance, Employment, Organisation, Role, User
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
        skip_postgeneration_save = True  # the agreement hook saves its own row

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.se")
    password = factory.django.Password(settings.DEMO_PASSWORD)

    @factory.post_generation
    def agreement(obj: User, create: bool, extracted: bool | None, **kwargs) -> None:
        """Users have accepted the current confidentiality agreement (R17) unless the test says
        UserFactory(agreement=False)."""
        if create and extracted is not False:
            AgreementAcceptance.objects.get_or_create(user=obj, version=CURRENT_VERSION)


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

    @factory.lazy_attribute
    def employment(self) -> Employment:
        """The user's ongoing job, preferably in the mailbox's organisation; one is made there
        when the user has none."""
        # factory_boy has resolved the sub-factories to instances by now.
        user: User = self.user  # type: ignore[assignment]
        mailbox: Mailbox = self.mailbox  # type: ignore[assignment]
        jobs = Employment.objects.active().filter(user=user)
        return (
            jobs.filter(organisation=mailbox.organisation).first()
            or jobs.first()
            or EmploymentFactory.create(user=user, organisation=mailbox.organisation)
        )
