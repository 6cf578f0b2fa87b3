"""Who may open what: every URL pattern of the project × every demo persona, in one table.

The personas are `seed_demo`'s people, signed in one at a time, and an anonymous visitor:

    anna     nurse, Karlstads kommun: Karlstad's functional mailbox (send) and her own mailbox
    bo       nurse, Vårdcentralen Gripen: Gripen's functional mailbox (send) and his own
    cecilia  doctor, Vårdcentralen Gripen: her own mailbox only
    david    nurse, Arvika kommun: Arvika's functional mailbox and his own, nothing of Karlstad's
    eva      access approver, Karlstads kommun: no mailbox
    fredrik  log reviewer, Vårdcentralen Gripen: no mailbox
    gustav   statistics reader, Karlstads kommun: no mailbox
    admin    system administrator (is_superuser), Region Värmland: no mailbox
    anonymous  nobody signed in

`seed_demo` runs once for the module, and each persona signs in once, in a transaction rolled
back when the module is done; each test runs in a savepoint of its own, so a POST that empties a
trash, closes a mailbox or signs out changes nothing for the next one.

How a row reads
---------------
`MATRIX` is keyed by the pattern's name, `namespace:name` (a pattern without a name would be
keyed by its whole route). Each row says:

- the method: `get(...)` for every view that answers GET; `post(...)` for a view that takes
  POST only (a GET there is 405 for everyone signed in, which tells nothing about who may).
  POSTs go through Django's test client, which does not check the CSRF token: what is tested
  here is who may, not the token (tests/test_http_security.py tests that). The POST data is the
  least the view needs to get past its own reading of the form, or none: an authorised persona
  may well get a 400 for an empty form, an outsider gets the 404 before the form is read.
- the expected outcome per persona, written `expect(default, name=exception, ...)`: `default`
  for every signed-in persona not named, and `LOGIN` for the anonymous visitor unless named.
  An outcome is an HTTP status, or `LOGIN`: a 302 to the app's sign-in page. A plain 302 is a
  redirect anywhere else, so a signed-in persona bounced to the sign-in page fails a 302 row.
  Shorthands: `EVERYONE` (200 for all signed in), `ADMIN_ONLY` (404 but for the admin's 200).
- the path parameters, each a literal or `S.<attribute>`: that attribute of `Seed` below (a
  model's primary key), e.g. `pk=S.karlstad_fbl` is the pk of Karlstad's functional mailbox.

The outcomes follow the rules, not the code: outsiders get 404 and learn nothing; the anonymous
visitor is sent to sign in; system-administration pages are 404 for everyone but the system
administrator.

Adding a URL
------------
A new URL pattern makes `test_every_url_pattern_has_a_row` fail with its name and route: add a
row, e.g. for a page only Karlstad's approvers may open with a Karlstad mailbox in its path:

    "mailboxes:my_new_page": get(expect(404, eva=200), pk=S.karlstad_fbl),

If it needs data `seed_demo` does not make, make it in `seed()` below and add it to `Seed`.
A row whose pattern is gone makes `test_every_row_names_a_url_pattern` fail.
"""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from accounts.models import Employment, Organisation, User
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import AccessGrant, AccessRequest, AddressListEntry, Mailbox
from mailboxes.services import access_request_create
from messenger.models import Category, FaultReport, LogReview, LogReviewItem, Notice, Thread

ANONYMOUS: Final = "anonymous"
SIGNED_IN: Final = ("anna", "bo", "cecilia", "david", "eva", "fredrik", "gustav", "admin")
PERSONAS: Final = (*SIGNED_IN, ANONYMOUS)

LOGIN: Final = "302 to sign-in"
Outcome = int | str


# The data the rows' path parameters point into, from seed_demo plus the little it lacks.


@dataclass(frozen=True)
class Seed:
    karlstad: Organisation  # Karlstads kommun
    karlstad_fbl: Mailbox  # Karlstad's functional mailbox: Anna sends from it
    anna_mailbox: Mailbox  # Anna's personal mailbox
    # "Dosering av Waran": Anna's question from Karlstad's mailbox to Gripen's (Bo's).
    karlstad_thread: Thread
    anna_grant: AccessGrant  # Anna's grant to Karlstad's functional mailbox
    anna_job: Employment  # Anna's employment at Karlstad
    anna: User  # Anna herself
    anna_request: AccessRequest  # Anna's pending request to manage Karlstad's mailbox
    category: Category  # the first category
    karlstad_list_entry: AddressListEntry  # the first mailbox on Karlstad's preset list
    # An open review of Gripen's access log by Fredrik, Gripen's log reviewer, and its one row.
    gripen_log_review: LogReview
    gripen_log_review_item: LogReviewItem
    notice: Notice  # a news notice by the system administrator (R20)
    # Anna's fault report, escalated by Karlstad's superusers to the region (R22).
    anna_fault_report: FaultReport


