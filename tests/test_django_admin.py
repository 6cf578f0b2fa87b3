"""Django's admin had its own sign-in, with no throttle and no second factor: it is gone."""

import secrets

from django.conf import settings

from tests.test_settings import run_python


def test_the_django_admin_login_is_not_there(client, sysadmin):
    for path in ("/forvaltning/django/login/", "/forvaltning/django/"):
        response = client.get(path)
        assert response.status_code == 404
        assert 'type="password"' not in response.content.decode()
    # Not for a system administrator either: the app's own pages administer it.
    assert sysadmin.client().get("/forvaltning/django/").status_code == 404


def test_no_admin_app_is_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS


def test_production_has_no_django_admin_login(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(50))
    result = run_python(
        "import django; django.setup(); from django.urls import Resolver404, resolve\n"
        "try:\n    resolve('/forvaltning/django/login/')\nexcept Resolver404:\n"
        "    print('no admin')\nelse:\n    print('admin login answers')",
        APP_ENV="production",
        SECRET_KEY_FILE=str(secret),
        ALLOWED_HOSTS="fbl.example.se",
        EMAIL_HOST="smtp.example.se",
        SITE_URL="https://fbl.example.se",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no admin"
