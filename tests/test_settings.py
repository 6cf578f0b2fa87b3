"""Start-up configuration: a bad variable stops the app and names itself; production is hardened."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

SETUP = "import django; django.setup(); print('started')"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests' async switch must not leak into a deployment check.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "messenger.settings",
        # The already running test servers, so no new embedded server is started.
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        **env,
    }
    return subprocess.run(  # noqa: S603  (our own interpreter, fixed code)
        [sys.executable, "-c", code],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "kanske"),
        ("APP_ENV", "staging"),
        ("DATABASE_URL", "mysql://db/x"),
        ("DATABASE_URL", "postgresql://localhost"),
        ("REDIS_URL", "http://redis"),
        ("SESSION_IDLE_MINUTES", "trettio"),
        ("SESSION_IDLE_MINUTES", "0"),
        ("LOG_LEVEL", "pratsam"),
        ("TRUSTED_PROXIES", "10.0.0.300"),
        ("TRUSTED_PROXIES", "10.1.2.3/16"),
        ("LOGIN_LOCK_MINUTES", "15"),
        ("AUDIT_RETENTION_YEARS", "4"),  # the law asks at least five
        ("AUDIT_RETENTION_YEARS", "fem"),
    ],
)
def test_a_malformed_variable_stops_start_up_and_is_named(variable, value):
    result = run_python(SETUP, **{variable: value})
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert variable in result.stderr.splitlines()[-1]


def test_manage_py_names_the_bad_variable_in_one_line():
    result = run_python(
        "import sys; sys.argv = ['manage.py', 'check']; "
        "import runpy; runpy.run_path('manage.py', run_name='__main__')",
        SESSION_IDLE_MINUTES="abc",
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Konfigurationsfel: SESSION_IDLE_MINUTES must be a whole number, not 'abc'"
    ]


def test_a_lower_case_log_level_is_understood():
    result = run_python(
        SETUP + "; from django.conf import settings; print(settings.LOG_LEVEL)", LOG_LEVEL="warning"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["started", "WARNING"]


def test_production_demands_its_secret(tmp_path):
    result = run_python(
        SETUP, APP_ENV="production", ALLOWED_HOSTS="fbl.example.se", VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_the_deploy_check(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(50))
    result = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        APP_ENV="production",
        SECRET_KEY_FILE=str(secret),
        ALLOWED_HOSTS="fbl.example.se",
        EMAIL_HOST="smtp.example.se",
        SITE_URL="https://fbl.example.se",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_needs_a_mail_server_and_the_sites_address(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(50))
    production = {
        "APP_ENV": "production",
        "SECRET_KEY_FILE": str(secret),
        "ALLOWED_HOSTS": "fbl.example.se",
        "VAR_DIR": str(tmp_path),
    }
    without_mail = run_python(SETUP, **production, SITE_URL="https://fbl.example.se")
    assert without_mail.returncode != 0
    assert "EMAIL_HOST must be set" in without_mail.stderr
    without_site = run_python(SETUP, **production, EMAIL_HOST="smtp.example.se")
    assert without_site.returncode != 0
    assert "SITE_URL must be the app's address" in without_site.stderr
