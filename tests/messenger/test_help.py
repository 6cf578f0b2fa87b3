"""Help and e-learning (R23): the guides, the self-test "Kom igång", the superuser's list, the
start page's tour and the public accessibility statement."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from messenger.help import GUIDES, QUESTIONS
from messenger.models import SelfTestCompletion, TourDismissal
from messenger.services import self_test_complete
from tests.factories import EmploymentFactory, UserFactory
from tests.helpers import at_once, send, thread_url
from tests.testdata import PATIENTS

ALL_RIGHT = {q.key: q.right for q in QUESTIONS}


def wrong_answer(key: str) -> str:
    question = next(q for q in QUESTIONS if q.key == key)
    return next(value for value, _label in question.choices if value != question.right)


def guide_url(slug: str) -> str:
    return reverse("messenger:help_guide", args=[slug])


# The guides.


@pytest.mark.parametrize("slug", [g.slug for g in GUIDES])
def test_each_guide_opens_and_is_listed_in_the_help_index(world, slug):
    client = world.nurse.client()
    assert client.get(guide_url(slug)).status_code == 200
    assert guide_url(slug) in client.get(reverse("messenger:help")).content.decode()


def test_a_guide_in_english_is_the_english_text(world):
    client = world.nurse.client()
    client.cookies["django_language"] = "en"
    page = client.get(guide_url("skriva")).content.decode()
    assert "Not for urgent matters" in page


def test_an_unknown_guide_is_404(world):
    assert world.nurse.client().get(guide_url("finns-inte")).status_code == 404


def test_the_header_links_to_help(world):
    page = world.nurse.client().get(reverse("messenger:home")).content.decode()
    # In the header itself: the start page's tour links to Help too.
    header = page.split('<div class="who">', 1)[1].split("</div>", 1)[0]
    assert f'<a href="{reverse("messenger:help")}">Hjälp</a>' in header


def test_each_guide_is_linked_from_the_page_it_explains(world, categories):
    thread = send(world.hc_nurse, world.karlstad_fbl, categories["Recept"], patient_id=PATIENTS[0])
    nurse = world.nurse.client()
    compose = nurse.get(reverse("messenger:compose", args=[world.karlstad_fbl.pk]))
    assert guide_url("skriva") in compose.content.decode()
    assert guide_url("kategorier-och-svarstid") in compose.content.decode()
    waiting = nurse.get(reverse("messenger:waiting", args=[world.karlstad_fbl.pk]))
    assert guide_url("kategorier-och-svarstid") in waiting.content.decode()
    shown = nurse.get(thread_url("thread", world.karlstad_fbl, thread)).content.decode()
    assert guide_url("vidarebefordra") in shown
    forward = nurse.get(thread_url("forward", world.karlstad_fbl, thread)).content.decode()
    assert guide_url("vidarebefordra") in forward
    # The health centre's side attaches journal links: the section and its help are there.
    gripen_thread = world.hc_nurse.client().get(thread_url("thread", world.gripen_fbl, thread))
    assert guide_url("journallankar") in gripen_thread.content.decode()
    assert guide_url("behorighet") in nurse.get(reverse("mailboxes:my_access")).content.decode()
    log_control = world.log_reviewer.client().get(reverse("messenger:log_control"))
    assert guide_url("loggkontroll") in log_control.content.decode()


# The self-test "Kom igång".


def test_all_right_records_the_completion_once(world):
    client = world.nurse.client()
    response = client.post(reverse("messenger:self_test"), ALL_RIGHT)
    assert response.status_code == 200
    assert "Du har klarat testet" in response.content.decode()
    assert SelfTestCompletion.objects.filter(user=world.nurse.user).count() == 1


def test_submitted_twice_saves_one_row_and_says_so(world):
    client = world.nurse.client()
    client.post(reverse("messenger:self_test"), ALL_RIGHT)
    first = SelfTestCompletion.objects.get(user=world.nurse.user)
    response = client.post(reverse("messenger:self_test"), ALL_RIGHT)
    assert "Du har redan gjort testet" in response.content.decode()
    assert SelfTestCompletion.objects.filter(user=world.nurse.user).count() == 1
    assert SelfTestCompletion.objects.get(user=world.nurse.user).completed_at == first.completed_at


@pytest.mark.django_db(transaction=True)
def test_two_completions_at_once_save_one_row(world):
    results, errors = at_once(lambda: self_test_complete(world.nurse.user)[1])
    assert errors == []
    assert sorted(results) == [False, True]
    assert SelfTestCompletion.objects.filter(user=world.nurse.user).count() == 1


def test_wrong_answers_save_nothing_and_explain(world):
    answers = ALL_RIGHT | {"svarstid": wrong_answer("svarstid")}
    response = world.nurse.client().post(reverse("messenger:self_test"), answers)
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 svar är fel" in page
    assert "Inget har sparats" in page
    svarstid = next(q for q in QUESTIONS if q.key == "svarstid")
    assert str(svarstid.why) in page
    assert not SelfTestCompletion.objects.exists()


def test_an_unanswered_question_is_a_400_and_saves_nothing(world):
    answers = dict(ALL_RIGHT)
    del answers["utskrift"]
    response = world.nurse.client().post(reverse("messenger:self_test"), answers)
    assert response.status_code == 400
    assert "Välj ett svar." in response.content.decode()
    assert not SelfTestCompletion.objects.exists()


def test_the_questions_are_fieldsets_with_legends(world):
    page = world.nurse.client().get(reverse("messenger:self_test")).content.decode()
    assert page.count("<legend>") == len(QUESTIONS) == 5
    assert 'type="radio"' in page


# The superuser's list.


def test_a_superuser_sees_their_own_organisations_completions_only(world):
    superuser = EmploymentFactory.create(
        organisation=world.karlstad, roles=[Role.STAFF, Role.SUPERUSER]
    ).user
    self_test_complete(world.nurse.user)
    self_test_complete(world.outsider.user)  # Arvika's
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse("messenger:self_test_staff"))
    assert response.status_code == 200
    rows = {e.user.pk: e for e in response.context["employments"]}
    assert world.nurse.user.pk in rows
    assert world.approver.user.pk in rows
    assert world.outsider.user.pk not in rows
    page = response.content.decode()
    assert f"<td>{world.nurse.user.display_name()}</td>" in page
    assert f"<td>{world.outsider.user.display_name()}</td>" not in page
    assert "Inte ännu" in page  # the approver has not done it


@pytest.mark.parametrize("persona", ["nurse", "approver", "log_reviewer"])
def test_others_get_404_for_the_list(world, persona):
    client = getattr(world, persona).client()
    assert client.get(reverse("messenger:self_test_staff")).status_code == 404


# The first-sign-in tour.


def test_the_tour_is_shown_until_dismissed(world):
    client = world.nurse.client()
    assert "Jag har förstått" in client.get(reverse("messenger:home")).content.decode()
    response = client.post(reverse("messenger:tour_done"))
    assert response.status_code == 302
    assert "Jag har förstått" not in client.get(reverse("messenger:home")).content.decode()
    client.post(reverse("messenger:tour_done"))  # again: nothing more
    assert TourDismissal.objects.filter(user=world.nurse.user).count() == 1
    # The message after dismissing says the tour is under Help: it is.
    help_page = client.get(reverse("messenger:help")).content.decode()
    assert "Dina brevlådor finns på startsidan och i menyn till vänster." in help_page
    assert "Jag har förstått" not in help_page
    # Someone else still sees it.
    assert (
        "Jag har förstått"
        in world.hc_nurse.client().get(reverse("messenger:home")).content.decode()
    )


# The accessibility statement.


def test_the_accessibility_statement_is_public_and_linked_from_every_page(db, world):
    response = Client().get(reverse("messenger:accessibility"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tillgänglighetsredogörelse" in page
    assert "WCAG 2.1" in page
    assert "DIGG" in page
    login = Client().get(reverse("accounts:login")).content.decode()
    assert reverse("messenger:accessibility") in login


def test_the_statement_is_open_before_the_confidentiality_agreement(db):
    user = UserFactory.create(agreement=False)
    client = Client()
    client.force_login(user)
    assert client.get(reverse("messenger:accessibility")).status_code == 200
    # Everything else still waits for the agreement (R17).
    assert client.get(reverse("messenger:help")).status_code == 302
