"""R18: a log reviewer controls their own organisation's access log and draws patients' log
extracts; every search and extract is itself logged (issue 10)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from audit.services import access_log
from tests.helpers import send, thread_url
from tests.testdata import PATIENTS

LOG = reverse("messenger:log_control")
EXTRACT = reverse("messenger:log_extract")


@pytest.fixture
def reads(world, categories):
    """Bo reads a thread about PATIENTS[0] in Gripen's mailbox; Anna reads one about
    PATIENTS[1] in Karlstad's, where Gripen's log control has no business."""
    first = send(world.nurse, world.gripen_fbl, categories["Läkemedel"], patient_id=PATIENTS[0])
    second = send(world.hc_nurse, world.karlstad_fbl, categories["Recept"], patient_id=PATIENTS[1])
    world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, first))
    world.nurse.client().get(thread_url("thread", world.karlstad_fbl, second))
    return first, second


def lines(response) -> list[str]:
    return [text for _row, text in response.context["lines"]]


def test_the_reviewer_sees_reads_in_their_mailboxes_and_what_their_staff_did(world, reads):
    first, second = reads
    response = world.log_reviewer.client().get(LOG)
    assert response.status_code == 200
    shown = lines(response)
    bo = world.hc_nurse.user.display_name()
    assert f"{bo}, Vårdcentralen Gripen, läste ärende {first.pk} i {world.gripen_fbl.name}" in shown
    # Bo, Gripen's own staff, sent the thread to Karlstad: that is Gripen's to see too.
    assert any(
        text.startswith(f"{bo}, Vårdcentralen Gripen, skickade ärende {second.pk}")
        for text in shown
    )
    # Anna reading in Karlstad's mailbox is Karlstad's business only.
    anna = world.nurse.user.display_name()
    assert not any(f"{anna}, Karlstads kommun, läste" in text for text in shown)


def test_the_newest_rows_come_first_and_the_reviewers_search_is_logged(world, reads):
    response = world.log_reviewer.client().get(LOG)
    rows = [row for row, _text in response.context["lines"]]
    assert [(r.at, r.pk) for r in rows] == sorted(((r.at, r.pk) for r in rows), reverse=True)
    search = AccessLog.objects.get(action=AccessLog.Action.LOG_SEARCH)
    assert search.user_id_snapshot == world.log_reviewer.user.pk
    assert search.organisation_name == "Vårdcentralen Gripen"
    assert search.detail.startswith("utan filter")


def test_a_patient_filter_is_posted_shows_only_their_rows_and_is_logged(world, reads):
    first, _second = reads
    response = world.log_reviewer.client().post(LOG, {"patient": "20000101-2384"})
    assert response.status_code == 200
    rows = [row for row, _text in response.context["lines"]]
    assert rows
    assert {row.patient_id for row in rows} == {PATIENTS[0]}
    assert "2384" not in response.request["PATH_INFO"] + response.request.get("QUERY_STRING", "")
    search = AccessLog.objects.filter(action=AccessLog.Action.LOG_SEARCH).latest("pk")
    assert search.patient_id == PATIENTS[0]
    assert PATIENTS[0] not in search.detail


def test_filters_by_action_mailbox_person_and_period(world, reads):
    first, _second = reads
    client = world.log_reviewer.client()
    today = timezone.localdate()

    def texts(**data):
        response = client.post(LOG, data)
        assert response.status_code == 200, response.context["form"].errors
        return lines(response)

    viewed = texts(action="view_thread", mailbox=world.gripen_fbl.name)
    assert viewed
    assert all(" läste ärende " in text for text in viewed)
    bo = world.hc_nurse.user
    by_bo = texts(person=bo.last_name.lower())
    assert by_bo
    assert all(text.startswith(bo.display_name()) for text in by_bo)
    assert texts(start=str(today - timedelta(days=1)), end=str(today))
    assert texts(start=str(today + timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"patient": "20000101-2385"}, "Kontrollsiffran stämmer inte"),
        ({"patient": "waran"}, "ÅÅÅÅMMDD-NNNN"),
        ({"start": "2027-02-01", "end": "2027-01-01"}, "Perioden slutar innan den börjar."),
        ({"start": "2019-01-01", "end": "2026-01-01"}, "högst 5 år"),
        ({"mailbox": "Karlstads kommun HSL (FBL)"}, "hör inte till din organisation"),
        ({"action": "drop_table"}, "Händelsen finns inte"),
        ({"start": "2027-13-01"}, "datum"),
    ],
)
def test_bad_filters_get_a_swedish_message_and_run_no_search(world, reads, data, message):
    response = world.log_reviewer.client().post(LOG, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["page"] is None
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOG_SEARCH).exists()


def test_older_rows_page_by_keyset_without_gaps_or_repeats(world):
    # Every other row is staff reading in their own organisation's mailbox: in both halves of
    # the page's union, and still listed once.
    for n in range(60):
        access_log(
            action=AccessLog.Action.VIEW_THREAD,
            user=world.hc_nurse.user,
            organisation_name="Vårdcentralen Gripen",
            mailbox_organisation_name="Vårdcentralen Gripen" if n % 2 else "",
            thread_id=n + 1,
        )
    client = world.log_reviewer.client()
    first = client.post(LOG, {"action": "view_thread"})
    cursor = first.context["page"].next_cursor
    assert len(first.context["lines"]) == 50
    assert cursor
    second = client.post(LOG, {"action": "view_thread", "efter": cursor})
    seen = [row.pk for row, _t in first.context["lines"]] + [
        row.pk for row, _t in second.context["lines"]
    ]
    assert len(seen) == len(set(seen)) == 60
    assert second.context["page"].next_cursor is None


def test_a_patients_extract_lists_the_reads_in_the_organisations_mailboxes(world, reads):
    first, _second = reads
    response = world.log_reviewer.client().post(EXTRACT, {"patient": PATIENTS[0]})
    assert response.status_code == 200
    rows = [row for row, _t in response.context["rows"]]
    assert rows
    assert all(row.mailbox_organisation_name == "Vårdcentralen Gripen" for row in rows)
    assert {row.patient_id for row in rows} == {PATIENTS[0]}
    assert [(r.at, r.pk) for r in rows] == sorted((r.at, r.pk) for r in rows)
    body = response.content.decode()
    assert world.hc_nurse.user.display_name() in body
    made = AccessLog.objects.get(action=AccessLog.Action.LOG_EXTRACT)
    assert made.patient_id == PATIENTS[0]
    assert made.detail.startswith("utskrift")


def test_another_organisations_reads_of_the_patient_are_not_in_the_extract(world, reads):
    _first, second = reads
    response = world.log_reviewer.client().post(EXTRACT, {"patient": PATIENTS[1]})
    # Bo sent it from Gripen's mailbox: Gripen's row. Anna read it in Karlstad's: Karlstad's.
    actions = [row.action for row, _t in response.context["rows"]]
    assert actions == [AccessLog.Action.SEND]


def test_the_extract_as_csv_opens_in_swedish_excel(world, reads):
    response = world.log_reviewer.client().post(EXTRACT, {"patient": PATIENTS[0], "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert PATIENTS[0] not in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffTid;Organisation;Person;Händelse;Brevlåda")
    body = text.splitlines()[1:]
    assert body
    assert all(line.count(";") == 4 for line in body)
    assert any("Läste ärende" in line for line in body)
    assert AccessLog.objects.get(action=AccessLog.Action.LOG_EXTRACT).detail.startswith("CSV")


def test_an_extract_without_a_patient_gets_a_message(world, reads):
    response = world.log_reviewer.client().post(EXTRACT, {"start": "2026-01-01"})
    assert response.status_code == 400
    assert "Ange patientens personnummer" in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOG_EXTRACT).exists()


def test_only_log_reviewers_get_the_pages(world):
    for persona in (world.hc_nurse, world.approver, world.doctor):
        client = persona.client()
        assert client.get(LOG).status_code == 404
        assert client.post(EXTRACT, {"patient": PATIENTS[0]}).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOG_EXTRACT).exists()


def test_denied_attempts_on_the_organisations_mailboxes_are_a_filter(world, reads):
    first, _second = reads
    world.outsider.client().get(thread_url("thread", world.gripen_fbl, first))
    response = world.log_reviewer.client().post(LOG, {"action": "denied"})
    outsider = world.outsider.user.display_name()
    assert lines(response) == [
        f"{outsider}, Arvika kommun, nekad åtkomst: brevlåda {world.gripen_fbl.pk}, "
        f"ärende {first.pk}"
    ]
