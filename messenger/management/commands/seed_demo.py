from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.agreement import CURRENT_VERSION
from accounts.models import AgreementAcceptance, Employment, Organisation, Role, User
from mailboxes.models import (
    AccessGrant,
    AddressList,
    AddressListEntry,
    Mailbox,
    MonitoringRoutine,
)
from messenger import demo
from messenger.categories import ensure_categories
from messenger.models import Category, Delivery, Message, Question, Thread
from messenger.services import message_reply, thread_start
from messenger.statistics import statistics_refresh

KARLSTAD = "Karlstads kommun"
ARVIKA = "Arvika kommun"
GRIPEN = demo.health_centre_name("Gripen")
ADMINISTRATION = "Region Värmland Förvaltning Funktionsbrevlådan"


class Command(BaseCommand):
    help = (
        "Loads Region Värmland's municipalities, health centres, functional mailboxes, preset "
        "address lists, demo users and a few sample threads. Safe to run again: it adds only "
        "what is missing. Refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates users with a known password: it runs only with DEBUG on. "
                "Use --force if you really mean it."
            )
        with transaction.atomic():
            created = self.seed()
        # gustav's statistics show the sample threads now, not after the next hourly count.
        statistics_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data in place ({created} sample threads added). "
                "Log in as anna, bo, cecilia, david, eva, fredrik, gustav or admin."
            )
        )

    def seed(self) -> int:
        ensure_categories(Category)
        organisations = self.seed_organisations()
        users = self.seed_users(organisations)
        self.seed_routines(users)
        return self.seed_threads(users)

    def seed_routines(self, users: dict[str, User]) -> None:
        """R5, R24: Anna watches Karlstad's mailbox and Bo Gripen's, at the default 10:00 and
        15:00 on working days; a check time passed with nobody opening the inbox alarms them."""
        for username, mailbox_name in (
            ("anna", demo.municipality_mailbox_name(KARLSTAD)),
            ("bo", demo.health_centre_mailbox_name("Gripen")),
        ):
            routine, _ = MonitoringRoutine.objects.get_or_create(
                mailbox=Mailbox.objects.get(name=mailbox_name),
                defaults={
                    "holiday_cover": "Vikarierande sjuksköterska enligt semesterschemat",
                    "emptied_by": "Bevakaren, första vardagen varje månad",
                },
            )
            routine.monitors.add(users[username])

    def seed_organisations(self) -> dict[str, Organisation]:
        organisations: dict[str, Organisation] = {}
        number = 0

        def organisation(name: str, kind: str) -> Organisation:
            nonlocal number
            number += 1
            org, _ = Organisation.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "region": demo.REGION,
                    "hsa_id": f"SE{2321000016 + number:010d}-{kind[:3].upper()}{number:03d}",
                },
            )
            organisations[name] = org
            return org

        def functional_mailbox(org: Organisation, name: str) -> Mailbox:
            box, _ = Mailbox.objects.get_or_create(
                name=name,
                defaults={
                    "kind": Mailbox.Kind.FUNCTIONAL,
                    "organisation": org,
                    "hsa_id": f"{org.hsa_id}F",
                    "phone": "054-61 00 00",
                },
            )
            return box

        organisation(ADMINISTRATION, Organisation.Kind.REGION_UNIT)
        for municipality, places in demo.MUNICIPALITIES.items():
            kommun = organisation(municipality, Organisation.Kind.MUNICIPALITY)
            functional_mailbox(kommun, demo.municipality_mailbox_name(municipality))
            address_list, _ = AddressList.objects.get_or_create(organisation=kommun)
            for position, place in enumerate(places):
                centre = organisation(
                    demo.health_centre_name(place), Organisation.Kind.HEALTH_CENTRE
                )
                box = functional_mailbox(centre, demo.health_centre_mailbox_name(place))
                AddressListEntry.objects.get_or_create(
                    address_list=address_list, mailbox=box, defaults={"position": position}
                )
        return organisations

    def seed_users(self, organisations: dict[str, Organisation]) -> dict[str, User]:
        karlstad_fbl = Mailbox.objects.get(name=demo.municipality_mailbox_name(KARLSTAD))
        arvika_fbl = Mailbox.objects.get(name=demo.municipality_mailbox_name(ARVIKA))
        gripen_fbl = Mailbox.objects.get(name=demo.health_centre_mailbox_name("Gripen"))
        people = [
            # username, first, last, organisation, profession, roles, functional mailbox, personal
            ("anna", "Anna", "Andersson", KARLSTAD, "Sjuksköterska", [], karlstad_fbl, True),
            ("bo", "Bo", "Berg", GRIPEN, "Sjuksköterska", [], gripen_fbl, True),
            ("cecilia", "Cecilia", "Carlsson", GRIPEN, "Läkare", [], None, True),
            ("david", "David", "Dahl", ARVIKA, "Sjuksköterska", [], arvika_fbl, True),
            ("eva", "Eva", "Ek", KARLSTAD, "Enhetschef", [Role.ACCESS_APPROVER], None, False),
            (
                "fredrik",
                "Fredrik",
                "Falk",
                GRIPEN,
                "Verksamhetschef",
                [Role.LOG_REVIEWER],
                None,
                False,
            ),
            (
                "admin",
                "Alva",
                "Admin",
                ADMINISTRATION,
                "Systemförvaltare",
                [Role.SUPERUSER],
                None,
                False,
            ),
            # Last, so that the others keep their made-up HSA ids.
            (
                "gustav",
                "Gustav",
                "Grön",
                KARLSTAD,
                "Ekonom",
                [Role.STATISTICS_READER],
                None,
                False,
            ),
        ]
        users: dict[str, User] = {}
        for number, (
            username,
            first,
            last,
            org_name,
            profession,
            roles,
            fbl,
            personal,
        ) in enumerate(people, start=1):
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.invalid",
                    "is_staff": username == "admin",
                    "is_superuser": username == "admin",
                },
            )
            if created:
                user.set_password(settings.DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if not user.hsa_id:
                # A made-up person HSA id: the catalogue sync and single sign-on match by it.
                user.hsa_id = f"SE2321000016-P{number:04d}"
                user.save(update_fields=["hsa_id"])
            # Each has an authenticator app with a fixed secret (the README lists them), so
            # `REQUIRE_2FA=true make run` can be tried with any app or oathtool.
            if not TOTPDevice.objects.filter(user=user).exists():
                TOTPDevice.objects.create(
                    user=user,
                    name=two_factor.DEVICE_NAME,
                    key=demo.totp_key_hex(username),
                    confirmed=True,
                )
            # The demo users have read and accepted the confidentiality agreement (R17).
            AgreementAcceptance.objects.get_or_create(user=user, version=CURRENT_VERSION)
            org = organisations[org_name]
            employment, _ = Employment.objects.get_or_create(
                user=user,
                organisation=org,
                ended_at=None,
                defaults={"profession": profession, "roles": [Role.STAFF, *roles]},
            )
            if fbl is not None:
                self.grant(employment, fbl, AccessGrant.Level.SEND)
            if personal:
                box, _ = Mailbox.objects.get_or_create(
                    owner=user,
                    defaults={
                        "kind": Mailbox.Kind.PERSONAL,
                        "organisation": org,
                        "name": f"{user.get_full_name()}, {org.name}",
                    },
                )
                self.grant(employment, box, AccessGrant.Level.MANAGE)
            users[username] = user
        return users

    def grant(self, employment: Employment, mailbox: Mailbox, level: int) -> None:
        AccessGrant.objects.get_or_create(
            user=employment.user,
            mailbox=mailbox,
            ended_at=None,
            defaults={"level": level, "employment": employment},
        )

    def seed_threads(self, users: dict[str, User]) -> int:
        karlstad_fbl = Mailbox.objects.get(name=demo.municipality_mailbox_name(KARLSTAD))
        arvika_fbl = Mailbox.objects.get(name=demo.municipality_mailbox_name(ARVIKA))
        gripen_fbl = Mailbox.objects.get(name=demo.health_centre_mailbox_name("Gripen"))
        arvika_vc = Mailbox.objects.get(name=demo.health_centre_mailbox_name("Arvika"))
        if Thread.objects.filter(sender_mailbox__in=[karlstad_fbl, arvika_fbl]).exists():
            return 0
        category = {c.name: c for c in Category.objects.all()}
        anna, bo, david = users["anna"], users["bo"], users["david"]
        anna_job = anna.employments.get()
        bo_job = bo.employments.get()
        david_job = david.employments.get()
        samples = [
            (
                anna,
                anna_job,
                karlstad_fbl,
                gripen_fbl,
                "Läkemedel",
                "Dosering av Waran",
                demo.TEST_PATIENTS[0],
                "Patienten har INR 3,8 i dag. Ska dosen ändras inför helgen? Svara gärna med "
                "ny ordination.",
            ),
            (
                anna,
                anna_job,
                karlstad_fbl,
                gripen_fbl,
                "Recept",
                "Förnyelse av Omeprazol",
                demo.TEST_PATIENTS[1],
                "Receptet på Omeprazol 20 mg går ut nästa vecka. Kan det förnyas?",
            ),
            (
                anna,
                anna_job,
                karlstad_fbl,
                gripen_fbl,
                "För kännedom",
                "Flyttat till korttidsboende",
                demo.TEST_PATIENTS[2],
                "För kännedom: patienten bor på korttidsboende Rudsberg från i dag. Ingen åtgärd "
                "behövs.",
            ),
            (
                david,
                david_job,
                arvika_fbl,
                arvika_vc,
                "Provtagning",
                "Provsvar blodsocker",
                demo.TEST_PATIENTS[3],
                "Vi har tagit P-glukos enligt ordination. Vill ni ha fler prover?",
            ),
        ]
        threads = []
        for author, job, sender, recipient, category_name, subject, patient, body in samples:
            threads.append(
                thread_start(
                    author=author,
                    employment=job,
                    sender_mailbox=sender,
                    recipient_mailbox=recipient,
                    category=category[category_name],
                    subject=subject,
                    patient_id=patient,
                    body=body,
                )
            )
        message_reply(
            author=bo,
            employment=bo_job,
            delivery=Delivery.objects.get(thread=threads[1], mailbox=gripen_fbl),
            body="Receptet är förnyat i ett år. Hälsningar Bo",
        )
        # Arvika's question was asked four days ago and never answered: the demo shows an
        # overdue clock, "Väntar på svar", and (once the deadline job runs) David's alert.
        self.backdate(threads[3], timedelta(days=4))
        return len(threads)

    def backdate(self, thread: Thread, by: timedelta) -> None:
        Thread.objects.filter(pk=thread.pk).update(
            created_at=F("created_at") - by,
            last_message_at=F("last_message_at") - by,
            reply_due_at=F("reply_due_at") - by,
        )
        Message.objects.filter(thread=thread).update(sent_at=F("sent_at") - by)
        Delivery.objects.filter(thread=thread).update(last_message_at=F("last_message_at") - by)
        Question.objects.filter(thread=thread).update(
            asked_at=F("asked_at") - by, due_at=F("due_at") - by, remind_at=F("remind_at") - by
        )
