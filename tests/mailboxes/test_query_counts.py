from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailboxes.models import AccessGrant
from tests.conftest import Persona
from tests.factories import AccessGrantFactory, EmploymentFactory, MailboxFactory
from tests.mailboxes.conftest import apply


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_approver_lists_do_not_grow_with_their_rows(world):
    client = world.approver.client()
    urls = [reverse("mailboxes:approvals"), reverse("mailboxes:grant_review")]
    client.get(urls[0])  # the first request of a session saves it anew
    before = [count(client, url) for url in urls]
    for _ in range(5):
        employment = EmploymentFactory.create(organisation=world.karlstad)
        box = MailboxFactory.create(organisation=world.karlstad)
        AccessGrantFactory.create(user=employment.user, mailbox=box, level=AccessGrant.Level.READ)
        apply(Persona(employment.user, employment, None), world.karlstad_fbl)
    after = [count(client, url) for url in urls]
    assert after == before
    # session, user, employments, the navigation's mailboxes, the header's unread notices (apart,
    # as the approver holds no mailbox for them to ride along with), the
    # list (one query with its joins), then the session's save: savepoint, update, release
    assert before == [9, 9]
