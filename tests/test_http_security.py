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


def test_anonymous_pages_carry_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert_security_headers(response)


@pytest.fixture
def pages(world, categories):
    send(world.nurse, world.gripen_fbl, categories["Recept"], patient_id=PATIENTS[0])
    return [
        reverse("messenger:home"),
        reverse("messenger:nav"),
        reverse("messenger:mailbox", args=[world.gripen_fbl.pk]),
    ]


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


def test_a_post_without_csrf_token_is_refused_in_swedish(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.nurse.user)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 403
    assert "Formuläret hade gått ut" in response.content.decode()


def test_the_page_loads_htmx_from_our_own_origin_and_no_inline_script(world):
    body = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert '<script src="/static/django-htmx/' in body or 'src="/static/' in body
    assert "<script>" not in body
    assert "hx-on" not in body
