import threading
import time
from binascii import unhexlify
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from messenger.models import Category, Delivery, Thread
from messenger.services import message_reply, thread_start
from tests.conftest import Persona


@contextmanager
def assert_num_queries(expected: int) -> Iterator[None]:
    """Like assertNumQueries, but prints every statement when the count is off."""
    with CaptureQueriesContext(connection) as captured:
        yield
    if len(captured) != expected:
        statements = "\n".join(f"{i}. {q['sql']}" for i, q in enumerate(captured, 1))
        raise AssertionError(f"expected {expected} queries, ran {len(captured)}:\n{statements}")


def send(
    sender: Persona,
    recipient_mailbox,
    category: Category,
    *,
    patient_id: str,
    subject: str = "Fråga om ordination",
    body: str = "Kan dosen ändras?",
) -> Thread:
    assert sender.mailbox is not None
    return thread_start(
        author=sender.user,
        employment=sender.employment,
        sender_mailbox=sender.mailbox,
        recipient_mailbox=recipient_mailbox,
        category=category,
        subject=subject,
        patient_id=patient_id,
        body=body,
    )


def delivery_of(thread: Thread, mailbox) -> Delivery:
    return Delivery.objects.get(thread=thread, mailbox=mailbox)


def reply(persona: Persona, thread: Thread, body: str = "Dosen är ändrad.") -> None:
    assert persona.mailbox is not None
    message_reply(
        author=persona.user,
        employment=persona.employment,
        delivery=delivery_of(thread, persona.mailbox),
        body=body,
    )


def thread_url(name: str, mailbox, thread: Thread) -> str:
    return reverse(f"messenger:{name}", args=[mailbox.pk, thread.pk])


def at_once(action: Callable[[], Any], times: int = 2) -> tuple[list[Any], list[BaseException]]:
    """Run `action` in `times` threads released at the same moment (a double click on a slow
    line, two administrators at once), each on its own database connection. Needs
    `django_db(transaction=True)`. Returns what the calls returned and what they raised."""
    barrier = threading.Barrier(times)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except BaseException as error:  # noqa: BLE001  (handed to the test)
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(times)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results, errors


def totp_code(key_hex: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app with this secret shows now (time-machine's now in a test)."""
    step = int(time.time()) // 30 + steps_ahead
    return f"{hotp(unhexlify(key_hex), step):06d}"


def next_totp_code(username: str) -> str:
    """A code the user's app shows that has not been used yet: a code is good once, so a second
    sign-in within the same 30 seconds takes the next one (the server allows one step of drift)."""
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    now_step = int(time.time()) // 30
    return totp_code(device.key, steps_ahead=max(0, device.last_t + 1 - now_step))
