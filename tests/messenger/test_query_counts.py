"""The hot views run the same number of queries with 5 and with 500 threads in the mailbox."""

from datetime import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailboxes.models import AddressList, AddressListEntry, MonitoringRoutine
from messenger.services import journal_link_attach
from tests.helpers import assert_num_queries, delivery_of, reply, send
from tests.testdata import PATIENTS


def queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200, url
    return len(captured)


def test_hot_views_do_not_grow_with_the_mailbox(world, categories):
    address_list = AddressList.objects.create(organisation=world.karlstad)
    AddressListEntry.objects.create(address_list=address_list, mailbox=world.gripen_fbl)
    routine = MonitoringRoutine.objects.create(
        mailbox=world.gripen_fbl, check_times=[time(8), time(13)]
    )
    routine.monitors.set([world.hc_nurse.user])
    category = categories["Läkemedel"]

    def fill(count: int) -> None:
        for n in range(count):
            thread = send(
                world.nurse, world.gripen_fbl, category, patient_id=PATIENTS[n % len(PATIENTS)]
            )
            if n % 10 == 0:
                reply(world.hc_nurse, thread)

    fill(5)
    focus = send(world.nurse, world.gripen_fbl, category, patient_id=PATIENTS[0])
    reply(world.hc_nurse, focus)
    journal_link_attach(
        actor=world.hc_nurse.user,
        employment=world.hc_nurse.employment,
        delivery=delivery_of(focus, world.gripen_fbl),
        kind="journal_note",
        title="Anteckning",
        reference="J-1",
    )
    hc = world.hc_nurse.client()
    nurse = world.nurse.client()
    views = {
        "inbox": (hc, "get", reverse("messenger:mailbox", args=[world.gripen_fbl.pk]), None),
        "thread": (
            hc,
            "get",
            reverse("messenger:thread", args=[world.gripen_fbl.pk, focus.pk]),
            None,
        ),
        "compose": (nurse, "get", reverse("messenger:compose", args=[world.karlstad_fbl.pk]), None),
        "search": (
            hc,
            "post",
            reverse("messenger:search", args=[world.gripen_fbl.pk]),
            {"text": "dosen", "state": "unanswered"},
        ),
    }
    for client, method, url, data in views.values():
        queries(client, method, url, data)  # warm sessions
    few = {name: queries(*view) for name, view in views.items()}
    fill(495)
    many = {name: queries(*view) for name, view in views.items()}
    assert many == few
    # Each: session, user, employments, [view's queries], session save (savepoint, update,
    # release), and the navigation: its mailboxes with unread counts and the header's count of
    # unread notifications in one query.
    expected = {
        # + mailbox with grant level (and the grant's last use: within the hour, no UPDATE of
        #   it), the local routine and its monitors, one page of deliveries with threads and
        #   categories, the check (one INSERT … ON CONFLICT DO NOTHING, written or not),
        #   today's checks
        "inbox": 13,
        # + in one transaction (savepoint, release): delivery with thread and grant level,
        #   access-log insert, mark read (savepoint, update, release), grant's last use (one
        #   UPDATE); then messages, links, link ledgers, history, holders, questions
        "thread": 21,
        # + mailbox with grant level, preset list, categories for the select
        "compose": 10,
        # + mailbox with grant level, results, access-log insert, categories for the select
        "search": 11,
    }
    for name, (client, method, url, data) in views.items():
        with assert_num_queries(expected[name]):  # prints the SQL when a count is off
            getattr(client, method)(url, data or {})
