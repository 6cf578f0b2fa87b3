import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import RecoveryCodeDevice, recovery_code_digest
from audit.models import AccessLog
from tests.helpers import assert_num_queries, totp_code
from tests.test_settings import SETUP, run_python

# After the world fixture was made (its grants start at the real now).
NOW = "2031-03-10 09:30 +01:00"
# A fixed secret for the tests' authenticator app (hex, as django-otp stores it).
KEY = "3132333435363738393031323334353637383930"
WRONG_CODE = "Koden stämmer inte"


@pytest.fixture
def login_url() -> str:
    return reverse("accounts:login")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def nurse_app(world):
    """Anna, the municipal nurse, has set up her authenticator app and got recovery codes."""
    codes = two_factor.totp_device_confirm(
        user=world.nurse.user, key_hex=KEY, code=totp_code(KEY, steps_ahead=-1)
    )
    return codes


def password_step(client: Client, persona, password: str, login_url: str, **extra):
    return client.post(
        login_url, {"username": persona.user.username, "password": password, **extra}
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def failures() -> int:
    return AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).count()


def test_without_an_app_and_with_2fa_off_the_password_signs_in_as_before(
    client, world, demo_password, login_url, settings
):
    settings.REQUIRE_2FA = False
    response = password_step(client, world.nurse, demo_password, login_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("messenger:home")
    assert signed_in(client)


def test_with_an_app_the_password_leads_to_the_code_page_not_into_the_app(
    client, world, demo_password, login_url, clock, nurse_app
):
    response = password_step(client, world.nurse, demo_password, login_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:two_factor")
    assert not signed_in(client)
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN).exists()
    page = client.get(reverse("accounts:two_factor"))
    assert "Ange engångskod" in page.content.decode()


def test_going_straight_to_a_page_while_the_code_is_pending_is_refused(
    client, world, demo_password, login_url, clock, nurse_app
):
    password_step(client, world.nurse, demo_password, login_url)
    for url in (
        reverse("messenger:home"),
        reverse("messenger:mailbox", args=[world.karlstad_fbl.pk]),
        reverse("accounts:security"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert not signed_in(client)


def test_the_right_code_signs_in_logs_it_and_goes_where_the_user_was_going(
    client, world, demo_password, login_url, clock, nurse_app
):
    target = reverse("messenger:mailbox", args=[world.karlstad_fbl.pk])
    password_step(client, world.nurse, demo_password, login_url, next=target)
    clock.shift(timedelta(seconds=40))
    response = client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)})
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.session["_auth_user_id"] == str(world.nurse.user.pk)
    # django-otp knows which device verified the session.
    device = TOTPDevice.objects.get(user=world.nurse.user)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN, user_id_snapshot=world.nurse.user.pk
    ).exists()
    assert client.get(target).status_code == 200


def test_a_wrong_code_is_refused_in_swedish_logged_and_counted_by_the_throttle(
    client, world, demo_password, login_url, clock, nurse_app, settings
):
    settings.LOGIN_MAX_FAILURES = 3
    password_step(client, world.nurse, demo_password, login_url)
    response = client.post(reverse("accounts:two_factor"), {"code": "000000"})
    assert response.status_code == 400
    assert WRONG_CODE in response.content.decode()
    assert not signed_in(client)
    assert AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN_FAILED, user_id_snapshot=world.nurse.user.pk
    ).exists()
    # The password and the wrong code were tries one and two: the third goes on, the fourth waits.
    password_step(Client(), world.nurse, demo_password, login_url)
    delayed = password_step(Client(), world.nurse, demo_password, login_url)
    assert "För många misslyckade inloggningar. Vänta" in delayed.content.decode()


