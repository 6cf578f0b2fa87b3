"""The sign-in throttle: a growing delay per username and address, never a lock on a colleague."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.http import client_address
from accounts.models import SignInCounter, User
from accounts.throttle import sign_in_counters_prune
from audit.models import AccessLog
from tests.helpers import at_once

WRONG_CREDENTIALS = "Ange ett korrekt användarnamn och lösenord"
WAIT = "För många misslyckade inloggningar. Vänta"
ATTACKER = "203.0.113.9"
COLLEAGUE = "198.51.100.20"


def sign_in(client: Client, username: str, password: str, address: str = ATTACKER, **headers):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("messenger:home")


def fail(username: str, times: int, address: str = ATTACKER) -> None:
    for _ in range(times):
        response = sign_in(Client(), username, "fel-losenord-123", address)
        assert WRONG_CREDENTIALS in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_twelve_guesses_at_once_get_only_five_password_checks(world, settings, monkeypatch):
    settings.LOGIN_MAX_FAILURES = 5
    checked = []
    lock = threading.Lock()
    real_check = User.check_password

    def slow_check(user: User, raw_password: str) -> bool:
        # A slow hash, as in production: a throttle that counts after the check lets all through.
        with lock:
            checked.append(raw_password)
        time.sleep(0.2)
        return real_check(user, raw_password)

    monkeypatch.setattr(User, "check_password", slow_check)
    username = world.nurse.user.username

    results, errors = at_once(
        lambda: sign_in(Client(), username, "fel-losenord-123").content.decode(), times=12
    )

    assert errors == []
    assert len(checked) == 5
    assert sum(WRONG_CREDENTIALS in body for body in results) == 5
    assert sum(WAIT in body for body in results) == 7
    assert AccessLog.objects.filter(action=AccessLog.Action.LOGIN_FAILED).count() == 5


def test_the_right_password_after_the_limit_is_asked_to_wait_without_being_checked(
    world, demo_password, settings, monkeypatch
):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_DELAY_SECONDS = 30
    username = world.nurse.user.username
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False):
        fail(username, 3)
        checked = []
        monkeypatch.setattr(User, "check_password", lambda user, raw: checked.append(raw))
        response = sign_in(Client(), username, demo_password)
    assert "Vänta 30 sekunder och försök igen." in response.content.decode()
    assert checked == []


def test_the_same_username_from_another_address_signs_in_while_one_address_waits(
    world, demo_password, settings
):
    settings.LOGIN_MAX_FAILURES = 3
    username = world.nurse.user.username
    fail(username, 3, ATTACKER)
    assert WAIT in sign_in(Client(), username, demo_password, ATTACKER).content.decode()

    assert signed_in(sign_in(Client(), username, demo_password, COLLEAGUE))


def test_the_right_password_works_from_the_waiting_address_once_the_wait_is_over(
    world, demo_password, settings
):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_DELAY_SECONDS = 30
    username = world.nurse.user.username
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False) as traveller:
        fail(username, 3)
        traveller.shift(timedelta(seconds=29))
        assert "Vänta 1 sekund och" in sign_in(Client(), username, demo_password).content.decode()
        traveller.shift(timedelta(seconds=1))
        assert signed_in(sign_in(Client(), username, demo_password))


def test_each_try_after_the_limit_waits_twice_as_long_up_to_the_cap(world, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_DELAY_SECONDS = 30
    settings.LOGIN_MAX_DELAY_SECONDS = 100
    username = world.nurse.user.username
    waits = []
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False) as traveller:
        fail(username, 2)
        for seconds in (30, 60, 100, 100):
            waits.append(sign_in(Client(), username, "fel-losenord-123").content.decode())
            traveller.shift(timedelta(seconds=seconds))
            fail(username, 1)
    assert "Vänta 30 sekunder" in waits[0]
    assert "Vänta 60 sekunder" in waits[1]
    assert "Vänta 100 sekunder" in waits[2]
    assert "Vänta 100 sekunder" in waits[3]


def test_a_long_wait_is_told_in_minutes(world, settings):
    settings.LOGIN_MAX_FAILURES = 1
    settings.LOGIN_DELAY_SECONDS = 900
    settings.LOGIN_MAX_DELAY_SECONDS = 900
    fail(world.nurse.user.username, 1)
    response = sign_in(Client(), world.nurse.user.username, "fel-losenord-123")
    assert "Vänta 15 minuter och försök igen." in response.content.decode()


def test_a_refused_try_does_not_make_the_wait_longer(world, demo_password, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_DELAY_SECONDS = 30
    username = world.nurse.user.username
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False) as traveller:
        fail(username, 2)
        for _ in range(20):
            traveller.shift(timedelta(seconds=1))
            assert WAIT in sign_in(Client(), username, demo_password).content.decode()
        traveller.shift(timedelta(seconds=10))
        assert signed_in(sign_in(Client(), username, demo_password))


def test_a_success_starts_the_pairs_count_afresh(world, demo_password, settings):
    settings.LOGIN_MAX_FAILURES = 3
    username = world.nurse.user.username
    fail(username, 2)
    assert signed_in(sign_in(Client(), username, demo_password))
    fail(username, 2)
    assert signed_in(sign_in(Client(), username, demo_password))


def test_a_username_counts_alike_whatever_its_case_or_spacing(world, demo_password, settings):
    settings.LOGIN_MAX_FAILURES = 3
    username = world.nurse.user.username
    for typed in (username.upper(), f" {username}", username.title()):
        sign_in(Client(), typed, "fel-losenord-123")
    assert WAIT in sign_in(Client(), username, demo_password).content.decode()


def test_an_unknown_username_is_delayed_the_same_way(db, settings):
    settings.LOGIN_MAX_FAILURES = 2
    fail("finns_inte", 2)
    response = sign_in(Client(), "finns_inte", "vad-som-helst")
    assert "Vänta 30 sekunder" in response.content.decode()


def test_one_address_trying_many_usernames_is_slowed(world, demo_password, settings):
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_ADDRESS_MAX_FAILURES = 4
    for n in range(4):
        fail(f"gissning{n}", 1)
    # Even a real person with the right password waits at that address; elsewhere they get in.
    response = sign_in(Client(), world.hc_nurse.user.username, demo_password, ATTACKER)
    assert WAIT in response.content.decode()
    assert signed_in(sign_in(Client(), world.hc_nurse.user.username, demo_password, COLLEAGUE))


def test_colleagues_behind_one_address_who_mistype_and_get_in_do_not_slow_each_other(
    world, demo_password, settings
):
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_ADDRESS_MAX_FAILURES = 4
    for persona in (world.nurse, world.hc_nurse, world.doctor):
        fail(persona.user.username, 2, COLLEAGUE)
        assert signed_in(sign_in(Client(), persona.user.username, demo_password, COLLEAGUE))
    assert signed_in(sign_in(Client(), world.outsider.user.username, demo_password, COLLEAGUE))


def test_a_forged_x_forwarded_for_without_trusted_proxies_does_not_escape_the_wait(
    world, demo_password, settings
):
    settings.TRUSTED_PROXIES = []
    settings.LOGIN_MAX_FAILURES = 2
    username = world.nurse.user.username
    for n in range(2):
        sign_in(Client(), username, "fel", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = sign_in(
        Client(), username, demo_password, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.77"
    )
    assert WAIT in response.content.decode()


def test_behind_a_trusted_proxy_each_client_address_counts_on_its_own(
    world, demo_password, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_MAX_FAILURES = 2
    username = world.nurse.user.username
    for _ in range(2):
        sign_in(Client(), username, "fel", "10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER)
    waiting = sign_in(Client(), username, demo_password, "10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert WAIT in waiting.content.decode()
    # A spoofed address in front of the proxy's own entry changes nothing.
    spoofed = f"{COLLEAGUE}, {ATTACKER}"
    assert (
        WAIT
        in sign_in(
            Client(), username, demo_password, "10.0.0.2", HTTP_X_FORWARDED_FOR=spoofed
        ).content.decode()
    )
    assert signed_in(
        sign_in(Client(), username, demo_password, "10.0.0.2", HTTP_X_FORWARDED_FOR=COLLEAGUE)
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.1", "", [], "198.51.100.1"),
        ("198.51.100.1", "203.0.113.9", [], "198.51.100.1"),
        ("10.0.0.2", "203.0.113.9", [], "10.0.0.2"),
        ("10.0.0.2", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        # Right-most untrusted: the client wrote what lies left of it.
        ("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "10.0.0.9, 10.0.0.7", ["10.0.0.0/8"], "10.0.0.9"),
        ("10.0.0.2", "", ["10.0.0.2/32"], "10.0.0.2"),
        ("10.0.0.2", "inte-en-adress", ["10.0.0.0/8"], "10.0.0.2"),
        ("fd00::1", "2001:db8::5", ["fd00::/8"], "2001:db8::5"),
    ],
)
def test_the_client_address_is_read_from_the_proxy_only_when_trusted(
    settings, peer, forwarded, trusted, expected
):
    settings.TRUSTED_PROXIES = trusted
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **headers)
    assert client_address(request) == expected


def test_a_password_typed_as_username_is_stored_nowhere(world, settings):
    settings.LOGIN_MAX_FAILURES = 1
    typed = "Hemligt-Losen-2026!"
    for _ in range(2):  # the second is delayed: that path stores nothing either
        sign_in(Client(), typed, "fel-losenord-123")
    row = AccessLog.objects.get(action=AccessLog.Action.LOGIN_FAILED)
    assert row.user_id_snapshot is None
    assert row.detail == f"okänt användarnamn, från {ATTACKER}"
    assert SignInCounter.objects.count() == 2
    assert _tables_containing(typed) == []
    assert _tables_containing(typed.casefold()) == []


def test_a_failed_sign_in_with_a_real_username_names_the_person(world):
    fail(world.nurse.user.username, 1, COLLEAGUE)
    row = AccessLog.objects.get(action=AccessLog.Action.LOGIN_FAILED)
    assert row.user_id_snapshot == world.nurse.user.pk
    assert row.user_name == world.nurse.user.display_name()
    assert row.detail == f"från {COLLEAGUE}"


def test_a_count_with_no_try_for_a_day_starts_afresh(world, demo_password, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_FORGET_HOURS = 24
    username = world.nurse.user.username
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False) as traveller:
        fail(username, 2)
        traveller.shift(timedelta(hours=24))
        # Two free tries again: without forgetting, the second would wait a minute.
        fail(username, 1)
        assert signed_in(sign_in(Client(), username, demo_password))


def test_the_nightly_prune_removes_only_forgotten_counts(db, settings):
    settings.LOGIN_FORGET_HOURS = 24
    with time_machine.travel("2026-12-02 09:00 +01:00", tick=False) as traveller:
        fail("forr", 1, ATTACKER)
        traveller.shift(timedelta(hours=23))
        fail("nyss", 1, COLLEAGUE)
        traveller.shift(timedelta(hours=1))
        assert sign_in_counters_prune() == {"counters": 2}  # the old pair and its address
        assert SignInCounter.objects.count() == 2
        assert sign_in_counters_prune() == {"counters": 0}


def _tables_containing(text: str) -> list[str]:
    """Every table in the database with a row whose text holds `text`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        tables = [name for (name,) in cursor.fetchall()]
        found = []
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT 1 FROM {quoted} AS t WHERE t::text LIKE %s LIMIT 1",  # noqa: S608
                [f"%{text}%"],
            )
            if cursor.fetchone():
                found.append(table)
    return found
