"""Every page that shows patient data writes exactly one access-log row (R18, issue 10 item 8).

Patientdatalagen's log control is only as good as its coverage: a page that shows a thread, a
message or a personnummer without a row is a read nobody can ever find. So every URL pattern of
the project is in `COVERAGE` below, classified one of two ways:

- `shows(...)`: the page shows patient data. Each `Visit` signs in a persona with a grant,
  makes the request that shows the data, and says what the response must contain (the patient's
  full number, a message's text) and which access-log rows the request must write, in order.
  Exactly one of them is a row of reading (`READS`), with the persona as its user and, where
  the page shows one patient, that patient's number in `patient_id`.
- `shows_none("why")`: the page shows no thread, message or personnummer, with the reason.
  Its visits, a sample, check that: no patient's full number and no message text in the
  response, and exactly the rows listed (usually none: a page that shows nothing writes no row
  of reading, though a write such as emptying the trash writes its own).

A new URL pattern makes `test_every_url_pattern_is_classified` fail with its name: decide
which it is, and for a page that shows patient data make it write its row.

What counts as patient data here: a thread's page (its messages, its full patient number), a
printout, a search's results (which threads a patient has), and the log control's pages (rows
naming patients in full). A mailbox's lists show subjects with the patient masked as
YYYYMMDD-****: a birth date, not a personnummer, and subjects may hold no personnummer
(`no_patient_number`), so listing a mailbox is not a read of a patient's data; opening a thread
from it is.

Rows are counted by primary key, before and after the request: the log is append-only
(PostgreSQL refuses UPDATE and DELETE), so nothing here deletes or changes a row; everything
is rolled back with the module's transaction.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Final

import pytest
from django.conf import settings
from django.db import models, transaction
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.models import AccessLog
from mailboxes.models import Mailbox
from messenger import demo
from messenger.models import (
    Category,
    FaultReport,
    LogReview,
    LogReviewItem,
    Message,
    Notice,
    Thread,
)
from tests.test_authorization_matrix import Seed, seed, url_patterns
from tests.testdata import PATIENTS

A = AccessLog.Action

# The rows that record a read of patient data; each page that shows some writes one of these.
READS: Final = frozenset(
    {A.VIEW_THREAD, A.PRINT, A.SEARCH, A.LOG_SEARCH, A.LOG_EXTRACT, A.LOG_REVIEW}
)


# The data the visits point into: seed_demo's, as the authorization matrix seeds it.


@dataclass(frozen=True)
class Data:
    base: Seed
    gripen_fbl: Mailbox  # Vårdcentralen Gripen's functional mailbox: Bo sends from it
    # "Dosering av Waran", sent from Karlstad's mailbox (Anna's) to Gripen's (Bo's).
    thread: Thread
    patient: str  # its patient, 12 digits, as the log control shows it
    patient_shown: str  # the same as the thread page shows it: YYYYMMDD-NNNN
    body: str  # a piece of its first message's text
    category: Category  # the thread's category, for a new message
    cecilia: User  # Bo's colleague at Gripen, with a mailbox of her own: one to forward to

    @property
    def karlstad_fbl(self) -> Mailbox:
        return self.base.karlstad_fbl

    @property
    def notice(self) -> Notice:
        return self.base.notice

    @property
    def gripen_log_review(self) -> LogReview:
        return self.base.gripen_log_review

    @property
    def gripen_log_review_item(self) -> LogReviewItem:
        return self.base.gripen_log_review_item

    @property
    def anna_fault_report(self) -> FaultReport:
        return self.base.anna_fault_report


def make_data() -> Data:
    base = seed()
    thread = base.karlstad_thread
    first = Message.objects.filter(thread=thread).order_by("pk")[0]
    assert "INR 3,8" in first.body  # seed_demo's text: the marker below is in it
    return Data(
        base=base,
        gripen_fbl=Mailbox.objects.get(name=demo.health_centre_mailbox_name("Gripen")),
        thread=thread,
        patient=thread.patient_id,
        patient_shown=f"{thread.patient_id[:8]}-{thread.patient_id[8:]}",
        body="INR 3,8",
        category=thread.category,
        cecilia=User.objects.get(username="cecilia"),
    )


class _Ref:
    """`D.gripen_fbl` in a visit: that attribute of `Data` when the test runs."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __repr__(self) -> str:
        return f"D.{self.attribute}"