def test_guessing_codes_ends_in_a_wait_that_even_the_right_code_must_sit_out(
    client, world, demo_password, login_url, clock, nurse_app, settings
):
    settings.LOGIN_MAX_FAILURES = 2
    password_step(client, world.nurse, demo_password, login_url)
    clock.shift(timedelta(seconds=5))
    client.post(reverse("accounts:two_factor"), {"code": "000000"})
    clock.shift(timedelta(seconds=5))  # past django-otp's own pause, inside the throttle's wait
    response = client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)}, follow=True)
    assert "För många misslyckade inloggningar. Vänta" in response.content.decode()
    assert not signed_in(client)
    assert failures() == 1  # a try during the wait checks nothing
    clock.shift(timedelta(seconds=settings.LOGIN_DELAY_SECONDS))
    client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)})
    assert signed_in(client)


def test_right_after_a_wrong_code_the_app_pauses_with_a_swedish_message(
    client, world, demo_password, login_url, clock, nurse_app
):
    password_step(client, world.nurse, demo_password, login_url)
    client.post(reverse("accounts:two_factor"), {"code": "000000"})
    response = client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)})
    assert "Vänta en stund och försök igen" in response.content.decode()
    assert not signed_in(client)
    clock.shift(timedelta(seconds=2))
    response = client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)})
    assert signed_in(client)


def test_a_code_is_good_once(client, world, demo_password, login_url, clock, nurse_app):
    code = totp_code(KEY)
    password_step(client, world.nurse, demo_password, login_url)
    client.post(reverse("accounts:two_factor"), {"code": code})
    assert signed_in(client)
    again = Client()
    password_step(again, world.nurse, demo_password, login_url)
    response = again.post(reverse("accounts:two_factor"), {"code": code})
    assert WRONG_CODE in response.content.decode()
    assert not signed_in(again)


def test_a_recovery_code_signs_in_once_only(
    client, world, demo_password, login_url, clock, nurse_app
):
    code = nurse_app[0]
    password_step(client, world.nurse, demo_password, login_url)
    response = client.post(reverse("accounts:two_factor"), {"code": code.upper()}, follow=True)
    assert signed_in(client)
    assert "Du har 9 kvar" in response.content.decode()
    assert StaticToken.objects.filter(device__user=world.nurse.user).count() == 9

    again = Client()
    password_step(again, world.nurse, demo_password, login_url)
    clock.shift(timedelta(seconds=5))
    response = again.post(reverse("accounts:two_factor"), {"code": code})
    assert WRONG_CODE in response.content.decode()
    assert not signed_in(again)


def test_recovery_codes_are_stored_hashed(world, clock, nurse_app):
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & {code.replace("-", "") for code in nurse_app}
    assert not stored & set(nurse_app)
    assert recovery_code_digest(world.nurse.user.pk, nurse_app[3]) in stored
    # The digest is salted with the user: the same code would not open another account.
    assert recovery_code_digest(world.hc_nurse.user.pk, nurse_app[3]) not in stored
    assert RecoveryCodeDevice.objects.get(user=world.nurse.user).verify_token(nurse_app[3])


def test_the_pending_sign_in_expires(
    client, world, demo_password, login_url, clock, nurse_app, settings
):
    settings.TWO_FACTOR_PENDING_SECONDS = 300
    password_step(client, world.nurse, demo_password, login_url)
    clock.shift(timedelta(minutes=5, seconds=30))
    response = client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)}, follow=True)
    assert not signed_in(client)
    assert "Inloggningen tog för lång tid" in response.content.decode()
    assert two_factor.PENDING_KEY not in client.session