def seed() -> Seed:
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=io.StringIO())
    anna = User.objects.get(username="anna")
    karlstad_fbl = Mailbox.objects.get(name="Karlstads kommun Hälso- och sjukvård (FBL)")
    anna_job = anna.employments.get()
    fredrik = User.objects.get(username="fredrik")
    gripen = fredrik.employments.get().organisation
    today = timezone.localdate()
    gripen_log_review = LogReview.objects.create(
        organisation=gripen,
        started_by=fredrik,
        kind=LogReview.Kind.RANDOM,
        period_start=today,
        period_end=today,
        sample_size=1,
    )
    entry = access_log(
        action=AccessLog.Action.VIEW_THREAD,
        user=User.objects.get(username="bo"),
        organisation_name=gripen.name,
        mailbox_organisation_name=gripen.name,
    )
    return Seed(
        karlstad=anna_job.organisation,
        karlstad_fbl=karlstad_fbl,
        anna_mailbox=Mailbox.objects.get(owner=anna),
        karlstad_thread=Thread.objects.get(subject="Dosering av Waran"),
        anna_grant=AccessGrant.objects.current().get(user=anna, mailbox=karlstad_fbl),
        anna_job=anna_job,
        anna=anna,
        anna_request=access_request_create(
            applicant=anna,
            requested_by=anna,
            requested_by_employment=anna_job,
            mailbox=karlstad_fbl,
            level=AccessGrant.Level.MANAGE,
            justification="Jag ska sköta brevlådans rutin under hösten.",
        ),
        category=Category.objects.all()[0],
        karlstad_list_entry=AddressListEntry.objects.filter(
            address_list__organisation=anna_job.organisation
        )[0],
        gripen_log_review=gripen_log_review,
        gripen_log_review_item=LogReviewItem.objects.create(
            review=gripen_log_review, entry_id=entry.pk, at=entry.at, text="Bo läste"
        ),
        notice=Notice.objects.create(
            title="Nytt i Funktionsbrevlådan",
            text="Driftmeddelanden visas nu på startsidan.",
            kind=Notice.Kind.NEWS,
            starts_at=timezone.now(),
            created_by=User.objects.get(username="admin"),
        ),
        anna_fault_report=FaultReport.objects.create(
            reporter=anna,
            organisation=anna_job.organisation,
            mailbox=karlstad_fbl,
            what_happened="Inkorgen laddar inte.",
            status=FaultReport.Status.ESCALATED,
            escalated_at=timezone.now(),
        ),
    )