class _Refs:
    def __getattr__(self, attribute: str) -> _Ref:
        if not hasattr(Data, attribute) and attribute not in Data.__dataclass_fields__:
            raise AttributeError(f"Data has no {attribute!r}")
        return _Ref(attribute)


D = _Refs()


def _resolve(value: Any, data: Data) -> Any:
    if isinstance(value, _Ref):
        value = getattr(data, value.attribute)
    return value.pk if isinstance(value, models.Model) else value


# How an entry is written.


@dataclass(frozen=True)
class Visit:
    persona: str
    method: str = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    contains: tuple[Any, ...] = ()  # texts (or D refs to them) the response must show
    logs: tuple[str, ...] = ()  # the new access-log rows' actions, in the order written
    # The patient (a D ref) the row of reading names; "" for a page of several patients or
    # none. A thread's pages name the thread's patient, always: not written out for each.
    patient: Any = ""
    # A page that shows the full numbers of several patients writes its one kind of row once
    # for each thread it lists, each naming its thread and patient, so that every patient's
    # log extract shows the page.
    each_thread: bool = False
    note: str = ""


@dataclass(frozen=True)
class Entry:
    shows_patient_data: bool
    visits: tuple[Visit, ...]
    reason: str = ""


def shows(*visits: Visit) -> Entry:
    return Entry(True, visits)


def shows_none(reason: str, *visits: Visit) -> Entry:
    return Entry(False, visits, reason)


# Path parameters of the thread pages: the thread through Gripen's mailbox (Bo's), or through
# Karlstad's (Anna's, the asking side).
GRIPEN_THREAD: Final = {"mailbox_pk": D.gripen_fbl, "thread_pk": D.thread}
KARLSTAD_THREAD: Final = {"mailbox_pk": D.karlstad_fbl, "thread_pk": D.thread}
THREAD_SHOWN: Final = (D.patient_shown, D.body)
# A form's one-time token (a form without one is "too old"); each test is rolled back.
TOKEN: Final = "3f2b9a64-5b1e-4c1a-9d8e-2a6c0e7d1f10"
HTMX: Final = {"HX-Request": "true"}


# THE TABLE.

