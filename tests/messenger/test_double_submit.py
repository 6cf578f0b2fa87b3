"""Two identical posts at the same moment (a double click on a slow line) send one message."""

import threading
import uuid

import pytest
from django.db import connection

from messenger.models import Message, Thread
from messenger.services import thread_start
from tests.testdata import PATIENTS


@pytest.mark.django_db(transaction=True)
def test_racing_posts_with_one_token_create_one_thread(world, categories):
    token = uuid.uuid4()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            thread = thread_start(
                author=world.nurse.user,
                employment=world.nurse.employment,
                sender_mailbox=world.karlstad_fbl,
                recipient_mailbox=world.gripen_fbl,
                category=categories["Recept"],
                subject="Förnyelse",
                patient_id=PATIENTS[0],
                body="Kan receptet förnyas?",
                client_token=token,
            )
            results.append(thread.pk)
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=post) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    assert len(results) == 2
    assert results[0] == results[1]
    assert Thread.objects.count() == 1
    assert Message.objects.filter(client_token=token).count() == 1
