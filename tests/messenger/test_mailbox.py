from datetime import time

from django.urls import reverse

from tests.helpers import send
from tests.testdata import PATIENTS


def test_it_lists_the_inbox_with_masked_patients(world, categories):
    send(
        world.nurse,
        world.gripen_fbl,
        categories["Recept"],
        patient_id=PATIENTS[0],
        subject="Förnyelse av recept",
    )
    response = world.hc_nurse.client().get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Förnyelse av recept" in page
    assert f"{PATIENTS[0][:8]}-****" in page
    assert PATIENTS[0] not in page
    assert PATIENTS[0][2:] not in page


def test_outsider_gets_404_for_a_mailbox_they_have_no_grant_for(world):
    for mailbox in (world.karlstad_fbl, world.gripen_fbl):
        response = world.outsider.client().get(reverse("messenger:mailbox", args=[mailbox.pk]))
        assert response.status_code == 404


def test_unknown_mailbox_gets_the_same_404(world):
    response = world.outsider.client().get(reverse("messenger:mailbox", args=[999999]))
    assert response.status_code == 404
    assert "Sidan finns inte" in response.content.decode()


def test_approver_without_grant_gets_404(world):
    response = world.approver.client().get(
        reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])
    )
    assert response.status_code == 404


def test_everyone_in_the_mailbox_sees_its_local_routine(world):
    from mailboxes.models import MonitoringRoutine

    routine = MonitoringRoutine.objects.create(
        mailbox=world.gripen_fbl, check_times=[time(8), time(13)], holiday_cover="Vc Rud"
    )
    routine.monitors.set([world.hc_nurse.user])
    page = world.hc_nurse.client().get(reverse("messenger:mailbox", args=[world.gripen_fbl.pk]))
    body = page.content.decode()
    assert "Lokal rutin för brevlådan" in body
    assert "08:00, 13:00" in body
    assert "Vc Rud" in body
    assert world.hc_nurse.user.display_name() in body
