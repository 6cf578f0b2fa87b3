"""Support and fault reports (R22): the unit's superusers first, then the region."""

import uuid

import pytest
from django.urls import reverse

from accounts.models import Role
from mailboxes.models import NotificationKind, OutboxItem
from messenger.models import FaultReport, FaultReportEvent
from tests.conftest import Persona, World, _persona
from tests.testdata import PATIENTS

PAGE = reverse("messenger:support")
QUEUE = reverse("messenger:support_queue")


def report_url(report: FaultReport, action: str = "") -> str:
    if not action:
        return reverse("messenger:support_report", args=[report.pk])
    return reverse(f"messenger:support_{action}", args=[report.pk])


def form(**overrides) -> dict[str, str]:
    return {
        "what_happened": "Inkorgen laddar inte, jag får ett felmeddelande om tidsgräns.",
        "happened_at": "2026-12-01T09:30",
        "mailbox": "",
        "client_token": str(uuid.uuid4()),
    } | overrides


@pytest.fixture
def karlstad_superuser(world: World) -> Persona:
    return _persona("t_sune", world.karlstad, None, roles=[Role.STAFF, Role.SUPERUSER])


@pytest.fixture
def arvika_superuser(world: World) -> Persona:
    return _persona("t_signe", world.arvika, None, roles=[Role.STAFF, Role.SUPERUSER])


@pytest.fixture
def report(world: World, karlstad_superuser: Persona) -> FaultReport:
    response = world.nurse.client().post(PAGE, form(mailbox=str(world.karlstad_fbl.pk)))
    assert response.status_code == 302
    return FaultReport.objects.get()


def support_notices(persona: Persona) -> list[OutboxItem]:
    return list(OutboxItem.objects.filter(user=persona.user, kind=NotificationKind.SUPPORT))


def test_a_report_is_saved_and_listed_with_its_status(world, karlstad_superuser, settings):
    settings.SUPPORT_CONTACT = "Servicedesken, telefon 054-00 00 00"
    client = world.nurse.client()
    response = client.post(PAGE, form(mailbox=str(world.karlstad_fbl.pk)), follow=True)
    report = FaultReport.objects.get()
    assert report.reporter == world.nurse.user
    assert report.organisation == world.karlstad
    assert report.mailbox == world.karlstad_fbl
    assert report.status == FaultReport.Status.NEW
    assert "Din felanmälan" in response.content.decode()

    page = client.get(PAGE).content.decode()
    assert reverse("messenger:support_report", args=[report.pk]) in page
    assert "<td>Ny</td>" in page
    assert "Servicedesken, telefon 054-00 00 00" in page
    # The organisation's superuser is told, in the app.
    (notice,) = support_notices(karlstad_superuser)
    assert notice.channel == OutboxItem.Channel.APP
    assert notice.url == report_url(report)


def test_a_personnummer_is_refused_and_nothing_saved(world, karlstad_superuser):
    text = f"Patienten {PATIENTS[0]} syns inte i inkorgen."
    response = world.nurse.client().post(PAGE, form(what_happened=text))
    assert response.status_code == 400
    assert "Skriv inte personnummer i en felanmälan" in response.content.decode()
    assert not FaultReport.objects.exists()
    assert not OutboxItem.objects.exists()


def test_a_mailbox_without_a_grant_is_refused(world):
    response = world.nurse.client().post(PAGE, form(mailbox=str(world.arvika_fbl.pk)))
    assert response.status_code == 400
    assert "Du har inte behörighet till den brevlådan" in response.content.decode()
    assert not FaultReport.objects.exists()


def test_a_double_posted_form_saves_once(world):
    client = world.nurse.client()
    data = form()
    client.post(PAGE, data)
    client.post(PAGE, data)
    assert FaultReport.objects.count() == 1