COVERAGE: dict[str, Entry] = {
    # The thread and what renders it: all log VIEW_THREAD (or PRINT) with the thread's patient.
    "messenger:thread": shows(
        Visit("bo", params=GRIPEN_THREAD, contains=THREAD_SHOWN, logs=(A.VIEW_THREAD,)),
        Visit("anna", params=KARLSTAD_THREAD, contains=THREAD_SHOWN, logs=(A.VIEW_THREAD,)),
        Visit(
            "bo",
            params=GRIPEN_THREAD,
            headers={"Sec-Fetch-Site": "cross-site"},
            note="a link from another site: a page asking for a click here, no thread, no row",
        ),
    ),
    "messenger:print": shows(
        Visit("bo", params=GRIPEN_THREAD, contains=THREAD_SHOWN, logs=(A.PRINT,)),
    ),
    # The thread page shown again with the form's errors: a view of the thread like the GET.
    # A reply that goes through writes REPLY and redirects to the thread, which logs its view.
    "messenger:reply": shows(
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            status=400,
            contains=THREAD_SHOWN,
            logs=(A.VIEW_THREAD,),
            note="an empty reply",
        ),
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            data={"body": "Ingen ändring i dosen.", "client_token": TOKEN},
            status=302,
            logs=(A.REPLY,),
            note="a reply sent: its row, and the redirect shows nothing",
        ),
    ),
    "messenger:attach_link": shows(
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            status=400,
            contains=THREAD_SHOWN,
            logs=(A.VIEW_THREAD,),
            note="an empty form",
        ),
        Visit(
            "anna",
            "POST",
            KARLSTAD_THREAD,
            data={
                "kind": "journal_note",
                "title": "Ordination",
                "reference": "ANT-1",
                "client_token": TOKEN,
            },
            status=403,
            contains=THREAD_SHOWN,
            logs=(A.VIEW_THREAD,),
            note="R11: municipal staff may not link; the thread is shown with the refusal",
        ),
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            data={
                "kind": "journal_note",
                "title": "Ordination",
                "reference": "ANT-1",
                "client_token": TOKEN,
            },
            status=302,
            logs=(A.LINK,),
            note="a link attached: its row, and the redirect shows nothing",
        ),
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            data={
                "kind": "journal_note",
                "title": "Ordination",
                "reference": "ANT-2",
                "client_token": TOKEN,
            },
            headers=HTMX,
            contains=THREAD_SHOWN,
            logs=(A.LINK, A.VIEW_THREAD),
            note=(
                "htmx: the link's row, and the thread page it answers with is a view of the "
                "thread, as the redirect's GET is without htmx: the same two rows either way"
            ),
        ),
    ),
    "messenger:follow_up": shows(
        Visit(
            "anna",
            "POST",
            KARLSTAD_THREAD,
            status=400,
            contains=THREAD_SHOWN,
            logs=(A.VIEW_THREAD,),
            note="an empty note, by the asking side",
        ),
        Visit(
            "anna",
            "POST",
            KARLSTAD_THREAD,
            data={"note": "Ringde Bo, dosen är oförändrad."},
            status=302,
            logs=(A.FOLLOW_UP,),
            note="a follow-up saved: its row, and the redirect shows nothing",
        ),
    ),
    # The forward page shows the subject and the masked patient: a view of the thread all the
    # same (it is opened from the thread, for that thread), logged as one.
    "messenger:forward": shows(
        Visit("bo", params=GRIPEN_THREAD, contains=("Dosering av Waran",), logs=(A.VIEW_THREAD,)),
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            data={"comment": "Till dig."},
            status=400,
            contains=("Dosering av Waran",),
            logs=(A.VIEW_THREAD,),
            note="no colleague chosen",
        ),
        Visit(
            "bo",
            "POST",
            GRIPEN_THREAD,
            data={"colleague": D.cecilia, "colleague_told": "on", "client_token": TOKEN},
            status=302,
            logs=(A.FORWARD,),
            note="forwarded: its row, and the redirect shows nothing",
        ),
    ),
    # A search's results tell which threads a patient has (subjects, masked patients).
    "messenger:search": shows(
        Visit(
            "bo",
            "POST",
            {"pk": D.gripen_fbl},
            data={"patient": D.patient_shown},
            contains=("Dosering av Waran",),
            logs=(A.SEARCH,),
            patient=D.patient,
        ),
        Visit(
            "bo",
            "POST",
            {"pk": D.gripen_fbl},
            data={"text": "Waran"},
            headers=HTMX,
            contains=("Dosering av Waran",),
            logs=(A.SEARCH,),
        ),
        Visit("bo", params={"pk": D.gripen_fbl}, note="the empty search form: no row"),
    ),
    # Log control (R18): the organisation's rows, each naming its patient in full.
    "messenger:log_control": shows(
        Visit("fredrik", contains=(D.patient,), logs=(A.LOG_SEARCH,)),
        Visit(
            "fredrik",
            "POST",
            data={"patient": D.patient_shown},
            contains=(D.patient,),
            logs=(A.LOG_SEARCH,),
            patient=D.patient,
        ),
    ),
    # The systematic review of the log: the list names reviews, not patients; one review shows
    # its rows' patients in full, so opening it (or getting it back with a form's errors) is a
    # read of the log. Marking and closing go back to the review by redirect.
    "messenger:statistics": shows_none(
        "counts and times per month, counterpart and category (R19); no patient, subject or text",
        Visit("gustav"),
        Visit("admin", note="the whole region"),
    ),
    "messenger:log_reviews": shows_none(
        "the organisation's reviews: who, when, kind, period, counts and outcome; no patient",
        Visit("fredrik"),
    ),
    "messenger:log_review": shows(
        Visit(
            "fredrik",
            params={"pk": D.gripen_log_review},
            contains=("Bo läste",),
            logs=(A.LOG_REVIEW,),
        ),
    ),
    "messenger:log_review_mark": shows(
        Visit(
            "fredrik",
            "POST",
            params={"pk": D.gripen_log_review, "item_pk": D.gripen_log_review_item},
            status=400,
            contains=("Bo läste",),
            logs=(A.LOG_REVIEW,),
            note="a form with errors: the review again, with its rows",
        ),
    ),
    "messenger:log_review_close": shows_none(
        "closes the review, or says why not, and goes back by redirect",
        Visit("fredrik", "POST", params={"pk": D.gripen_log_review}, status=302),
    ),
    # A patient's log extract: who read the patient's data, on a page naming the patient, or
    # as CSV (which leaves the patient out of the file but is that patient's log all the same).
    "messenger:log_extract": shows(
        Visit(
            "fredrik",
            "POST",
            data={"patient": D.patient_shown},
            contains=(D.patient, "Bo Berg"),
            logs=(A.LOG_EXTRACT,),
            patient=D.patient,
        ),
        Visit(
            "fredrik",
            "POST",
            data={"patient": D.patient_shown, "format": "csv"},
            contains=("Bo Berg",),
            logs=(A.LOG_EXTRACT,),
            patient=D.patient,
        ),
        Visit("fredrik", note="the empty form: no row"),
    ),
    # Pages of a mailbox.
    "messenger:home": shows_none(
        "the mailboxes one has a grant to, with unread counts", Visit("bo")
    ),
    "messenger:help": shows_none("the list of guides", Visit("bo")),
    "messenger:help_guide": shows_none(
        "a guide's fixed text", Visit("bo", params={"slug": "vidarebefordra"})
    ),
    "messenger:self_test": shows_none("five questions on the rules", Visit("bo")),
    "messenger:self_test_staff": shows_none(
        "staff's names and when they did the self-test", Visit("admin")
    ),
    "messenger:tour_done": shows_none(
        "records the tour as seen and redirects", Visit("bo", "POST", status=302)
    ),
    "messenger:accessibility": shows_none("the accessibility statement", Visit("bo")),
    "messenger:nav": shows_none("the navigation's unread counts", Visit("bo")),
    "messenger:mailbox": shows_none(
        "a folder's list: subjects and masked patients (YYYYMMDD-****), no personnummer",
        Visit("bo", params={"pk": D.gripen_fbl}),
        Visit("anna", params={"pk": D.karlstad_fbl}),
    ),
    # The outage printout (R21): every open thread with its full patient number, so a PRINT
    # row for each thread listed, naming it and its patient.
    "messenger:reserve_print": shows(
        Visit(
            "anna",
            params={"pk": D.karlstad_fbl},
            contains=(D.patient_shown, "(R15)"),
            logs=(A.PRINT,),
            each_thread=True,
        ),
    ),
    "messenger:waiting": shows_none(
        "the questions waiting for an answer: subjects and masked patients, as a folder",
        Visit("anna", params={"pk": D.karlstad_fbl}, contains=("Dosering av Waran",)),
    ),
    "messenger:empty_trash": shows_none(
        "how many threads the trash holds; emptying it writes EMPTY_TRASH and redirects",
        Visit("bo", params={"pk": D.gripen_fbl}),
        Visit("bo", "POST", {"pk": D.gripen_fbl}, status=302, logs=(A.EMPTY_TRASH,)),
    ),
    "messenger:absence": shows_none("sets one's own out-of-office and redirects"),
    "messenger:compose": shows_none(
        "a new message's form; shown again with errors it holds only what the user typed, and "
        "a message sent writes SEND and redirects to the thread, which logs its view",
        Visit("anna", params={"pk": D.karlstad_fbl}),
        Visit(
            "anna",
            "POST",
            {"pk": D.karlstad_fbl},
            data={
                "recipient": D.gripen_fbl,
                "category": D.category,
                "subject": "Ny ordination",
                "patient": D.patient_shown,
                "body": "Gäller från i morgon.",
                "client_token": TOKEN,
            },
            status=302,
            logs=(A.SEND,),
            note="sent: its SEND row, and the redirect shows nothing",
        ),
    ),
    "messenger:recipients": shows_none(
        "mailboxes found by name for a new message",
        Visit("anna", params={"pk": D.karlstad_fbl}),
    ),
    "messenger:move": shows_none(
        "moves the thread to a folder and redirects to the mailbox (the notice names the "
        "subject only)",
        Visit("bo", "POST", GRIPEN_THREAD, data={"folder": "archive"}, status=302),
    ),
    "messenger:mark_unread": shows_none(
        "marks the thread unread and redirects to the mailbox",
        Visit("bo", "POST", GRIPEN_THREAD, status=302),
    ),
    # System administration: no grant to any mailbox, and pages without patients.
    "messenger:operations": shows_none(
        "background jobs and failed notices (mailbox names, never patients)", Visit("admin")
    ),
    "messenger:outbox_retry": shows_none("queues failed notices again and redirects"),
    "messenger:admin_categories": shows_none("the category list"),
    "messenger:admin_category_new": shows_none("the category list"),
    "messenger:admin_category": shows_none("the category list"),
    "messenger:legal_holds": shows_none(
        "threads on legal hold by number, mailboxes and reason: neither patient nor subject",
        Visit("admin"),
    ),
    "messenger:legal_hold_release": shows_none("releases a hold by thread number; redirects"),
    # Notices about the system (R20): written by administrators, refused with a personnummer.
    "messenger:admin_notices": shows_none(
        "notices about the system: no patient data (a personnummer is refused)", Visit("admin")
    ),
    "messenger:admin_notice_new": shows_none(
        "a notice's form: no patient data (a personnummer is refused)", Visit("admin")
    ),
    "messenger:admin_notice": shows_none(
        "a notice's form: no patient data (a personnummer is refused)",
        Visit("admin", params={"pk": D.notice}),
    ),
    "messenger:admin_notice_end": shows_none(
        "ends a notice and redirects; notices hold no patient data",
        Visit("admin", "POST", {"pk": D.notice}, status=302, logs=(A.ADMIN,)),
    ),
    "messenger:notices": shows_none(
        "notices about the system: no patient data (a personnummer is refused)", Visit("bo")
    ),
    "messenger:reserve_routines": shows_none(
        "the units' reserve routines (R21): mailbox names and phone numbers only", Visit("bo")
    ),
    "messenger:notice_read": shows_none(
        "marks a news notice read and redirects; notices hold no patient data",
        Visit("bo", "POST", {"pk": D.notice}, status=302),
    ),
    "messenger:notice_feed": shows_none(
        "the public Atom feed of notices: no patient data, no names", Visit("bo")
    ),
    # Fault reports (R22) refuse patient numbers, and name no thread.
    "messenger:support": shows_none(
        "fault reports refuse patient numbers: the form and one's own reports' status",
        Visit("anna"),
    ),
    "messenger:support_queue": shows_none(
        "fault reports refuse patient numbers: a list of reports by number and status",
        Visit("admin"),
    ),
    "messenger:support_report": shows_none(
        "fault reports refuse patient numbers: one report and its answers",
        Visit("anna", params={"pk": D.anna_fault_report}),
        Visit("admin", params={"pk": D.anna_fault_report}),
    ),
    "messenger:support_answer": shows_none(
        "fault reports refuse patient numbers: answers a report; redirects",
        Visit(
            "admin",
            "POST",
            params={"pk": D.anna_fault_report},
            data={"text": "Felet är rättat."},
            status=302,
        ),
    ),
    "messenger:support_close": shows_none(
        "fault reports refuse patient numbers: closes a report; redirects"
    ),
    "messenger:support_escalate": shows_none(
        "fault reports refuse patient numbers: sends a report to the region; redirects"
    ),
    # Signing in, the account and its second factor: people, never patients.
    "accounts:sso_start": shows_none("single sign-on: redirects to the provider"),
    "accounts:sso_callback": shows_none("single sign-on: signs in and redirects"),
    "accounts:sso_refused": shows_none("single sign-on: the refusal"),
    "accounts:login": shows_none("signing in"),
    "accounts:logout": shows_none("signing out"),
    "accounts:two_factor": shows_none("signing in, second step"),
    "accounts:two_factor_setup": shows_none("setting up the second step"),
    "accounts:keep_alive": shows_none("the idle warning's keep-alive: 204"),
    "accounts:switch_organisation": shows_none("the working organisation"),
    "accounts:agreement": shows_none("the confidentiality agreement"),
    "accounts:security": shows_none("one's own sign-in settings", Visit("bo")),
    "accounts:password_change": shows_none("one's own password"),
    "accounts:authenticator": shows_none("one's own authenticator app"),
    "accounts:recovery_codes": shows_none("one's own recovery codes"),
    "accounts:roles_index": shows_none("organisations and their roles"),
    "accounts:roles": shows_none("an organisation's people and their roles"),
    "accounts:employment_roles": shows_none("one employment's roles"),
    "accounts_admin:two_factor_reset_search": shows_none("people, found by name"),
    "accounts_admin:two_factor_reset": shows_none("one person's second factor"),
    "people:people": shows_none("staff (names, HSA ids), never patients", Visit("admin")),
    "people:person_new": shows_none("a new member of staff"),
    "people:person": shows_none("one member of staff and their employments"),
    "people:employment_end": shows_none("ending an employment"),
    # Notices and access (R17): mailboxes and people; notices never hold patient data.
    "mailboxes:notifications": shows_none("one's notices (no patient data, ever)", Visit("bo")),
    "mailboxes:email_settings": shows_none("which mailboxes' events one gets e-mail about"),
    "mailboxes:my_access": shows_none("one's own grants and requests", Visit("anna")),
    "mailboxes:request_create": shows_none("asking for a grant"),
    "mailboxes:grant_give_up": shows_none("giving a grant up"),
    "mailboxes:approvals": shows_none("requests for grants", Visit("eva")),
    "mailboxes:request_decide": shows_none("one request for a grant"),
    "mailboxes:grant_review": shows_none("the organisation's grants", Visit("eva")),
    "mailboxes:grant_end": shows_none("ending a grant"),
    # Mailbox administration (R3, R14, R24).
    "mailboxes:admin_mailboxes": shows_none("functional mailboxes", Visit("admin")),
    "mailboxes:admin_mailbox_new": shows_none("a new functional mailbox"),
    "mailboxes:admin_mailbox": shows_none("a mailbox's settings and grants"),
    "mailboxes:admin_routine": shows_none("a mailbox's local routine"),
    "mailboxes:admin_mailbox_close": shows_none("closing a mailbox"),
    "mailboxes:admin_address_lists": shows_none("preset address lists"),
    "mailboxes:admin_address_list": shows_none("one preset address list"),
    "mailboxes:admin_address_list_remove": shows_none("removes a mailbox from a preset list"),
    "set_language": shows_none("the language switch"),
}