def test_the_code_page_without_a_password_first_sends_to_the_login(client, world, nurse_app):
    response = client.post(reverse("accounts:two_factor"), {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert not signed_in(client)


def test_with_2fa_required_a_user_without_an_app_sets_one_up_first(
    client, world, demo_password, login_url, clock, settings
):
    settings.REQUIRE_2FA = True
    response = password_step(client, world.nurse, demo_password, login_url)
    assert response["Location"] == reverse("accounts:two_factor_setup")
    assert not signed_in(client)

    page = client.get(reverse("accounts:two_factor_setup"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body
    assert "<script" not in body.split("</head>")[1]
    assert not TOTPDevice.objects.exists()  # nothing is stored before a code proves the app
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', body)
    assert secret is not None
    key = base64.b32decode(secret.group(1).replace(" ", "")).hex()
    # The same secret on a reload.
    assert secret.group(0) in client.get(reverse("accounts:two_factor_setup")).content.decode()

    wrong = client.post(reverse("accounts:two_factor_setup"), {"code": "000000"})
    assert wrong.status_code == 400
    assert WRONG_CODE in wrong.content.decode()
    assert not TOTPDevice.objects.exists()

    done = client.post(reverse("accounts:two_factor_setup"), {"code": totp_code(key)})
    body = done.content.decode()
    assert signed_in(client)
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", body)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=world.nurse.user).confirmed
    assert AccessLog.objects.filter(
        action=AccessLog.Action.OTP_SETUP, user_id_snapshot=world.nurse.user.pk
    ).exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGIN).count() == 1


def test_the_page_of_the_qr_code_keeps_the_strict_csp(
    client, world, demo_password, login_url, settings
):
    settings.REQUIRE_2FA = True
    password_step(client, world.nurse, demo_password, login_url)
    response = client.get(reverse("accounts:two_factor_setup"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_with_2fa_required_a_user_with_an_app_gets_the_code_page(
    client, world, demo_password, login_url, clock, nurse_app, settings
):
    settings.REQUIRE_2FA = True
    response = password_step(client, world.nurse, demo_password, login_url)
    assert response["Location"] == reverse("accounts:two_factor")


def test_the_setup_page_needs_a_right_password_first(client, world):
    response = client.get(reverse("accounts:two_factor_setup"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_a_single_sign_on_session_has_no_password_or_app_to_manage(world):
    client = world.nurse.client()
    session = client.session
    session["auth_method"] = "oidc"
    session.save()
    page = client.get(reverse("accounts:security"))
    assert page.status_code == 200
    assert "regionens gemensamma inloggning" in page.content.decode()
    assert client.get(reverse("accounts:authenticator")).status_code == 404


# --- Reset by a system administrator -------------------------------------------------------------


def test_a_system_administrator_resets_a_lost_app_with_a_reason_in_the_log(
    world, sysadmin, clock, nurse_app
):
    client = sysadmin.client()
    found = client.get(reverse("accounts_admin:two_factor_reset_search"), {"q": "t_anna"})
    assert world.nurse.user.username in found.content.decode()
    url = reverse("accounts_admin:two_factor_reset", args=[world.nurse.user.pk])
    response = client.post(url, {"reason": "Tappat telefonen, ringde från känt nummer"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.nurse.user).exists()
    assert not StaticToken.objects.filter(device__user=world.nurse.user).exists()
    row = AccessLog.objects.get(action=AccessLog.Action.OTP_RESET)
    assert row.user_id_snapshot == sysadmin.user.pk
    assert world.nurse.user.username in row.detail
    assert "Tappat telefonen" in row.detail


def test_a_reset_needs_a_reason(world, sysadmin, nurse_app):
    url = reverse("accounts_admin:two_factor_reset", args=[world.nurse.user.pk])
    response = sysadmin.client().post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Ange varför tvåstegsverifieringen återställs" in response.content.decode()
    assert TOTPDevice.objects.filter(user=world.nurse.user).exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.OTP_RESET).exists()


def test_nobody_resets_their_own_second_factor(sysadmin):
    url = reverse("accounts_admin:two_factor_reset", args=[sysadmin.user.pk])
    client = sysadmin.client()
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "Vill själv"}).status_code == 404


@pytest.mark.parametrize("persona", ["nurse", "approver", "log_reviewer"])
def test_others_get_404_on_the_reset_pages(world, persona, nurse_app):
    client = getattr(world, persona).client()
    url = reverse("accounts_admin:two_factor_reset", args=[world.hc_nurse.user.pk])
    assert client.get(reverse("accounts_admin:two_factor_reset_search")).status_code == 404
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert TOTPDevice.objects.filter(user=world.nurse.user).exists()


# --- The user's own settings ------------------------------------------------------------------


def test_the_header_links_to_the_security_page(world):
    body = world.nurse.client().get(reverse("messenger:home")).content.decode()
    assert f'href="{reverse("accounts:security")}"' in body


def test_a_user_sets_up_an_app_from_the_security_page_with_password_and_code(
    world, demo_password, clock
):
    client = world.nurse.client()
    page = client.get(reverse("accounts:authenticator"))
    assert "<svg" in page.content.decode()
    key = client.session[two_factor.NEW_KEY_KEY]["key"]
    wrong_password = client.post(
        reverse("accounts:authenticator"), {"password": "fel", "code": totp_code(key)}
    )
    assert "Lösenordet stämmer inte" in wrong_password.content.decode()
    assert not TOTPDevice.objects.exists()
    response = client.post(
        reverse("accounts:authenticator"), {"password": demo_password, "code": totp_code(key)}
    )
    assert response.status_code == 200
    assert "Dina reservkoder" in response.content.decode()
    assert TOTPDevice.objects.get(user=world.nurse.user).key == key


def test_regenerating_recovery_codes_needs_the_current_code_and_voids_the_old_ones(
    world, clock, nurse_app
):
    client = world.nurse.client()
    refused = client.post(reverse("accounts:recovery_codes"), {"code": "000000"})
    assert refused.status_code == 400
    assert "Koden från appen stämmer inte" in refused.content.decode()
    assert RecoveryCodeDevice.objects.get(user=world.nurse.user).verify_token(nurse_app[0])

    clock.shift(timedelta(seconds=60))
    response = client.post(reverse("accounts:recovery_codes"), {"code": totp_code(KEY)})
    codes = re.findall(r"<code>([a-z2-7-]{19})</code>", response.content.decode())
    assert len(codes) == 10
    device = RecoveryCodeDevice.objects.get(user=world.nurse.user)
    assert not device.verify_token(nurse_app[1])
    clock.shift(timedelta(seconds=2))  # django-otp pauses a device after a wrong code
    assert device.verify_token(codes[0])
    assert AccessLog.objects.filter(
        action=AccessLog.Action.OTP_SETUP, detail="Skapade nya reservkoder"
    ).exists()


# --- Configuration ----------------------------------------------------------------------------


def test_require_2fa_is_on_in_production_and_off_in_development_by_default(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 60)
    show = SETUP + "; from django.conf import settings; print(settings.REQUIRE_2FA)"
    production = run_python(
        show,
        APP_ENV="production",
        SECRET_KEY_FILE=str(secret),
        ALLOWED_HOSTS="fbl.example.se",
        EMAIL_HOST="smtp.example.se",
        SITE_URL="https://fbl.example.se",
        VAR_DIR=str(tmp_path),
    )
    development = run_python(show, APP_ENV="development")
    switched_on = run_python(show, APP_ENV="development", REQUIRE_2FA="true")
    assert production.stdout.split() == ["started", "True"], production.stderr
    assert development.stdout.split() == ["started", "False"], development.stderr
    assert switched_on.stdout.split() == ["started", "True"], switched_on.stderr


def test_a_malformed_require_2fa_stops_start_up_and_is_named():
    result = run_python(SETUP, REQUIRE_2FA="kanske")
    assert result.returncode != 0
    assert "REQUIRE_2FA" in result.stderr.splitlines()[-1]


def test_a_session_signed_in_with_a_code_polls_in_as_few_queries_as_any(
    client, world, demo_password, login_url, clock, nurse_app
):
    # The code is asked once, at sign-in: no request after it looks the device up again.
    password_step(client, world.nurse, demo_password, login_url)
    client.post(reverse("accounts:two_factor"), {"code": totp_code(KEY)})
    assert signed_in(client)
    headers = {"HX-Request": "true"}
    first = client.get(reverse("messenger:nav"), headers=headers)
    with assert_num_queries(3):  # session, user, navigation
        again = client.get(
            reverse("messenger:nav"), headers={**headers, "If-None-Match": first["ETag"]}
        )
    assert again.status_code == 304
