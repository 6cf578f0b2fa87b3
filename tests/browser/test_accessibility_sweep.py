"""axe-core over every page each kind of user works in, beyond the messaging story's pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from accounts.models import Organisation, User
from mailboxes.models import AccessGrant, Mailbox
from mailboxes.services import access_request_create
from messenger.models import Category, Delivery, LogReview, LogReviewItem, Notice
from messenger.services import notice_create
from messenger.support import fault_report_create
from tests.browser.helpers import log_in, serious_violations

pytestmark = pytest.mark.browser


def karlstad_fbl() -> Mailbox:
    return Mailbox.objects.get(name="Karlstads kommun Hälso- och sjukvård (FBL)")


def pages_for_anna() -> list[str]:
    anna = User.objects.get(username="anna")
    personal = Mailbox.objects.get(owner=anna)
    delivery = Delivery.objects.filter(mailbox=karlstad_fbl()).first()
    assert delivery is not None, "the demo data has threads in Karlstad's mailbox"
    report = fault_report_create(
        reporter=anna,
        employment=anna.employments.get(),
        what_happened="Inkorgen laddar inte efter lunch.",
        mailbox=karlstad_fbl(),
    )
    # An outage now: its banner, with the link to the reserve routines, is on every page.
    notice_create(
        actor=User.objects.get(username="admin"),
        title="Driftstörning",
        text="Inloggningen är långsam.",
        kind=Notice.Kind.OUTAGE,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=2),
    )
    return [
        reverse("messenger:search", args=[karlstad_fbl().pk]),
        reverse("messenger:mailbox", args=[personal.pk]),  # with the out-of-office form
        reverse("messenger:print", args=[karlstad_fbl().pk, delivery.thread_id]),
        reverse("mailboxes:my_access"),
        reverse("mailboxes:request_create"),
        reverse("messenger:waiting", args=[karlstad_fbl().pk]),
        reverse("mailboxes:notifications"),
        reverse("mailboxes:email_settings"),
        reverse("messenger:help"),
        reverse("messenger:help_guide", args=["vidarebefordra"]),
        reverse("messenger:self_test"),
        reverse("messenger:accessibility"),
        reverse("messenger:notices"),
        reverse("messenger:reserve_routines"),
        reverse("messenger:reserve_print", args=[karlstad_fbl().pk]),
        reverse("messenger:support"),
        reverse("messenger:support_report", args=[report.pk]),
        "/finns-inte/",
    ]


def pages_for_eva() -> list[str]:
    david = User.objects.get(username="david")
    access_request = access_request_create(
        applicant=david,
        requested_by=david,
        requested_by_employment=david.employments.get(),
        mailbox=karlstad_fbl(),
        level=AccessGrant.Level.READ,
        justification="Samverkan över kommungränsen",
    )
    grant = AccessGrant.objects.current().filter(mailbox=karlstad_fbl()).first()
    assert grant is not None
    return [
        reverse("mailboxes:approvals"),
        reverse("mailboxes:request_decide", args=[access_request.pk]),
        reverse("mailboxes:grant_review"),
        reverse("mailboxes:grant_end", args=[grant.pk]),
    ]


def pages_for_admin() -> list[str]:
    mailbox = karlstad_fbl()
    karlstad = Organisation.objects.get(name="Karlstads kommun")
    category = Category.objects.first()
    assert category is not None
    return [
        reverse("mailboxes:admin_mailboxes"),
        reverse("mailboxes:admin_mailbox_new"),
        reverse("messenger:operations"),
        reverse("mailboxes:admin_mailbox", args=[mailbox.pk]),
        reverse("mailboxes:admin_routine", args=[mailbox.pk]),
        reverse("mailboxes:admin_mailbox_close", args=[mailbox.pk]),
        reverse("mailboxes:admin_address_lists"),
        reverse("mailboxes:admin_address_list", args=[karlstad.pk]),
        reverse("accounts:roles_index"),
        reverse("accounts:roles", args=[karlstad.pk]),
        reverse("messenger:admin_categories"),
        reverse("messenger:admin_category_new"),
        reverse("messenger:admin_category", args=[category.pk]),
        reverse("messenger:legal_holds"),
        reverse("messenger:admin_notices"),
        reverse("messenger:admin_notice_new"),
        reverse("messenger:support_queue"),
    ]


def pages_for_gustav() -> list[str]:
    """Statistics (R19), with the figures seed_demo counted."""
    return [reverse("messenger:statistics")]


def pages_for_fredrik() -> list[str]:
    """Log control (R18): the log, an extract's form, the reviews and one review with a row."""
    fredrik = User.objects.get(username="fredrik")
    review = LogReview.objects.create(
        organisation=fredrik.employments.get().organisation,
        started_by=fredrik,
        kind=LogReview.Kind.PERSON,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        person_name="Bo Berg",
    )
    LogReviewItem.objects.create(
        review=review, entry_id=1, at=timezone.now(), text="Bo Berg läste ärende 1"
    )
    return [
        reverse("messenger:log_control"),
        reverse("messenger:log_extract"),
        reverse("messenger:log_reviews"),
        reverse("messenger:log_review", args=[review.pk]),
    ]


@pytest.mark.parametrize(
    ("username", "pages"),
    [
        ("anna", pages_for_anna),
        ("eva", pages_for_eva),
        ("admin", pages_for_admin),
        ("fredrik", pages_for_fredrik),
        ("gustav", pages_for_gustav),
    ],
)
def test_every_page_has_no_serious_accessibility_violations(
    page: Page, demo_site, demo_password, username, pages
):
    log_in(page, demo_site.url, username, demo_password)
    page.wait_for_url(f"{demo_site.url}/")
    found = {}
    for path in pages():
        response = page.goto(f"{demo_site.url}{path}")
        assert response is not None
        assert response.status == (404 if path == "/finns-inte/" else 200), path
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert found == {}
