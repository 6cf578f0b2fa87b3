"""Every mailbox view opens its mailbox through get_mailbox_for_user: one query, 404 for
everyone without a usable grant of the level asked, and the grant's level and job attached."""

import pytest
from django.http import Http404

from mailboxes.models import AccessGrant
from mailboxes.selectors import get_mailbox_for_user, grant_employment, grant_level
from tests.helpers import assert_num_queries


def test_the_mailbox_comes_with_its_organisation_grant_level_and_job_in_one_query(world):
    with assert_num_queries(1):
        box = get_mailbox_for_user(world.hc_nurse.user, world.gripen_fbl.pk)
        assert box.organisation.name == world.gripen.name
    assert box == world.gripen_fbl
    assert grant_level(box) == AccessGrant.Level.SEND
    assert grant_employment(box, [world.hc_nurse.employment]) == world.hc_nurse.employment


def test_a_reader_is_refused_where_sending_is_asked(world):
    AccessGrant.objects.filter(user=world.hc_nurse.user).update(level=AccessGrant.Level.READ)
    assert grant_level(get_mailbox_for_user(world.hc_nurse.user, world.gripen_fbl.pk)) == 10
    with pytest.raises(Http404):
        get_mailbox_for_user(world.hc_nurse.user, world.gripen_fbl.pk, level=AccessGrant.Level.SEND)


def test_an_outsider_gets_404(world):
    with pytest.raises(Http404):
        get_mailbox_for_user(world.outsider.user, world.gripen_fbl.pk)


def test_a_grant_for_an_ended_job_opens_nothing(world):
    employment = world.hc_nurse.employment
    employment.ended_at = employment.started_at
    employment.save(update_fields=["ended_at"])
    with pytest.raises(Http404):
        get_mailbox_for_user(world.hc_nurse.user, world.gripen_fbl.pk)