PATTERNS = {p.key: p for p in url_patterns()}


def unclassified(coverage: dict[str, Entry]) -> list[str]:
    """The URL patterns `coverage` leaves out, each by its name and route."""
    return [f"{p.key}  (/{p.route})" for p in PATTERNS.values() if p.key not in coverage]


def test_every_url_pattern_is_classified():
    missing = unclassified(COVERAGE)
    assert not missing, (
        "URL patterns missing from tests/test_access_log_coverage.py's COVERAGE; say whether "
        "each shows patient data (and make it write its access-log row) or not:\n  "
        + "\n  ".join(missing)
    )


def test_a_new_pattern_is_named_until_classified():
    # As a new view would be: the print page, had nobody classified it.
    coverage = {name: entry for name, entry in COVERAGE.items() if name != "messenger:print"}
    assert unclassified(coverage) == [
        "messenger:print  (/brevlador/<int:mailbox_pk>/arenden/<int:thread_pk>/utskrift/)"
    ]


def test_every_entry_names_a_url_pattern():
    gone = sorted(set(COVERAGE) - set(PATTERNS))
    assert not gone, f"COVERAGE entries for URL patterns that no longer exist: {', '.join(gone)}"


def test_every_entry_says_how_or_why():
    for name, entry in COVERAGE.items():
        if entry.shows_patient_data:
            # At least one visit shows the data and writes exactly one row of reading.
            assert any(
                visit.contains and len(READS.intersection(visit.logs)) == 1
                for visit in entry.visits
            ), name
        else:
            assert entry.reason, name
        for visit in entry.visits:
            assert len(READS.intersection(visit.logs)) <= 1, name
            if not entry.shows_patient_data:
                assert not READS.intersection(visit.logs), f"{name} shows none but logs a read"