class _SeedRef:
    """`S.karlstad_fbl` in a row: Seed's attribute of that name, when the test runs."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __repr__(self) -> str:
        return f"S.{self.attribute}"


class _Seeds:
    def __getattr__(self, attribute: str) -> _SeedRef:
        if attribute not in Seed.__dataclass_fields__:
            raise AttributeError(f"Seed has no {attribute!r}")
        return _SeedRef(attribute)


S = _Seeds()


def _resolve(value: Any, data: Seed) -> Any:
    if isinstance(value, _SeedRef):
        value = getattr(data, value.attribute)
    return value.pk if isinstance(value, models.Model) else value


# How a row is written.


@dataclass(frozen=True)
class Row:
    expect: dict[str, Outcome]
    method: str
    params: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


def expect(default: Outcome, /, **exceptions: Outcome) -> dict[str, Outcome]:
    """`default` for each signed-in persona, LOGIN for the anonymous visitor, unless named."""
    unknown = set(exceptions) - set(PERSONAS)
    if unknown:
        raise ValueError(f"no such persona: {', '.join(sorted(unknown))}")
    return dict.fromkeys(SIGNED_IN, default) | {ANONYMOUS: LOGIN} | exceptions


def get(outcomes: dict[str, Outcome], **params: Any) -> Row:
    return Row(outcomes, "GET", params)


def post(
    outcomes: dict[str, Outcome],
    *,
    data: dict[str, Any] | None = None,
    **params: Any,
) -> Row:
    return Row(outcomes, "POST", params, data or {})


EVERYONE = expect(200)  # every signed-in persona; the anonymous visitor signs in first
ADMIN_ONLY = expect(404, admin=200)  # system administration


# THE TABLE.

MATRIX: dict[str, Row] = {
    # Single sign-on (R25): not configured in the tests, so not there for anyone
    # (tests/accounts/test_sso.py tests it with a real provider).
    "accounts:sso_start": get(expect(404, anonymous=404)),
    "accounts:sso_callback": get(expect(404, anonymous=404)),
    "accounts:sso_refused": get(expect(404, anonymous=404)),
    # The second step of a password sign-in: with no password step pending, back to sign in.
    "accounts:two_factor": get(expect(LOGIN)),
    "accounts:two_factor_setup": get(expect(LOGIN)),
    # Inloggning och säkerhet: every password account's own (the demo people all have one).
    "accounts:security": get(EVERYONE),
    "accounts:password_change": post(expect(400)),  # an empty form: the door is open
    "accounts:authenticator": get(EVERYONE),
    "accounts:recovery_codes": post(expect(400)),
    # The system administrator's pages for people and their second factor.
    "accounts_admin:two_factor_reset_search": get(ADMIN_ONLY),
    "accounts_admin:two_factor_reset": get(ADMIN_ONLY, user_id=S.anna),
    "people:people": get(ADMIN_ONLY),
    "people:person_new": get(ADMIN_ONLY),
    "people:person": get(ADMIN_ONLY, pk=S.anna),
    "people:employment_end": get(ADMIN_ONLY, pk=S.anna_job),
    # Start page and the navigation's poll.
    "messenger:home": get(EVERYONE),
    "messenger:nav": get(EVERYONE),
    # A functional mailbox's pages: only those with a grant to it.
    "messenger:mailbox": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:search": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:waiting": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:reserve_print": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:empty_trash": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:compose": get(expect(404, anna=200), pk=S.karlstad_fbl),
    "messenger:recipients": get(expect(404, anna=200), pk=S.karlstad_fbl),
    # Out-of-office is set on one's own personal mailbox (R13).
    "messenger:absence": post(expect(404, anna=302), pk=S.anna_mailbox),
    # A thread, through Karlstad's mailbox: Bo holds the same thread in Gripen's mailbox, but
    # not through Karlstad's.
    "messenger:thread": get(
        expect(404, anna=200), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:reply": post(
        expect(404, anna=400), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:attach_link": post(
        expect(404, anna=400), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:follow_up": post(
        expect(404, anna=400), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:move": post(
        expect(404, anna=302), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:mark_unread": post(
        expect(404, anna=302), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:forward": get(
        expect(404, anna=200), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    "messenger:print": get(
        expect(404, anna=200), mailbox_pk=S.karlstad_fbl, thread_pk=S.karlstad_thread
    ),
    # Help and e-learning (R23): everyone's; the self-test list for the working organisation's
    # superusers (the admin is one, of Region Värmland's administration); the accessibility
    # statement public.
    "messenger:help": get(EVERYONE),
    "messenger:help_guide": get(EVERYONE, slug="skriva"),
    "messenger:self_test": get(EVERYONE),
    "messenger:self_test_staff": get(expect(404, admin=200)),
    "messenger:tour_done": post(expect(302)),
    "messenger:accessibility": get(expect(200, anonymous=200)),
    # Operations, categories and legal hold: system administration.
    "messenger:operations": get(ADMIN_ONLY),
    # Statistics (R19): the statistics reader's organisation, the administrator's region.
    "messenger:statistics": get(expect(404, gustav=200, admin=200)),
    "messenger:log_control": get(expect(404, fredrik=200)),
    "messenger:log_extract": get(expect(404, fredrik=200)),
    # The systematic review of the log: Gripen's log reviewer, and only for Gripen's reviews.
    "messenger:log_reviews": get(expect(404, fredrik=200)),
    "messenger:log_review": get(expect(404, fredrik=200), pk=S.gripen_log_review),
    "messenger:log_review_mark": post(  # an empty form: the door is open
        expect(404, fredrik=400), pk=S.gripen_log_review, item_pk=S.gripen_log_review_item
    ),
    "messenger:log_review_close": post(expect(404, fredrik=302), pk=S.gripen_log_review),
    "messenger:outbox_retry": post(expect(404, admin=302)),
    "messenger:admin_categories": get(ADMIN_ONLY),
    "messenger:admin_category_new": get(ADMIN_ONLY),
    "messenger:admin_category": get(ADMIN_ONLY, pk=S.category),
    "messenger:legal_holds": get(ADMIN_ONLY),
    # Fault reports (R22): everyone files their own. No demo persona is a superuser, so the
    # queue is the system administrator's (escalated reports), and Anna's escalated report is
    # hers and the administrator's. Escalating is for the organisation's superusers: the
    # administrator, past the door, is refused with a message (tests/messenger/test_support.py).
    "messenger:support": get(EVERYONE),
    "messenger:support_queue": get(ADMIN_ONLY),
    "messenger:support_report": get(expect(404, anna=200, admin=200), pk=S.anna_fault_report),
    "messenger:support_answer": post(expect(404, admin=302), pk=S.anna_fault_report),
    "messenger:support_close": post(expect(404, admin=302), pk=S.anna_fault_report),
    "messenger:support_escalate": post(expect(404, admin=302), pk=S.anna_fault_report),
    "messenger:legal_hold_release": post(expect(404, admin=302), thread_pk=S.karlstad_thread),
    # Notices about the system (R20): administration for the admin; reading for everyone
    # signed in; the Atom feed public, for feed readers that cannot sign in.
    "messenger:admin_notices": get(ADMIN_ONLY),
    "messenger:admin_notice_new": get(ADMIN_ONLY),
    "messenger:admin_notice": get(ADMIN_ONLY, pk=S.notice),
    "messenger:admin_notice_end": post(expect(404, admin=302), pk=S.notice),
    "messenger:notices": get(EVERYONE),
    "messenger:reserve_routines": get(EVERYONE),
    "messenger:notice_read": post(expect(302), pk=S.notice),
    "messenger:notice_feed": get(expect(200, anonymous=200)),
    # Signing in and out, the working organisation, the agreement.
    "accounts:login": get(expect(302, anonymous=200)),
    "accounts:logout": post(expect(LOGIN)),
    # The idle warning's "Fortsätt arbeta": counts as activity, shows nothing.
    "accounts:keep_alive": post(expect(204)),
    # Only those employed by Karlstad may work for Karlstad.
    "accounts:switch_organisation": post(
        expect(404, anna=302, eva=302, gustav=302), data={"organisation": S.karlstad}
    ),
    # Everyone here has accepted it already: on to the start page.
    "accounts:agreement": get(expect(302)),
    # Roles: the system administrator, and an organisation's superusers (none in the demo).
    "accounts:roles_index": get(ADMIN_ONLY),
    "accounts:roles": get(ADMIN_ONLY, organisation_id=S.karlstad),
    "accounts:employment_roles": get(ADMIN_ONLY, employment_id=S.anna_job),
    # Notices and e-mail choices: everyone's own.
    "mailboxes:notifications": get(EVERYONE),
    "mailboxes:email_settings": get(EVERYONE),
    # Access (R17): one's own grants and requests; decisions and review for the approver of
    # the mailbox's organisation.
    "mailboxes:my_access": get(EVERYONE),
    "mailboxes:request_create": get(EVERYONE),
    "mailboxes:grant_give_up": get(expect(404, anna=200), pk=S.anna_grant),
    "mailboxes:approvals": get(expect(404, eva=200)),
    "mailboxes:request_decide": get(expect(404, eva=200), pk=S.anna_request),
    "mailboxes:grant_review": get(expect(404, eva=200)),
    "mailboxes:grant_end": get(expect(404, eva=200), pk=S.anna_grant),
    # Mailbox administration (R3, R14, R24): system administration; the local routine also for
    # the mailbox organisation's superusers (none in the demo).
    "mailboxes:admin_mailboxes": get(ADMIN_ONLY),
    "mailboxes:admin_mailbox_new": get(ADMIN_ONLY),
    "mailboxes:admin_mailbox": get(ADMIN_ONLY, pk=S.karlstad_fbl),
    "mailboxes:admin_routine": get(ADMIN_ONLY, pk=S.karlstad_fbl),
    "mailboxes:admin_mailbox_close": get(ADMIN_ONLY, pk=S.karlstad_fbl),
    "mailboxes:admin_address_lists": get(ADMIN_ONLY),
    "mailboxes:admin_address_list": get(ADMIN_ONLY, organisation_id=S.karlstad),
    "mailboxes:admin_address_list_remove": post(
        expect(404, admin=302), organisation_id=S.karlstad, pk=S.karlstad_list_entry
    ),
    # The language switch: for everyone, signed in or not (a GET changes nothing but answers).
    "set_language": get(expect(302, anonymous=302)),
}


# The URL patterns as Django sees them.


@dataclass(frozen=True)
class Pattern:
    key: str  # the view name, or namespace and route for a pattern without a name
    route: str  # the whole route, the includes' prefixes joined
    named: bool


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[Pattern]:
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            key = ":".join((*namespaces, pattern.name or route))
            yield Pattern(key, route, named=pattern.name is not None)


PATTERNS = {p.key: p for p in url_patterns()}


def test_every_url_pattern_has_a_row():
    missing = [f"{p.key}  (/{p.route})" for p in PATTERNS.values() if p.key not in MATRIX]
    assert not missing, (
        "URL patterns without a row in tests/test_authorization_matrix.py's MATRIX; add one "
        "saying what each persona gets:\n  " + "\n  ".join(missing)
    )


def test_every_row_names_a_url_pattern():
    gone = sorted(set(MATRIX) - set(PATTERNS))
    assert not gone, f"MATRIX rows for URL patterns that no longer exist: {', '.join(gone)}"


def test_no_two_patterns_share_a_key():
    keys = [p.key for p in url_patterns()]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert not twice, f"URL patterns sharing a name, so one row cannot tell them apart: {twice}"


def test_every_row_gives_every_persona_an_outcome():
    incomplete = {name: set(PERSONAS) - set(row.expect) for name, row in MATRIX.items()}
    assert not {name: left for name, left in incomplete.items() if left}


# The matrix itself.


@dataclass(frozen=True)
class Seeded:
    data: Seed
    sessions: dict[str, str]  # each signed-in persona's session key
    # One client for every test: a new one would load the middleware again, WhiteNoise's scan
    # of the static files included, which is most of a test's time.
    browser: Client = field(default_factory=Client)

    def client(self, persona: str) -> Client:
        self.browser.cookies = SimpleCookie()
        if persona != ANONYMOUS:
            self.browser.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
        return self.browser


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[Seeded]:
    """seed_demo and a session for each persona, once for the whole module, rolled back at its
    end; each test's own changes (a logout included) are rolled back to a savepoint by `db`."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = seed()
        sessions = {}
        for persona in SIGNED_IN:
            client = Client()
            client.force_login(User.objects.get(username=persona))
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield Seeded(data, sessions)
        transaction.set_rollback(True)


