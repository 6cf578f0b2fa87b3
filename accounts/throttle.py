"""The sign-in throttle: a growing delay for guessing, never a lock on a colleague's account.

Tries are counted under two keys at once: the username from one client address (the pair), and
the client address alone, so one address trying many usernames is slowed too. The first
LOGIN_MAX_FAILURES tries of a pair (LOGIN_ADDRESS_MAX_FAILURES of an address) go straight on;
after that each next try must wait LOGIN_DELAY_SECONDS, doubling with each try up to
LOGIN_MAX_DELAY_SECONDS. A try during the wait is answered "vänta N sekunder" without looking at
the password and does not count. The same username from another address is not delayed, and the
right password works as soon as the wait is over. A count with no try for LOGIN_FORGET_HOURS
starts afresh.

How a sign-in step uses it (the password form, and the second-factor step after it):

    wait = sign_in_wait(request, username)   # before checking anything
    if wait:
        refuse with wait_message(wait)       # nothing was checked, nothing counted
    elif the password (or code) is wrong:
        refuse as usual                      # the try already counted: nothing more to call
    elif this was the last step of the sign-in:
        sign_in_succeeded(request, username)

`sign_in_wait` reserves the try before the secret is checked, in one transaction that locks both
counters (pair first, then address, always in that order, so two sign-ins cannot deadlock): of
twelve guesses sent at the same moment, the first five take the free tries and the other seven
find the counter at its limit. A try counts as a failure until the whole sign-in succeeds, so a
wrong code in the second step counts too, and a crash half way counts rather than escaping.
`sign_in_succeeded` belongs after the LAST step only: called after a right password while a code is
still to come, it would hand out fresh tries for guessing the code. It clears the pair and takes
the pair's tries back off the address's count, so colleagues behind one NAT address who mistype
and then get in do not slow each other.

Keys are HMACs (SECRET_KEY) of the normalised username and the address (an IPv6 address counts
by its /64, which one machine can fill), so neither a username nor a password typed into the
username field is stored. Changing SECRET_KEY starts every count afresh.
"""

import ipaddress
import math
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.http import client_address
from accounts.models import SignInCounter

# Takes the counter's row lock, creating the row if it is new, and returns the count as it was.
_LOCK = f"""
    INSERT INTO {SignInCounter._meta.db_table} (key, attempts, last_attempt_at)
    VALUES (%s, 0, %s)
    ON CONFLICT (key) DO UPDATE SET attempts = {SignInCounter._meta.db_table}.attempts
    RETURNING attempts, last_attempt_at
"""  # noqa: S608  (the table name is ours; the values are parameters)


def sign_in_wait(request: HttpRequest, username: str) -> int:
    """Reserve one sign-in try for `username` from this request's address: 0 to go on and check
    the password (the try counts as failed until `sign_in_succeeded`), or the seconds to wait
    (nothing reserved, nothing to check)."""
    now = timezone.now()
    address = client_address(request)
    counters = [
        (_pair_key(username, address), settings.LOGIN_MAX_FAILURES),
        (_address_key(address), settings.LOGIN_ADDRESS_MAX_FAILURES),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        counts = []
        for key, limit in counters:
            cursor.execute(_LOCK, [key, now])
            attempts, last_attempt_at = cursor.fetchone()
            if last_attempt_at <= now - timedelta(hours=settings.LOGIN_FORGET_HOURS):
                attempts = 0
            counts.append((key, attempts, last_attempt_at, limit))
        wait = max(_wait(attempts, last, limit, now) for _key, attempts, last, limit in counts)
        if wait:
            return wait
        for key, attempts, _last, _limit in counts:
            SignInCounter.objects.filter(key=key).update(attempts=attempts + 1, last_attempt_at=now)
    return 0


@transaction.atomic
def sign_in_succeeded(request: HttpRequest, username: str) -> None:
    """The whole sign-in succeeded: the pair starts afresh, and its tries no longer count against
    the address."""
    address = client_address(request)
    pair = SignInCounter.objects.select_for_update().filter(key=_pair_key(username, address))
    attempts = pair.values_list("attempts", flat=True).first()
    if attempts is None:
        return
    pair.delete()
    SignInCounter.objects.filter(key=_address_key(address)).update(
        attempts=Greatest(F("attempts") - attempts, Value(0))
    )


def wait_message(seconds: int) -> str:
    """The refusal shown during a wait, in whole seconds or, from two minutes, whole minutes."""
    if seconds < 120:
        return ngettext(
            "För många misslyckade inloggningar. Vänta %(count)d sekund och försök igen.",
            "För många misslyckade inloggningar. Vänta %(count)d sekunder och försök igen.",
            seconds,
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return _("För många misslyckade inloggningar. Vänta %(count)d minuter och försök igen.") % {
        "count": minutes
    }


def sign_in_counters_prune(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly tidy-up: counts with no try for LOGIN_FORGET_HOURS, which count as nothing
    anyway. Safe to run again."""
    now = now or timezone.now()
    forgotten = now - timedelta(hours=settings.LOGIN_FORGET_HOURS)
    removed, _ = SignInCounter.objects.filter(last_attempt_at__lte=forgotten).delete()
    return {"counters": removed}


def _wait(attempts: int, last_attempt_at: datetime, limit: int, now: datetime) -> int:
    if attempts < limit:
        return 0
    doublings = min(attempts - limit, 32)  # beyond that the cap has long been reached
    delay = min(settings.LOGIN_DELAY_SECONDS * 2**doublings, settings.LOGIN_MAX_DELAY_SECONDS)
    remaining = (last_attempt_at + timedelta(seconds=delay) - now).total_seconds()
    return max(math.ceil(remaining), 0)


def _pair_key(username: str, address: str) -> str:
    return _hmac("pair", _normalised(username), _bucket(address))


def _address_key(address: str) -> str:
    return _hmac("address", _bucket(address))


def _hmac(*parts: str) -> str:
    return salted_hmac("accounts.throttle", "\x00".join(parts), algorithm="sha256").hexdigest()


def _normalised(username: str) -> str:
    # "Anna", "anna " and "ａｎｎａ" are one name to a guesser: count them as one.
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