# The visits.


@dataclass(frozen=True)
class Seeded:
    data: Data
    sessions: dict[str, str]
    users: dict[str, User]
    browser: Client = field(default_factory=Client)  # one client: see the matrix test

    def client(self, persona: str) -> Client:
        self.browser.cookies = SimpleCookie()
        self.browser.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
        return self.browser


PERSONAS: Final = ("anna", "bo", "eva", "fredrik", "gustav", "admin")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[Seeded]:
    """seed_demo and a session for each persona, once for the module, rolled back at its end;
    each test runs in a savepoint of its own (`db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = make_data()
        sessions, users = {}, {}
        for persona in PERSONAS:
            user = User.objects.get(username=persona)
            client = Client()
            client.force_login(user)
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
            users[persona] = user
        seeded = Seeded(data, sessions, users)
        # Bo reads the thread in Gripen's mailbox: a row naming the patient in Gripen's log,
        # for its log control and the patient's extract to show.
        bo = seeded.client("bo")
        path = reverse(
            "messenger:thread", kwargs={k: _resolve(v, data) for k, v in GRIPEN_THREAD.items()}
        )
        assert bo.get(path).status_code == 200
        yield seeded
        transaction.set_rollback(True)


def _newest_pk() -> int:
    return AccessLog.objects.aggregate(newest=Max("pk"))["newest"] or 0


def _visit(seeded: Seeded, name: str, visit: Visit):
    data = seeded.data
    path = reverse(name, kwargs={k: _resolve(v, data) for k, v in visit.params.items()})
    client = seeded.client(visit.persona)
    if visit.method == "POST":
        form = {k: _resolve(v, data) for k, v in visit.data.items()}
        return path, client.post(path, form, headers=visit.headers)
    return path, client.get(path, headers=visit.headers)


def _text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


# Any patient of the tests in full, as the pages write one: 12 digits, or with a hyphen.
FULL_PATIENT = re.compile(
    "|".join(re.escape(p) + "|" + re.escape(f"{p[:8]}-{p[8:]}") for p in PATIENTS)
)


def _cases(shown: bool) -> list[Any]:
    return [
        pytest.param(name, index, id=f"{name}|{index}")
        for name, entry in COVERAGE.items()
        if entry.shows_patient_data is shown
        for index, _visit_ in enumerate(entry.visits)
    ]


@pytest.mark.parametrize(("name", "index"), _cases(True))
def test_a_page_showing_patient_data_writes_its_row(seeded, db, name, index):
    visit = COVERAGE[name].visits[index]
    before = _newest_pk()
    path, response = _visit(seeded, name, visit)
    where = f"{visit.method} {name} as {visit.persona}"
    assert response.status_code == visit.status, f"{where}: {response.status_code}"
    text = _text(response)
    for expected in visit.contains:
        assert str(_resolve(expected, seeded.data)) in text, f"{where} does not show {expected}"
    rows = list(AccessLog.objects.filter(pk__gt=before).order_by("pk"))
    user = seeded.users[visit.persona]
    for row in rows:
        assert row.user_id_snapshot == user.pk, f"{where}: {row} is not {visit.persona}'s"
    if visit.each_thread:
        (action,) = visit.logs
        assert rows, f"{where} wrote nothing"
        assert {row.action for row in rows} == {action}, f"{where} wrote {rows}"
        assert all(row.thread_id_snapshot and row.patient_id for row in rows), where
        shown = {row.patient_id for row in rows}
        on_page = {number.replace("-", "") for number in FULL_PATIENT.findall(text)}
        assert shown == on_page, f"{where} logged {shown}, showed {on_page}"
        return
    assert [row.action for row in rows] == list(visit.logs), f"{where} wrote {rows}"
    reads = [row for row in rows if row.action in READS]
    if reads:
        (read,) = reads
        if "thread_pk" in visit.params:
            assert read.thread_id_snapshot == seeded.data.thread.pk, where
            assert read.patient_id == seeded.data.patient, where
        else:
            assert read.patient_id == _resolve(visit.patient, seeded.data), where
    else:
        # A write that redirects: its row names the thread and patient, the redirect shows none.
        assert not FULL_PATIENT.search(text), f"{where} shows a patient and logs no read"


@pytest.mark.parametrize(("name", "index"), _cases(False))
def test_a_page_showing_no_patient_data_shows_none_and_logs_no_read(seeded, db, name, index):
    visit = COVERAGE[name].visits[index]
    before = _newest_pk()
    path, response = _visit(seeded, name, visit)
    where = f"{visit.method} {name} as {visit.persona}"
    assert response.status_code == visit.status, f"{where}: {response.status_code}"
    text = _text(response)
    for expected in visit.contains:
        assert str(_resolve(expected, seeded.data)) in text, f"{where} does not show {expected}"
    assert not FULL_PATIENT.search(text), f"{where} shows a patient's full number"
    assert seeded.data.body not in text, f"{where} shows a message's text"
    rows = list(AccessLog.objects.filter(pk__gt=before).order_by("pk"))
    assert [row.action for row in rows] == list(visit.logs), f"{where} wrote {rows}"