def test_the_organisations_superuser_answers(world, karlstad_superuser, report):
    client = karlstad_superuser.client()
    assert str(report.pk) in client.get(QUEUE).content.decode()
    response = client.post(report_url(report, "answer"), {"text": "Starta om webbläsaren."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == FaultReport.Status.ANSWERED
    # The reporter sees the answer and the status, and is told.
    page = world.nurse.client().get(report_url(report)).content.decode()
    assert "Starta om webbläsaren." in page
    assert "<dd>Besvarad</dd>" in page
    assert len(support_notices(world.nurse)) == 1


def test_an_answer_with_a_personnummer_is_refused(world, karlstad_superuser, report):
    karlstad_superuser.client().post(
        report_url(report, "answer"), {"text": f"Gäller det {PATIENTS[1]}?"}
    )
    report.refresh_from_db()
    assert report.status == FaultReport.Status.NEW
    assert not report.events.exists()


def test_the_superuser_closes(world, karlstad_superuser, report):
    karlstad_superuser.client().post(report_url(report, "close"), {"text": ""})
    report.refresh_from_db()
    assert report.status == FaultReport.Status.CLOSED
    assert report.events.get().kind == FaultReportEvent.Kind.CLOSE
    # A closed report takes no more answers.
    karlstad_superuser.client().post(report_url(report, "answer"), {"text": "Ett till svar."})
    assert report.events.count() == 1


def test_escalated_to_the_region_the_admin_answers_and_closes(
    world, karlstad_superuser, sysadmin, report
):
    admin = sysadmin.client()
    # Not escalated: the region's administrators do not see it.
    assert admin.get(report_url(report)).status_code == 404
    assert str(report_url(report)) not in admin.get(QUEUE).content.decode()

    karlstad_superuser.client().post(report_url(report, "escalate"), {"text": "Vet inte."})
    report.refresh_from_db()
    assert report.status == FaultReport.Status.ESCALATED
    assert len(support_notices(sysadmin)) == 1
    assert "<td>Skickad till regionen</td>" in world.nurse.client().get(PAGE).content.decode()

    assert report_url(report) in admin.get(QUEUE).content.decode()
    admin.post(report_url(report, "answer"), {"text": "Felet är rättat."})
    admin.post(report_url(report, "close"), {"text": ""})
    report.refresh_from_db()
    assert report.status == FaultReport.Status.CLOSED
    assert [e.kind for e in report.events.all()] == ["escalation", "answer", "close"]


def test_the_admin_may_not_escalate(world, karlstad_superuser, sysadmin, report):
    karlstad_superuser.client().post(report_url(report, "escalate"), {"text": ""})
    karlstad_superuser.client().post(report_url(report, "answer"), {"text": "Svar."})
    sysadmin.client().post(report_url(report, "escalate"), {"text": ""})
    assert report.events.filter(kind=FaultReportEvent.Kind.ESCALATION).count() == 1


@pytest.mark.parametrize("who", ["arvika_superuser", "staff", "colleague"])
def test_others_get_404(world, report, request, who):
    if who == "arvika_superuser":
        persona = request.getfixturevalue("arvika_superuser")
    elif who == "staff":
        persona = world.outsider
    else:
        persona = world.approver  # the reporter's colleague, no superuser
    client = persona.client()
    assert client.get(report_url(report)).status_code == 404
    for action in ("answer", "close", "escalate"):
        assert client.post(report_url(report, action), {"text": "x"}).status_code == 404
    if who != "arvika_superuser":
        assert client.get(QUEUE).status_code == 404
    else:
        assert report_url(report) not in client.get(QUEUE).content.decode()
    report.refresh_from_db()
    assert report.status == FaultReport.Status.NEW


def test_the_queue_shows_open_reports_before_closed(world, karlstad_superuser, report):
    world.nurse.client().post(PAGE, form(what_happened="Sökningen ger inga träffar."))
    newer = FaultReport.objects.exclude(pk=report.pk).get()
    client = karlstad_superuser.client()
    client.post(report_url(newer, "close"), {"text": ""})
    page = client.get(QUEUE).content.decode()
    # The newer report is closed: the older, open one comes first.
    assert page.index(report_url(report)) < page.index(report_url(newer))
