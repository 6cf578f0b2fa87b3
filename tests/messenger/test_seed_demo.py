import base64
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, User
from mailboxes.models import AddressList, Mailbox, MonitoringRoutine, OutboxItem
from messenger.demo import TEST_PATIENTS, TOTP_SECRETS
from messenger.models import Question, Thread
from messenger.patients import normalise_patient_id
from messenger.services import deadlines_sweep
from messenger.statistics import add_months, month_start, report
from tests.helpers import totp_code
from tests.testdata import PATIENTS

EXPECTED = {
    "anna": {"Karlstads kommun Hälso- och sjukvård (FBL)", "Anna Andersson, Karlstads kommun"},
    "bo": {"Vc Gripen Allmänmedicinska mottagningen (FBL)", "Bo Berg, Vårdcentralen Gripen"},
    "cecilia": {"Cecilia Carlsson, Vårdcentralen Gripen"},
    "david": {"Arvika kommun Hälso- och sjukvård (FBL)", "David Dahl, Arvika kommun"},
    "eva": set(),
    "fredrik": set(),
    "gustav": set(),
    "admin": set(),
}


@pytest.fixture
def seeded(db):
    with override_settings(DEBUG=True):
        call_command("seed_demo")


def test_it_loads_varmlands_municipalities_and_health_centres(seeded):
    assert Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).count() == 16
    centres = Organisation.objects.filter(kind=Organisation.Kind.HEALTH_CENTRE)
    assert centres.count() >= 16
    for centre in centres:
        box = Mailbox.objects.get(organisation=centre, kind=Mailbox.Kind.FUNCTIONAL)
        # R2
        assert box.name.startswith("Vc ")
        assert box.name.endswith(" Allmänmedicinska mottagningen (FBL)")
        box.full_clean()
    karlstad = AddressList.objects.get(organisation__name="Karlstads kommun")
    assert karlstad.entries.count() == 6


def test_it_is_idempotent(seeded):
    counts = (User.objects.count(), Mailbox.objects.count(), Thread.objects.count())
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    assert (User.objects.count(), Mailbox.objects.count(), Thread.objects.count()) == counts


def test_sample_threads_use_only_skatteverkets_test_numbers(seeded):
    patients = set(Thread.objects.values_list("patient_id", flat=True))
    assert patients
    assert patients <= set(PATIENTS)


def test_the_test_numbers_are_the_ones_skatteverket_published():
    # Our copy of shared/testdata/testpersonnummer.txt: 191 numbers born in early 2000, with valid
    # check digits, none repeated.
    assert len(TEST_PATIENTS) == len(set(TEST_PATIENTS)) == 191
    assert all(normalise_patient_id(p) == p for p in TEST_PATIENTS)


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_demo_user_lands_on_exactly_their_mailboxes(seeded, username, demo_password):
    client = Client()
    assert client.login(username=username, password=demo_password)
    response = client.get(reverse("messenger:home"))
    listed = {box.name for box in response.context["mailboxes"]}
    assert listed == EXPECTED[username]


def test_david_sees_nothing_of_karlstad(seeded, demo_password):
    client = Client()
    client.login(username="david", password=demo_password)
    assert "Karlstad" not in client.get(reverse("messenger:home")).content.decode()
    for box in Mailbox.objects.filter(organisation__name__contains="Karlstad"):
        assert client.get(reverse("messenger:mailbox", args=[box.pk])).status_code == 404


def test_it_refuses_to_run_with_debug_off(db):
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.filter(username="anna").exists()


def test_the_demo_has_an_overdue_question_that_alerts_david(seeded):
    overdue = Question.objects.open().get(due_at__lt=timezone.now())
    assert overdue.thread.subject == "Provsvar blodsocker"
    assert overdue.thread.is_overdue()
    assert deadlines_sweep()["alerts"] == 1
    assert OutboxItem.objects.filter(user__username="david", kind="overdue").exists()


def test_gustav_sees_karlstads_statistics_without_waiting_for_the_hourly_count(seeded):
    karlstad = Organisation.objects.get(name="Karlstads kommun")
    this_month = month_start(timezone.localdate())
    # The sample threads are a few days old: some may be last month's.
    rows = report(karlstad, add_months(this_month, -1), this_month).rows
    assert sum(row.sent + row.received for row in rows) > 0


def test_anna_and_bo_monitor_their_units_mailboxes(seeded):
    monitored = {
        (user.username, routine.mailbox.name)
        for routine in MonitoringRoutine.objects.prefetch_related("monitors")
        for user in routine.monitors.all()
    }
    assert ("anna", "Karlstads kommun Hälso- och sjukvård (FBL)") in monitored
    assert any(name == "bo" and "Gripen" in box for name, box in monitored)


def test_every_demo_person_has_their_own_hsa_id(seeded):
    hsa_ids = list(User.objects.values_list("hsa_id", flat=True))
    assert None not in hsa_ids
    assert len(set(hsa_ids)) == len(hsa_ids) == 8


def test_every_demo_user_has_an_authenticator_app_with_the_secret_the_readme_lists(seeded):
    readme = (settings.BASE_DIR / "README.md").read_text("utf-8")
    listed = dict(re.findall(r"^\| `(\w+)` \| `([A-Z2-7]{32})` \|$", readme, re.MULTILINE))
    assert listed == TOTP_SECRETS
    assert set(listed) == set(EXPECTED)
    for username, secret in listed.items():
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed
        assert device.key == base64.b32decode(secret).hex()
    # Different for each person: one person's code never opens another's account.
    assert len(set(listed.values())) == len(listed)


def test_a_demo_user_signs_in_with_password_and_the_code_from_the_listed_secret(
    seeded, demo_password
):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "anna", "password": demo_password})
    assert "_auth_user_id" not in client.session
    code = totp_code(base64.b32decode(TOTP_SECRETS["anna"]).hex())
    response = client.post(reverse("accounts:two_factor"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="anna").pk)
