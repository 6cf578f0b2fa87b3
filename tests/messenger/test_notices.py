"""Notices about the system (R20): administrators publish them, outages and maintenance show as a
banner on every page while they last, news on the start page until read, and an Atom feed."""

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from audit.models import AccessLog
from messenger.models import Notice, NoticeRead
from messenger.notices import banner_notices
from messenger.services import notice_create
from tests.helpers import assert_num_queries, at_once
from tests.testdata import PATIENTS

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LIST = reverse("messenger:admin_notices")
NEW = reverse("messenger:admin_notice_new")
HOME = reverse("messenger:home")
NOTICES = reverse("messenger:notices")
FEED = reverse("messenger:notice_feed")
ATOM = "{http://www.w3.org/2005/Atom}"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A time in 2027, Stockholm time."""
    return datetime(2027, month, day, hour, minute, tzinfo=STOCKHOLM)


def form(**changes) -> dict:
    data = {
        "title": "Uppgradering av Funktionsbrevlådan",
        "text": "Systemet är stängt under uppgraderingen.",
        "kind": "maintenance",
        "starts_at": "2027-03-10T14:05",
        "ends_at": "2027-03-10T16:00",
        "client_token": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


def publish(admin, **fields) -> Notice:
    values: dict[str, Any] = {
        "title": "Driftstörning i inloggningen",
        "text": "Inloggningen med SITHS-kort fungerar inte.",
        "kind": Notice.Kind.OUTAGE,
        "starts_at": at(10, 14, 5),
        "ends_at": at(10, 16),
    }
    values.update(fields)
    return notice_create(actor=admin, **values)


# Who may


def test_a_system_administrator_publishes_edits_and_ends_a_notice(sysadmin):
    client = sysadmin.client()
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, form())
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.kind == Notice.Kind.MAINTENANCE
    assert notice.starts_at == at(10, 14, 5)
    assert notice.ends_at == at(10, 16)
    assert notice.created_by == sysadmin.user
    assert notice.period == "2027-03-10 14:05–16:00"
    assert "Uppgradering av Funktionsbrevlådan" in client.get(LIST).content.decode()

    edit = reverse("messenger:admin_notice", args=[notice.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, form(title="Uppgradering flyttad", ends_at="2027-03-11T02:00"))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.title == "Uppgradering flyttad"
    assert notice.period == "2027-03-10 14:05–2027-03-11 02:00"

    with time_machine.travel(at(10, 15)):
        response = sysadmin.client().post(reverse("messenger:admin_notice_end", args=[notice.pk]))
        assert response.status_code == 302
        notice.refresh_from_db()
        assert notice.ends_at is not None
        assert notice.ends_at <= at(10, 15, 1)
        assert banner_notices() == []
    # Written in the access log as administration, and in django-auditlog.
    details = list(
        AccessLog.objects.filter(action=AccessLog.Action.ADMIN)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [
        f"Publicerade driftmeddelandet {notice.pk} (Planerat underhåll)",
        f"Ändrade driftmeddelandet {notice.pk}",
        f"Avslutade driftmeddelandet {notice.pk}",
    ]
    assert LogEntry.objects.get_for_object(notice).count() == 3


def test_ending_a_notice_not_yet_started_withdraws_it(sysadmin):
    notice = publish(sysadmin.user)
    with time_machine.travel(at(9, 12)):
        sysadmin.client().post(reverse("messenger:admin_notice_end", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.starts_at == notice.ends_at
    assert notice.ends_at is not None
    assert notice.ends_at < at(9, 12, 1)


@pytest.mark.parametrize("persona", ["nurse", "approver", "log_reviewer"])
def test_everyone_else_gets_404_on_the_administration_pages(world, sysadmin, persona):
    notice = publish(sysadmin.user)
    client = getattr(world, persona).client()
    for url in (
        LIST,
        NEW,
        reverse("messenger:admin_notice", args=[notice.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(NEW, form()).status_code == 404
    end = reverse("messenger:admin_notice_end", args=[notice.pk])
    assert client.post(end).status_code == 404
    assert Notice.objects.count() == 1
    notice.refresh_from_db()
    assert notice.ends_at == at(10, 16)


# Bad input


def test_a_notice_that_ends_before_it_starts_is_refused_and_nothing_saved(sysadmin):
    response = sysadmin.client().post(NEW, form(ends_at="2027-03-10T13:00"))
    assert response.status_code == 400
    assert "Meddelandet slutar innan det börjar." in response.content.decode()
    assert not Notice.objects.exists()


def test_an_edit_that_ends_before_it_starts_is_refused_and_nothing_changed(sysadmin):
    notice = publish(sysadmin.user)
    edit = reverse("messenger:admin_notice", args=[notice.pk])
    response = sysadmin.client().post(edit, form(ends_at="2027-03-01T13:00"))
    assert response.status_code == 400
    assert "Meddelandet slutar innan det börjar." in response.content.decode()
    notice.refresh_from_db()
    assert notice.ends_at == at(10, 16)


@pytest.mark.parametrize("field", ["title", "text"])
def test_a_personnummer_in_a_notice_is_refused(sysadmin, field):
    number = f"{PATIENTS[0][:8]}-{PATIENTS[0][8:]}"
    response = sysadmin.client().post(NEW, form(**{field: f"Gäller patient {number}"}))
    assert response.status_code == 400
    assert "Skriv inget personnummer" in response.content.decode()
    assert not Notice.objects.exists()


# The banner


def test_an_outage_shows_on_every_page_while_it_lasts_and_not_before_or_after(world, sysadmin):
    notice = publish(sysadmin.user)
    page = reverse("messenger:mailbox", args=[world.nurse.mailbox.pk])

    def banner_at(moment: datetime) -> str | None:
        with time_machine.travel(moment):
            content = world.nurse.client().get(page).content.decode()
        if "service-banner" not in content:
            return None
        return content

    assert banner_at(at(10, 14)) is None
    shown = banner_at(at(10, 14, 30))
    assert shown is not None
    assert 'role="alert"' in shown
    assert "Driftstörning i inloggningen" in shown
    assert "2027-03-10 14:05–16:00" in shown
    assert f'{NOTICES}#meddelande-{notice.pk}"' in shown
    assert banner_at(at(10, 16)) is None
    assert banner_at(at(11, 9)) is None


def test_maintenance_shows_as_a_status_and_news_not_in_the_banner(world, sysadmin):
    publish(sysadmin.user, kind=Notice.Kind.MAINTENANCE, title="Planerat underhåll i kväll")
    publish(sysadmin.user, kind=Notice.Kind.NEWS, title="Nytt i Funktionsbrevlådan")
    publish(sysadmin.user, kind=Notice.Kind.ROS, title="ROS inför uppgraderingen")
    with time_machine.travel(at(10, 15)):
        content = world.nurse.client().get(NOTICES).content.decode()
    banner = content.split('class="layout')[0]
    assert 'role="status"' in banner
    assert "Planerat underhåll i kväll" in banner
    assert "Nytt i Funktionsbrevlådan" not in banner
    assert "ROS inför uppgraderingen" not in banner


def test_the_sign_in_page_shows_without_the_banner_when_the_database_fails(db, monkeypatch):
    tries = []

    def fail(now):
        tries.append(now)
        raise OperationalError("the server closed the connection")

    monkeypatch.setattr("messenger.notices._fetch", fail)
    for _ in range(3):
        response = Client().get(reverse("accounts:login"))
        assert response.status_code == 200
        assert "service-banner" not in response.content.decode()
    # Asked once, then not again for the cache's 30 s: no page waits on a database that is down.
    assert len(tries) == 1


def test_the_banner_is_on_the_sign_in_page_without_links(sysadmin):
    notice = publish(sysadmin.user)
    with time_machine.travel(at(10, 15)):
        content = Client().get(reverse("accounts:login")).content.decode()
    # An outage of the sign-in matters most where people sign in. The links lead to pages
    # behind the sign-in, so a visitor gets the title and time only.
    banner = content.split('class="service-banner', 1)[1].split("</div>", 1)[0]
    assert "Driftstörning i inloggningen" in banner
    assert "2027-03-10 14:05–16:00" in banner
    assert "<a " not in banner
    assert f"meddelande-{notice.pk}" not in content


def test_the_banner_costs_one_query_per_process_every_30_seconds(world, sysadmin):
    publish(sysadmin.user)
    with time_machine.travel(at(10, 15), tick=False):
        with assert_num_queries(1):
            assert [n.title for n in banner_notices()] == ["Driftstörning i inloggningen"]
        with assert_num_queries(0):
            banner_notices()
    with time_machine.travel(at(10, 15, 1), tick=False), assert_num_queries(1):
        banner_notices()


# News on the start page


def test_news_shows_on_the_start_page_until_marked_read_per_user(world, sysadmin):
    notice = publish(
        sysadmin.user,
        kind=Notice.Kind.NEWS,
        title="Ny funktion: driftmeddelanden",
        ends_at=None,
    )
    with time_machine.travel(at(10, 13)):
        assert "Ny funktion" not in world.nurse.client().get(HOME).content.decode()
    with time_machine.travel(at(12, 9)):
        nurse, hc_nurse = world.nurse.client(), world.hc_nurse.client()
        assert "Ny funktion: driftmeddelanden" in nurse.get(HOME).content.decode()
        assert "Markera som läst" in nurse.get(HOME).content.decode()
        response = nurse.post(reverse("messenger:notice_read", args=[notice.pk]))
        assert response.status_code == 302
        assert nurse.post(reverse("messenger:notice_read", args=[notice.pk])).status_code == 302
        assert NoticeRead.objects.filter(user=world.nurse.user, notice=notice).count() == 1
        assert "Ny funktion" not in nurse.get(HOME).content.decode()
        # Bo has not read it.
        assert "Ny funktion: driftmeddelanden" in hc_nurse.get(HOME).content.decode()
        # Still on the notices page for both.
        assert "Ny funktion: driftmeddelanden" in nurse.get(NOTICES).content.decode()


def test_only_news_can_be_marked_read(world, sysadmin):
    outage = publish(sysadmin.user)
    response = world.nurse.client().post(reverse("messenger:notice_read", args=[outage.pk]))
    assert response.status_code == 404
    assert not NoticeRead.objects.exists()


def test_the_start_page_pays_one_query_for_the_news(world, sysadmin):
    publish(sysadmin.user, kind=Notice.Kind.NEWS, title="Nyhet ett", ends_at=None)
    publish(sysadmin.user, kind=Notice.Kind.NEWS, title="Nyhet två", ends_at=None)
    with time_machine.travel(at(12, 9)):
        client = world.nurse.client()
        client.get(HOME)  # warm the session and the banner's cache
        # Session, user, employments, the navigation, the unread news, whether the tour is
        # still to show (R23), the session's save (savepoint, update, release); the banner's
        # notices come from the process's cache.
        with assert_num_queries(9):
            content = client.get(HOME).content.decode()
    assert "Nyhet ett" in content
    assert "Nyhet två" in content


# The notices page and the feed


def test_the_notices_page_lists_current_and_recent_notices(world, sysadmin):
    publish(
        sysadmin.user,
        title="Gammal störning",
        starts_at=at(1, 9, month=1),
        ends_at=at(1, 10, month=1),
    )
    publish(sysadmin.user, title="Färsk störning")
    with time_machine.travel(at(20, 9, month=4)):
        content = world.nurse.client().get(NOTICES).content.decode()
    assert "Färsk störning" in content
    assert "Gammal störning" not in content


def test_the_feed_is_atom_with_exactly_the_notices_of_the_last_90_days(sysadmin):
    publish(
        sysadmin.user,
        title="Gammal störning",
        starts_at=at(1, 9, month=1),
        ends_at=at(1, 10, month=1),
    )
    recent = publish(sysadmin.user, title="Färsk störning")
    news = publish(
        sysadmin.user, kind=Notice.Kind.NEWS, title="Ny funktion", starts_at=at(2, 8), ends_at=None
    )
    with time_machine.travel(at(20, 9, month=4)):
        response = Client().get(FEED)  # feed readers do not sign in
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own response, not untrusted)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    titles = [entry.findtext(f"{ATOM}title") or "" for entry in entries]
    assert sorted(titles) == ["Driftstörning: Färsk störning", "Nyhet: Ny funktion"]
    by_title = {entry.findtext(f"{ATOM}title"): entry for entry in entries}
    summary = by_title["Driftstörning: Färsk störning"].findtext(f"{ATOM}summary") or ""
    assert "2027-03-10 14:05–16:00" in summary
    assert recent.text in summary
    category = by_title["Nyhet: Ny funktion"].find(f"{ATOM}category")
    assert category is not None
    assert category.get("term") == news.kind
    # Nothing but the notices: nobody's name.
    assert sysadmin.user.username.encode() not in response.content
    assert b"<author>" not in response.content


def test_the_feed_is_reachable_signed_in_before_the_agreement(world, sysadmin):
    publish(sysadmin.user)
    client = world.nurse.client()
    session = client.session
    session.pop("agreement_version", None)
    session.save()
    assert client.get(FEED).status_code == 200


def test_a_new_notice_posted_twice_is_published_once(sysadmin):
    client = sysadmin.client()
    token = str(uuid.uuid4())
    for _ in range(2):
        response = client.post(NEW, form(client_token=token))
        assert response.status_code == 302
    assert Notice.objects.count() == 1


def test_a_new_notice_without_its_token_says_to_reload(sysadmin):
    data = form()
    del data["client_token"]
    response = sysadmin.client().post(NEW, data)
    assert response.status_code == 400
    assert "Ladda om sidan och försök igen" in response.content.decode()
    assert not Notice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_notice_published_twice_at_once_is_saved_once(sysadmin):
    token = uuid.uuid4()
    published, errors = at_once(lambda: publish(sysadmin.user, client_token=token))
    assert errors == []
    assert len({notice.pk for notice in published}) == 1
    assert Notice.objects.count() == 1
