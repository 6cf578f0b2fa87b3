"""Two identical posts at the same moment (a double click on a slow line) send one message."""

import uuid

import pytest

from messenger.models import Message, Thread
from messenger.services import thread_start
from tests.helpers import at_once
from tests.testdata import PATIENTS


@pytest.mark.django_db(transaction=True)
def test_racing_posts_with_one_token_create_one_thread(world, categories):
    token = uuid.uuid4()

    def post() -> int:
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
        return thread.pk

    results, errors = at_once(post)
    assert errors == []
    assert len(results) == 2
    assert results[0] == results[1]
    assert Thread.objects.count() == 1
    assert Message.objects.filter(client_token=token).count() == 1
