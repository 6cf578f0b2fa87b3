from datetime import date, time

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Notification
from audit.models import AccessLog
from mailboxes.models import (
    AccessRequest,
    AddressList,
    AddressListEntry,
    Mailbox,
    MonitoringRoutine,
)
from mailboxes.notifications import outbox_send
from mailboxes.services import address_list_add, mailbox_close, routine_update
from tests.mailboxes.conftest import apply

LIST = reverse("mailboxes:admin_mailboxes")
NEW = reverse("mailboxes:admin_mailbox_new")


def edit_url(mailbox: Mailbox) -> str:
    return reverse("mailboxes:admin_mailbox", args=[mailbox.pk])


def close_url(mailbox: Mailbox) -> str:
    return reverse("mailboxes:admin_mailbox_close", args=[mailbox.pk])


def routine_url(mailbox: Mailbox) -> str:
    return reverse("mailboxes:admin_routine", args=[mailbox.pk])


def test_a_system_administrator_creates_a_health_centre_mailbox(world, sysadmin):
    client = sysadmin.client()
    assert client.get(LIST).status_code == 200
    response = client.post(
        NEW,
        {
            "organisation": world.gripen.pk,
            "name": "Gripen Allmänmedicinska mottagningen (FBL)",
            "hsa_id": "SE2321000016-XYZ1",
            "phone": "054-10 10 10",
        },
    )
    # R2: the mailbox for municipalities has the agreed name, or senders miss it.
    assert response.status_code == 200
    assert "heter ”Vc Ort Allmänmedicinska mottagningen (FBL)”" in response.content.decode()
    assert 'value="Gripen Allmänmedicinska mottagningen (FBL)"' in response.content.decode()
    assert not Mailbox.objects.filter(name__startswith="Gripen").exists()

    response = client.post(
        NEW,
        {
            "organisation": world.gripen.pk,
            "name": "Vc Gripen Norra Allmänmedicinska mottagningen (FBL)",
            "hsa_id": "SE2321000016-XYZ1",
            "phone": "054-10 10 10",
        },
    )
    mailbox = Mailbox.objects.get(name="Vc Gripen Norra Allmänmedicinska mottagningen (FBL)")
    assert response["Location"] == edit_url(mailbox)
    assert mailbox.is_functional
    assert mailbox.organisation == world.gripen
    assert mailbox.phone == "054-10 10 10"
    assert AccessLog.objects.filter(detail__startswith="Skapade funktionsbrevlådan").exists()
    assert LogEntry.objects.get_for_object(mailbox).exists()


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("Vc Gripen Barnavårdscentralen (FBL)", True),
        ("Vc Gripen Allmänmedicinska mottagningen (FBL)2", False),
        ("Vc Gripen Barnavårdscentralen", False),
        ("Vc Gripen allmänmedicinska mottagningen (FBL)", False),
        ("VC Gripen Allmänmedicinska mottagningen (FBL)", False),
        ("Vc Gripen Allmänmedicinsk mottagning (FBL)", False),
        ("Vc Gripen Allmanmedicinska mottagningen (FBL)", False),
    ],
)
def test_a_health_centre_may_have_other_mailboxes_than_the_allmanmedicinska(
    world, sysadmin, name, allowed
):
    # R2, as the seed has it: staff are told which mailbox to choose; other names are allowed.
    response = sysadmin.client().post(NEW, {"organisation": world.gripen.pk, "name": name})
    assert Mailbox.objects.filter(name=name).exists() is allowed
    assert response.status_code == (302 if allowed else 200)


def test_a_name_typed_with_a_combining_mark_is_stored_composed(world, sysadmin):
    typed = "Vc Gripen Norra Allma\u0308nmedicinska mottagningen (FBL)"
    response = sysadmin.client().post(NEW, {"organisation": world.gripen.pk, "name": typed})
    assert response.status_code == 302
    assert Mailbox.objects.filter(
        name="Vc Gripen Norra Allmänmedicinska mottagningen (FBL)"
    ).exists()


def test_the_last_allmanmedicinska_mailbox_keeps_its_name(world, sysadmin):
    client = sysadmin.client()
    renamed = {"name": "Vc Gripen Barnavårdscentralen (FBL)", "hsa_id": "", "phone": ""}
    response = client.post(edit_url(world.gripen_fbl), renamed)
    assert response.status_code == 200
    assert "enda brevlåda för kommunerna (R2)" in response.content.decode()
    world.gripen_fbl.refresh_from_db()
    assert world.gripen_fbl.name == "Vc Gripen Allmänmedicinska mottagningen (FBL)"
    # With another in place, it may be renamed.
    client.post(
        NEW,
        {
            "organisation": world.gripen.pk,
            "name": "Vc Gripen Norra Allmänmedicinska mottagningen (FBL)",
        },
    )
    assert client.post(edit_url(world.gripen_fbl), renamed).status_code == 302
    world.gripen_fbl.refresh_from_db()
    assert world.gripen_fbl.name == "Vc Gripen Barnavårdscentralen (FBL)"