def _path(name: str, row: Row, data: Seed) -> str:
    params = {key: _resolve(value, data) for key, value in row.params.items()}
    pattern = PATTERNS[name]
    if pattern.named:
        return reverse(name, kwargs=params)
    # A pattern without a name: fill its route in, and make sure it resolves to that pattern.
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m[1]]), pattern.route)
    path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(params[m[1]]), path).rstrip("$")
    assert resolve(path).route == pattern.route, f"{path} does not resolve to {name}"
    return path


def _send(seeded: Seeded, name: str, persona: str, method: str) -> tuple[str, Outcome]:
    row = MATRIX[name]
    path = _path(name, row, seeded.data)
    client = seeded.client(persona)
    if method == "POST":
        data = {key: _resolve(value, seeded.data) for key, value in row.data.items()}
        response = client.post(path, data)
    else:
        response = client.get(path)
    if response.status_code == 302 and urlsplit(response["Location"]).path == reverse(
        "accounts:login"
    ):
        return path, LOGIN
    return path, response.status_code


CASES = [
    pytest.param(name, persona, id=f"{name}|{persona}") for name in MATRIX for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_persona_gets_what_the_rules_say(seeded, db, name, persona):
    row = MATRIX[name]
    path, outcome = _send(seeded, name, persona, row.method)
    expected = row.expect[persona]
    assert outcome == expected, f"{row.method} {path} as {persona}: got {outcome}"


def _allowed_to_post(row: Row) -> str:
    """The first signed-in persona the row lets past its door."""
    return next(p for p in SIGNED_IN if row.expect[p] != 404)


POST_ONLY = [
    pytest.param(name, _allowed_to_post(row), id=name)
    for name, row in MATRIX.items()
    if row.method == "POST"
]


@pytest.mark.parametrize(("name", "persona"), POST_ONLY)
def test_a_post_only_view_refuses_get(seeded, db, name, persona):
    # Its rows test POST alone; a GET that did the work would skip the CSRF check.
    _path, outcome = _send(seeded, name, persona, "GET")
    assert outcome == 405
