"""R21: each functional mailbox's reserve routine, the region's list of them linked from the
outage banner, and the outage printout of a mailbox's open threads (a working document, R15)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AccessLog
from mailboxes.models import MonitoringRoutine
from messenger.models import Notice
from tests.helpers import reply, send
from tests.testdata import PATIENTS

RESERVE_LIST = reverse("messenger:reserve_routines")


def reserve_url(mailbox) -> str:
    return reverse("messenger:reserve_print", args=[mailbox.pk])


def shown(patient_id: str) -> str:
    return f"{patient_id[:8]}-{patient_id[8:]}"


def set_reserve(mailbox, phone: str, hours: str = "vardagar 08–17", text: str = "") -> None:
    MonitoringRoutine.objects.update_or_create(
        mailbox=mailbox,
        defaults={"reserve_phone": phone, "reserve_hours": hours, "reserve_instructions": text},
    )


def test_the_routine_form_saves_the_reserve_routine_and_the_mailbox_shows_it(world):
    world.nurse.employment.roles = [Role.STAFF, Role.SUPERUSER]
    world.nurse.employment.save()
    client = world.nurse.client()
    response = client.post(
        reverse("mailboxes:admin_routine", args=[world.karlstad_fbl.pk]),
        {
            "check_times": "10:00, 15:00",
            "reserve_phone": "054-540 00 00",
            "reserve_hours": "vardagar 08–17",
            "reserve_instructions": "Ring sjuksköterskan i tjänst.\nFaxa inte.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    routine = MonitoringRoutine.objects.get(mailbox=world.karlstad_fbl)
    assert routine.reserve_phone == "054-540 00 00"
    assert routine.reserve_hours == "vardagar 08–17"
    assert routine.reserve_instructions == "Ring sjuksköterskan i tjänst.\nFaxa inte."
    body = client.get(reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])).content.decode()
    assert "Reservrutin" in body
    assert "054-540 00 00" in body
    assert "Ring sjuksköterskan i tjänst.<br>Faxa inte." in body


def test_the_reserve_list_shows_the_units_routines_by_organisation(world):
    set_reserve(world.gripen_fbl, "054-61 00 00", text="Ring mottagningen.")
    set_reserve(world.arvika_fbl, "0570-800 00")
    world.arvika_fbl.closed_at = timezone.now()
    world.arvika_fbl.save()
    MonitoringRoutine.objects.create(mailbox=world.karlstad_fbl)  # says nothing of a reserve
    response = world.nurse.client().get(RESERVE_LIST)
    assert response.status_code == 200
    body = response.content.decode().split("<h1>", 1)[1]  # the page, not the navigation
    assert "Vårdcentralen Gripen" in body
    assert world.gripen_fbl.name in body
    assert "054-61 00 00" in body
    assert "Ring mottagningen." in body
    assert "0570-800 00" not in body  # a closed mailbox is reached no more
    assert world.karlstad_fbl.name not in body


def test_the_outage_banner_links_to_the_reserve_routines(world, sysadmin):
    now = timezone.now()
    Notice.objects.create(
        title="Systemet ligger nere",
        text="Vi felsöker.",
        kind=Notice.Kind.OUTAGE,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2),
        created_by=sysadmin.user,
    )
    body = world.nurse.client().get(reverse("messenger:home")).content.decode()
    banner = body.split('class="service-banner', 1)[1].split("</div>", 1)[0]
    assert "Systemet ligger nere" in banner
    assert f'<a href="{RESERVE_LIST}">Reservrutiner för att nå andra enheter</a>' in banner


def test_the_reserve_print_lists_open_threads_in_full_and_logs_each_patient(world, categories):
    set_reserve(world.karlstad_fbl, "054-540 00 00")
    set_reserve(world.gripen_fbl, "054-61 00 00")
    asked = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    received = send(
        world.hc_nurse,
        world.karlstad_fbl,
        categories["Recept"],
        patient_id=PATIENTS[1],
        subject="Fråga om hemsjukvård",
    )
    answered = send(
        world.hc_nurse,
        world.karlstad_fbl,
        categories["Recept"],
        patient_id=PATIENTS[2],
        subject="Redan besvarad",
    )
    reply(world.nurse, answered)
    client = world.nurse.client()  # signing in writes its own row
    before = AccessLog.objects.count()
    response = client.get(reserve_url(world.karlstad_fbl))
    body = response.content.decode()
    assert response.status_code == 200
    assert shown(asked.patient_id) in body
    assert shown(received.patient_id) in body
    assert shown(answered.patient_id) not in body
    assert "Redan besvarad" not in body
    assert "Arbetsmaterial – förstörs efter användning (R15)" in body
    assert world.gripen_fbl.name in body
    assert "054-61 00 00" in body
    assert "054-540 00 00" in body
    # One PRINT row for each thread listed, with its patient, as printing each thread would.
    rows = list(AccessLog.objects.order_by("pk")[before:])
    assert sorted(
        (r.action, r.user_id_snapshot, r.thread_id_snapshot, r.patient_id) for r in rows
    ) == sorted(
        [
            (AccessLog.Action.PRINT, world.nurse.user.pk, asked.pk, asked.patient_id),
            (AccessLog.Action.PRINT, world.nurse.user.pk, received.pk, received.patient_id),
        ]
    )
    assert {r.detail for r in rows} == {"Reservutskrift, 2 ärenden"}
    assert {r.mailbox_name for r in rows} == {world.karlstad_fbl.name}


def test_an_overdue_question_is_marked_on_the_reserve_print(world, categories):
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    thread.reply_due_at = timezone.now() - timedelta(hours=1)
    thread.save()
    body = world.nurse.client().get(reserve_url(world.karlstad_fbl)).content.decode()
    assert "FÖRSENAD" in body


def test_an_outsider_gets_404_and_the_attempt_is_logged_as_denied(world):
    client = world.outsider.client()
    before = AccessLog.objects.count()
    response = client.get(reserve_url(world.karlstad_fbl))
    assert response.status_code == 404
    rows = list(AccessLog.objects.order_by("pk")[before:])
    assert [(r.action, r.user_id_snapshot) for r in rows] == [
        (AccessLog.Action.DENIED, world.outsider.user.pk)
    ]


def test_every_page_footer_links_to_the_reserve_routines_outside_an_outage(world):
    # Print it while the system is up: in an outage the page may be out of reach too.
    body = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert f'href="{RESERVE_LIST}"' in body
    assert "Reservrutiner för att nå andra enheter" not in body


def test_the_mailbox_header_links_to_the_reserve_print(world):
    body = world.nurse.client().get(reverse("messenger:mailbox", args=[world.karlstad_fbl.pk]))
    assert reserve_url(world.karlstad_fbl) in body.content.decode()


def test_an_empty_reserve_print_is_logged_too(world):
    client = world.nurse.client()
    before = AccessLog.objects.count()
    body = client.get(reserve_url(world.karlstad_fbl)).content.decode()
    assert "Arbetsmaterial – förstörs efter användning (R15)" in body
    [row] = AccessLog.objects.order_by("pk")[before:]
    assert (row.action, row.thread_id_snapshot, row.patient_id) == (
        AccessLog.Action.PRINT,
        None,
        "",
    )
    assert row.detail == "Reservutskrift, 0 ärenden"