def test_the_picker_marks_a_health_centres_other_mailboxes(world, sysadmin):
    sysadmin.client().post(
        NEW, {"organisation": world.gripen.pk, "name": "Vc Gripen Barnavårdscentralen (FBL)"}
    )
    url = reverse("messenger:recipients", args=[world.karlstad_fbl.pk])
    page = world.nurse.client().get(url, {"q": "gripen"}, headers={"HX-Request": "true"})
    rows = [line for line in page.content.decode().splitlines() if "<li>" in line]
    [other] = [row for row in rows if "Barnavårdscentralen" in row]
    [general] = [row for row in rows if world.gripen_fbl.name in row]
    assert "inte vårdcentralens Allmänmedicinska brevlåda" in other
    assert "inte vårdcentralens" not in general


def test_a_duplicate_name_or_bad_hsa_id_is_refused_in_swedish(world, sysadmin):
    response = sysadmin.client().post(
        NEW,
        {"organisation": world.karlstad.pk, "name": world.karlstad_fbl.name, "hsa_id": "abc"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Ange ett HSA-id" in body
    assert Mailbox.objects.filter(name=world.karlstad_fbl.name).count() == 1


def test_a_system_administrator_edits_the_details(world, sysadmin):
    response = sysadmin.client().post(
        edit_url(world.karlstad_fbl),
        {"name": world.karlstad_fbl.name, "hsa_id": world.karlstad_fbl.hsa_id, "phone": "054-1"},
    )
    assert response.status_code == 302
    world.karlstad_fbl.refresh_from_db()
    assert world.karlstad_fbl.phone == "054-1"


def test_the_local_routine_names_monitors_with_access_and_times(world, sysadmin):
    client = sysadmin.client()
    page = client.get(routine_url(world.karlstad_fbl)).content.decode()
    assert world.nurse.user.display_name() in page
    assert world.outsider.user.display_name() not in page  # no grant, cannot monitor
    response = client.post(
        routine_url(world.karlstad_fbl),
        {
            "monitors": [world.nurse.user.pk],
            "check_times": "08:00, 13:30",
            "closed_days": "2027-05-07",
            "emptied_by": "Anna, första måndagen i månaden",
            "holiday_cover": "Nattpatrullen",
            "access_updated_by": "Eva Ek",
        },
    )
    assert response.status_code == 302
    routine = MonitoringRoutine.objects.get(mailbox=world.karlstad_fbl)
    assert list(routine.monitors.all()) == [world.nurse.user]
    assert routine.check_times == [time(8), time(13, 30)]
    assert routine.closed_days == [date(2027, 5, 7)]
    assert routine.access_updated_by == "Eva Ek"
    assert AccessLog.objects.filter(detail__startswith="Ändrade lokal rutin").exists()
    page = client.get(edit_url(world.karlstad_fbl)).content.decode()
    assert "Nattpatrullen" in page


def test_a_monitor_without_access_is_refused(world, sysadmin):
    response = sysadmin.client().post(
        routine_url(world.karlstad_fbl),
        {"monitors": [world.outsider.user.pk], "check_times": "08:00"},
    )
    assert response.status_code == 200
    # The form offers only grant holders; the service refuses anyone else too.
    assert "giltigt" in response.content.decode()
    assert not MonitoringRoutine.objects.filter(
        mailbox=world.karlstad_fbl, monitors=world.outsider.user
    ).exists()
    with pytest.raises(ValidationError, match="Bevakare måste ha behörighet"):
        routine_update(
            actor=sysadmin.user,
            mailbox=world.karlstad_fbl,
            monitors=[world.outsider.user],
            check_times=[time(8)],
            emptied_by="",
            holiday_cover="",
            access_updated_by="",
        )


def test_closing_needs_the_confirmation_and_says_it_cannot_be_reopened(world, sysadmin):
    client = sysadmin.client()
    page = client.get(close_url(world.arvika_fbl)).content.decode()
    assert "kan inte öppnas igen" in page
    response = client.post(close_url(world.arvika_fbl), {"reason": "Sammanslagen"})
    assert response.status_code == 200
    assert "Bekräfta att brevlådan ska stängas för alltid." in response.content.decode()
    assert "Sammanslagen" in response.content.decode()
    world.arvika_fbl.refresh_from_db()
    assert not world.arvika_fbl.is_closed


def test_closing_is_permanent_and_keeps_content_readable_to_grant_holders(
    world, sysadmin, applicant
):
    pending = apply(applicant, world.arvika_fbl)
    address_list = AddressList.objects.create(organisation=world.karlstad)
    address_list_add(actor=sysadmin.user, address_list=address_list, mailbox=world.gripen_fbl)
    client = sysadmin.client()
    response = client.post(
        close_url(world.gripen_fbl), {"confirm": "on", "reason": "Vårdcentralen läggs ned"}
    )
    assert response.status_code == 302
    world.gripen_fbl.refresh_from_db()
    assert world.gripen_fbl.is_closed
    # Grant holders still read it until the purge.
    mailbox_page = world.hc_nurse.client().get(
        reverse("messenger:mailbox", args=[world.gripen_fbl.pk])
    )
    assert mailbox_page.status_code == 200
    # Off the preset lists, out of the address lists of open mailboxes.
    assert not AddressListEntry.objects.filter(mailbox=world.gripen_fbl).exists()
    assert world.gripen_fbl not in Mailbox.objects.active()
    # There is no way back: the close page is gone, editing is refused.
    assert client.get(close_url(world.gripen_fbl)).status_code == 404
    assert client.post(edit_url(world.gripen_fbl), {"name": "x (FBL)"}).status_code == 404
    with pytest.raises(ValidationError, match="redan stängd"):
        mailbox_close(actor=sysadmin.user, mailbox=world.gripen_fbl, reason="igen")
    entry = AccessLog.objects.get(detail__startswith="Stängde")
    assert "Vårdcentralen läggs ned" in entry.detail
    pending.refresh_from_db()
    assert pending.status == AccessRequest.Status.PENDING  # other mailbox, untouched


def test_closing_denies_pending_requests_for_it(world, sysadmin, applicant):
    pending = apply(applicant, world.arvika_fbl)
    mailbox_close(actor=sysadmin.user, mailbox=world.arvika_fbl, reason="Sammanslagen")
    pending.refresh_from_db()
    assert pending.status == AccessRequest.Status.DENIED
    outbox_send()  # the decision is told through the outbox
    assert "stängd" in Notification.objects.get(user=applicant.user).text


def test_the_preset_list_is_edited_by_a_system_administrator(world, sysadmin):
    client = sysadmin.client()
    url = reverse("mailboxes:admin_address_list", args=[world.karlstad.pk])
    page = client.get(url).content.decode()
    assert world.gripen_fbl.name in page  # offered
    assert world.arvika_fbl.name not in page  # municipalities are not on preset lists
    assert client.post(url, {"mailbox": world.gripen_fbl.pk}).status_code == 302
    entry = AddressListEntry.objects.get(address_list__organisation=world.karlstad)
    assert entry.mailbox == world.gripen_fbl
    remove = reverse("mailboxes:admin_address_list_remove", args=[world.karlstad.pk, entry.pk])
    assert client.post(remove).status_code == 302
    assert not AddressListEntry.objects.exists()
    details = list(AccessLog.objects.values_list("detail", flat=True))
    assert any("Lade till" in d for d in details)
    assert any("Tog bort" in d for d in details)


def test_only_municipalities_have_preset_lists(world, sysadmin):
    url = reverse("mailboxes:admin_address_list", args=[world.gripen.pk])
    assert sysadmin.client().get(url).status_code == 404


@pytest.mark.parametrize("who", ["nurse", "approver", "outsider", "log_reviewer"])
def test_everyone_but_system_administrators_gets_404(world, who):
    client = getattr(world, who).client()
    address_list = reverse("mailboxes:admin_address_list", args=[world.karlstad.pk])
    for url in (
        LIST,
        NEW,
        edit_url(world.karlstad_fbl),
        routine_url(world.karlstad_fbl),
        close_url(world.karlstad_fbl),
        reverse("mailboxes:admin_address_lists"),
        address_list,
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(close_url(world.karlstad_fbl), {"confirm": "on", "reason": "x"}).status_code
        == 404
    )
    world.karlstad_fbl.refresh_from_db()
    assert not world.karlstad_fbl.is_closed


def test_an_organisations_superuser_is_not_a_system_administrator(world):
    from accounts.models import Role

    world.nurse.employment.roles = [Role.STAFF, Role.SUPERUSER]
    world.nurse.employment.save()
    assert world.nurse.client().get(LIST).status_code == 404


def test_an_hsa_id_already_in_use_gets_a_clear_message(world, sysadmin):
    response = sysadmin.client().post(
        NEW,
        {
            "organisation": world.karlstad.pk,
            "name": "Karlstads kommun Rehab (FBL)",
            "hsa_id": world.arvika_fbl.hsa_id,
        },
    )
    assert response.status_code == 200
    assert "HSA-id:t används redan" in response.content.decode()
    assert not Mailbox.objects.filter(name="Karlstads kommun Rehab (FBL)").exists()


def test_opening_the_routine_form_writes_nothing(world, sysadmin):
    from mailboxes.models import MonitoringRoutine

    url = reverse("mailboxes:admin_routine", args=[world.gripen_fbl.pk])
    assert sysadmin.client().get(url).status_code == 200
    assert not MonitoringRoutine.objects.filter(mailbox=world.gripen_fbl).exists()


def test_a_preset_list_takes_only_health_centres(world, sysadmin):
    address_list = AddressList.objects.create(organisation=world.karlstad)
    with pytest.raises(ValidationError, match="vårdcentralers"):
        address_list_add(actor=sysadmin.user, address_list=address_list, mailbox=world.arvika_fbl)
    assert not address_list.entries.exists()
