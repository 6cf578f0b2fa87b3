import re

import pytest
from django.urls import reverse

from tests.helpers import send
from tests.testdata import PATIENTS


def assert_security_headers(response):
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_anonymous_pages_carry_the_security_headers(db, client):
    response = client.get(reverse("accounts:login"))
    assert_security_headers(response)


@pytest.fixture
def pages(world, categories):
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    return [
        reverse("messenger:home"),
        reverse("messenger:mailbox", args=[world.gripen_fbl.pk]),
    ]


def test_the_navigation_poll_is_kept_by_this_browser_only_and_always_revalidated(world, pages):
    # No patient data in it; kept so the browser can ask "changed?" (see test_nav_poll.py).
    response = world.hc_nurse.client().get(reverse("messenger:nav"))
    assert_security_headers(response)
    assert "no-store" not in response["Cache-Control"]
    assert "no-cache" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_authenticated_pages_are_never_cached(world, pages):
    client = world.hc_nurse.client()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)
        assert "no-store" in response["Cache-Control"], url


def test_unknown_url_gets_a_swedish_404_without_a_trace(client, world):
    client = world.nurse.client()
    response = client.get("/finns/inte/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Sidan finns inte" in body
    assert "Traceback" not in body
    assert_security_headers(response)


@pytest.mark.django_db
def test_a_foreign_host_header_gets_a_swedish_400_not_a_500(client):
    # Scanners send these all day; the request is refused before anyone is signed in.
    response = client.get(reverse("accounts:login"), headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "Felaktig begäran" in response.content.decode()
    assert_security_headers(response)


def test_a_post_without_csrf_token_is_refused_in_swedish(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.nurse.user)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 403
    assert "Formuläret hade gått ut" in response.content.decode()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_page_needs_inline_script_or_style(world, categories):
    """A strict CSP blocks inline code: none of our pages may rely on it."""
    thread = send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    client = world.hc_nurse.client()
    urls = [
        reverse("messenger:home"),
        reverse("messenger:mailbox", args=[world.gripen_fbl.pk]),
        reverse("messenger:compose", args=[world.gripen_fbl.pk]),
        reverse("messenger:search", args=[world.gripen_fbl.pk]),
        reverse("messenger:thread", args=[world.gripen_fbl.pk, thread.pk]),
        reverse("messenger:forward", args=[world.gripen_fbl.pk, thread.pk]),
        reverse("messenger:print", args=[world.gripen_fbl.pk, thread.pk]),
        reverse("mailboxes:my_access"),
        "/finns/inte/",
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert 'src="/static/' in body or "utskrift" in url, url
        for pattern, what in INLINE:
            assert not pattern.search(body), f"{what} on {url}"
