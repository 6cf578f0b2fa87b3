"""System administrators edit the category list (R7); whether one asks action is its flag (R8)."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from messenger import services
from messenger.categories import R7_CATEGORIES, ensure_categories
from messenger.models import Category, Question, Thread
from messenger.services import category_create, category_update, deadlines_sweep
from tests.helpers import at_once, send
from tests.testdata import PATIENTS

LIST = reverse("messenger:admin_categories")
NEW = reverse("messenger:admin_category_new")


def edit_url(category: Category) -> str:
    return reverse("messenger:admin_category", args=[category.pk])


def names() -> list[str]:
    return list(Category.objects.values_list("name", flat=True))


def edit_form(category: Category, **changes) -> dict:
    place = names().index(category.name) + 1
    form = {
        "name": category.name,
        "place": place,
        "reply_window_hours": category.reply_window_hours or "",
    }
    if category.requires_action:
        form["requires_action"] = "on"
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


# Who may


def test_a_system_administrator_sees_the_eleven_headings_in_order(world, sysadmin, categories):
    response = sysadmin.client().get(LIST)
    page = response.content.decode()
    assert response.status_code == 200
    positions = [page.index(f">{name}</a>") for name in R7_CATEGORIES]
    assert positions == sorted(positions)
    assert "72 h (standard)" in page
    assert reverse("messenger:admin_categories") in sysadmin.client().get("/").content.decode()


@pytest.mark.parametrize("who", ["nurse", "approver", "outsider", "log_reviewer"])
def test_everyone_but_system_administrators_gets_404(world, categories, who):
    client = getattr(world, who).client()
    recept = categories["Recept"]
    assert client.get(LIST).status_code == 404
    assert client.get(NEW).status_code == 404
    assert client.get(edit_url(recept)).status_code == 404
    assert client.post(NEW, {"name": "Brådskande", "requires_action": "on"}).status_code == 404
    response = client.post(edit_url(recept), edit_form(recept, name="Recept på burk"))
    assert response.status_code == 404
    assert not Category.objects.filter(name__in=["Brådskande", "Recept på burk"]).exists()
    assert LIST not in client.get("/").content.decode()


def test_the_services_refuse_anyone_but_a_system_administrator(world, categories):
    with pytest.raises(ValidationError, match="Bara systemförvaltare"):
        category_create(
            actor=world.approver.user,
            name="Brådskande",
            requires_action=True,
            reply_window_hours=None,
        )
    with pytest.raises(ValidationError, match="Bara systemförvaltare"):
        category_update(
            actor=world.nurse.user,
            category=categories["Recept"],
            name="Recept",
            place=1,
            requires_action=True,
            reply_window_hours=1,
        )
    assert categories["Recept"].reply_window_hours is None
    assert not Category.objects.filter(name="Brådskande").exists()


def test_an_unknown_category_is_404(world, sysadmin, categories):
    assert (
        sysadmin.client().get(reverse("messenger:admin_category", args=[999999])).status_code == 404
    )


# What they do


def test_a_system_administrator_adds_a_category_last_with_its_reply_window(
    world, sysadmin, categories
):
    response = sysadmin.client().post(
        NEW, {"name": "Hjälpmedel", "requires_action": "on", "reply_window_hours": "48"}
    )
    assert response.status_code == 302
    assert response["Location"] == LIST
    category = Category.objects.get(name="Hjälpmedel")
    assert names()[-1] == "Hjälpmedel"
    assert category.requires_action
    assert category.reply_window() == timedelta(hours=48)
    log = AccessLog.objects.get(action=AccessLog.Action.ADMIN)
    assert log.detail == "Skapade kategorin Hjälpmedel (åtgärd krävs, svarstid 48 h)"
    assert log.user_id_snapshot == sysadmin.user.pk
    assert LogEntry.objects.get_for_object(category).exists()


def test_an_empty_reply_window_means_the_default_72_hours(world, sysadmin, categories):
    sysadmin.client().post(NEW, {"name": "Hjälpmedel", "requires_action": "on"})
    category = Category.objects.get(name="Hjälpmedel")
    assert category.reply_window_hours is None
    assert category.reply_window() == timedelta(hours=72)


def test_a_system_administrator_renames_moves_and_sets_the_reply_window(
    world, sysadmin, categories
):
    provtagning = categories["Provtagning"]
    response = sysadmin.client().post(
        edit_url(provtagning),
        edit_form(provtagning, name="Provtagning och labb", place=1, reply_window_hours="24"),
    )
    assert response.status_code == 302
    provtagning.refresh_from_db()
    assert provtagning.name == "Provtagning och labb"
    assert provtagning.reply_window() == timedelta(hours=24)
    assert names() == ["Provtagning och labb", *[n for n in R7_CATEGORIES if n != "Provtagning"]]
    # The places are renumbered from 0, so the next move starts from a clean list.
    assert list(Category.objects.values_list("position", flat=True)) == list(range(11))
    detail = AccessLog.objects.get(action=AccessLog.Action.ADMIN).detail
    assert detail == (
        "Ändrade kategorin Provtagning och labb: namn Provtagning → Provtagning och labb; "
        "svarstid 72 h (standard) → 24 h; plats 5 → 1"
    )


def test_moving_a_category_down_to_the_last_place(world, sysadmin, categories):
    recept = categories["Recept"]
    sysadmin.client().post(edit_url(recept), edit_form(recept, place=11))
    assert names() == [*R7_CATEGORIES[1:], "Recept"]


def test_the_edit_page_shows_the_current_values(world, sysadmin, categories):
    page = sysadmin.client().get(edit_url(categories["För kännedom"])).content.decode()
    assert 'value="För kännedom"' in page
    assert 'name="place" value="8"' in page
    assert 'name="requires_action"' in page
    assert 'name="requires_action" checked' not in page


def test_a_category_can_stop_asking_for_action(world, sysadmin, categories):
    recept = categories["Recept"]
    form = edit_form(recept, reply_window_hours="")
    del form["requires_action"]
    sysadmin.client().post(edit_url(recept), form)
    recept.refresh_from_db()
    assert not recept.requires_action
    assert recept.reply_window() is None
    assert AccessLog.objects.get(action=AccessLog.Action.ADMIN).detail == (
        "Ändrade kategorin Recept: åtgärd krävs → krävs inte; svarstid 72 h (standard) → ingen"
    )


# Bad input: a Swedish message, nothing saved

BAD_WINDOWS = [
    ("0", "Svarstiden måste vara minst 1 timme."),
    ("-5", "Svarstiden måste vara minst 1 timme."),
    ("337", "Svarstiden får vara högst 336 timmar (14 dygn)."),
    ("100000", "Svarstiden får vara högst 336 timmar (14 dygn)."),
    ("tre dygn", "Ange svarstiden som ett helt antal timmar, till exempel 48."),
    ("1.5", "Ange svarstiden som ett helt antal timmar, till exempel 48."),
]


@pytest.mark.parametrize(("value", "message"), BAD_WINDOWS)
def test_a_bad_reply_window_is_refused_on_a_new_category(
    world, sysadmin, categories, value, message
):
    response = sysadmin.client().post(
        NEW, {"name": "Hjälpmedel", "requires_action": "on", "reply_window_hours": value}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Category.objects.filter(name="Hjälpmedel").exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.ADMIN).exists()


@pytest.mark.parametrize(("value", "message"), BAD_WINDOWS)
def test_a_bad_reply_window_is_refused_on_an_edit(world, sysadmin, categories, value, message):
    recept = categories["Recept"]
    response = sysadmin.client().post(
        edit_url(recept), edit_form(recept, name="Recept nytt", reply_window_hours=value)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    recept.refresh_from_db()
    assert (recept.name, recept.reply_window_hours) == ("Recept", None)


@pytest.mark.parametrize("hours", [0, -1, 337])
def test_the_model_and_the_database_refuse_a_reply_window_out_of_range(
    world, sysadmin, categories, hours
):
    with pytest.raises(ValidationError, match="Svarstiden"):
        category_create(
            actor=sysadmin.user,
            name="Hjälpmedel",
            requires_action=True,
            reply_window_hours=hours,
        )
    with pytest.raises(IntegrityError):
        Category.objects.filter(name="Recept").update(reply_window_hours=hours)


def test_a_reply_window_on_a_category_asking_no_action_is_refused_not_dropped(
    world, sysadmin, categories
):
    # Refused rather than cleared: the administrator may have meant to ask for action.
    response = sysadmin.client().post(NEW, {"name": "Information", "reply_window_hours": "48"})
    assert response.status_code == 200
    assert "En kategori som inte kräver åtgärd har ingen svarstid" in response.content.decode()
    assert not Category.objects.filter(name="Information").exists()

    fyi = categories["För kännedom"]
    response = sysadmin.client().post(edit_url(fyi), edit_form(fyi, reply_window_hours="48"))
    assert "En kategori som inte kräver åtgärd har ingen svarstid" in response.content.decode()
    fyi.refresh_from_db()
    assert fyi.reply_window_hours is None
    with pytest.raises(IntegrityError):
        Category.objects.filter(pk=fyi.pk).update(reply_window_hours=48)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Ange kategorins namn."),
        ("   ", "Ange kategorins namn."),
        ("Läkemedel", "Det finns redan en kategori med det namnet."),
        ("läkemedel", "Det finns redan en kategori med det namnet."),
        ("x" * 101, "som mest 100 tecken"),
    ],
)
def test_an_empty_duplicate_or_too_long_name_is_refused(world, sysadmin, categories, name, message):
    before = names()
    response = sysadmin.client().post(NEW, {"name": name, "requires_action": "on"})
    assert response.status_code == 200
    assert message in response.content.decode()
    recept = categories["Recept"]
    response = sysadmin.client().post(edit_url(recept), edit_form(recept, name=name))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert names() == before
    assert not AccessLog.objects.filter(action=AccessLog.Action.ADMIN).exists()


@pytest.mark.parametrize(
    ("place", "message"),
    [
        ("0", "Ange en plats mellan 1 och 11."),
        ("12", "Ange en plats mellan 1 och 11."),
        ("först", "Ange platsen som ett heltal"),
        ("", "Ange kategorins plats i listan."),
    ],
)
def test_a_place_outside_the_list_is_refused(world, sysadmin, categories, place, message):
    recept = categories["Recept"]
    response = sysadmin.client().post(edit_url(recept), edit_form(recept, place=place))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert names() == R7_CATEGORIES


def test_every_mistake_is_named_at_once(world, sysadmin, categories):
    fyi = categories["För kännedom"]
    response = sysadmin.client().post(
        edit_url(fyi), {"name": "recept", "place": "0", "reply_window_hours": "48"}
    )
    page = response.content.decode()
    assert "Ange en plats mellan 1 och 11." in page
    assert "Det finns redan en kategori med det namnet." in page
    assert "En kategori som inte kräver åtgärd har ingen svarstid" in page
    fyi.refresh_from_db()
    assert (fyi.name, fyi.reply_window_hours) == ("För kännedom", None)


def test_a_name_taken_between_the_check_and_the_save_is_a_message(
    world, sysadmin, categories, monkeypatch
):
    # What a second administrator's insert in that moment looks like: the check passes, the
    # database refuses.
    monkeypatch.setattr(services, "_check_category_name_free", lambda *args, **kwargs: None)
    response = sysadmin.client().post(NEW, {"name": "Recept", "requires_action": "on"})
    assert response.status_code == 200
    assert "Det finns redan en kategori med det namnet." in response.content.decode()
    assert Category.objects.filter(name="Recept").count() == 1
    assert not AccessLog.objects.filter(action=AccessLog.Action.ADMIN).exists()


@pytest.mark.django_db(transaction=True)
def test_two_administrators_adding_the_same_category_at_once_get_a_message(world, sysadmin):
    ensure_categories(Category)

    def create() -> Category:
        return category_create(
            actor=sysadmin.user, name="Hjälpmedel", requires_action=True, reply_window_hours=None
        )

    created, errors = at_once(create)
    assert len(created) == 1
    [error] = errors
    assert isinstance(error, ValidationError)
    assert "Det finns redan en kategori med det namnet." in str(error)
    assert Category.objects.filter(name="Hjälpmedel").count() == 1
    assert created[0].position == len(R7_CATEGORIES)


# R8 follows the flag, not the name


@pytest.fixture
def compose_url(world):
    return reverse("messenger:compose", args=[world.karlstad_fbl.pk])


def compose(category: Category, **extra) -> dict:
    return {
        "client_token": str(uuid.uuid4()),
        "recipient": "",
        "category": category.pk,
        "subject": "Ny rutin för dosett",
        "patient": "20000101-2384",
        "body": "Till kännedom: dosetten delas nu av apoteket.",
        **extra,
    }


def fyi_option_marked(page: str, category: Category) -> bool:
    return f'<option value="{category.pk}" data-fyi="true"' in page


@pytest.mark.parametrize("how", ["renamed", "new"])
def test_a_category_asking_no_action_keeps_the_r8_warning_whatever_its_name(
    world, sysadmin, categories, compose_url, how
):
    if how == "renamed":
        fyi = categories["För kännedom"]
        category_update(
            actor=sysadmin.user,
            category=fyi,
            name="Bara information",
            place=8,
            requires_action=False,
            reply_window_hours=None,
        )
    else:
        fyi = category_create(
            actor=sysadmin.user,
            name="Bara information",
            requires_action=False,
            reply_window_hours=None,
        )
    page = world.nurse.client().get(compose_url).content.decode()
    assert fyi_option_marked(page, fyi)
    assert not fyi_option_marked(page, categories["Recept"])

    form = compose(fyi, recipient=world.gripen_fbl.pk)
    response = world.nurse.client().post(compose_url, form)
    assert response.status_code == 400
    assert "inte kräver någon åtgärd" in response.content.decode()
    assert not Thread.objects.exists()

    form["fyi_understood"] = "on"
    world.nurse.client().post(compose_url, form)
    thread = Thread.objects.get()
    assert thread.category == fyi
    assert thread.reply_due_at is None


def test_a_category_that_starts_asking_action_loses_the_r8_warning(
    world, sysadmin, categories, compose_url
):
    fyi = categories["För kännedom"]
    category_update(
        actor=sysadmin.user,
        category=fyi,
        name="För kännedom",
        place=8,
        requires_action=True,
        reply_window_hours=None,
    )
    page = world.nurse.client().get(compose_url).content.decode()
    assert "data-fyi" not in page
    response = world.nurse.client().post(compose_url, compose(fyi, recipient=world.gripen_fbl.pk))
    assert response.status_code == 302
    assert Thread.objects.get().reply_due_at is not None


def test_a_renamed_heading_is_not_put_back_by_the_seed(world, sysadmin, categories):
    category_update(
        actor=sysadmin.user,
        category=categories["För kännedom"],
        name="Bara information",
        place=8,
        requires_action=False,
        reply_window_hours=None,
    )
    ensure_categories(Category)
    assert "För kännedom" not in names()
    assert len(names()) == len(R7_CATEGORIES)


# Running clocks keep their deadline


def test_a_new_reply_window_applies_to_new_questions_only(world, sysadmin, categories):
    recept = categories["Recept"]
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        waiting = send(world.nurse, world.gripen_fbl, recept, patient_id=PATIENTS[0])
    assert waiting.reply_due_at == start + timedelta(hours=72)

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        recept = category_update(
            actor=sysadmin.user,
            category=recept,
            name="Recept",
            place=1,
            requires_action=True,
            reply_window_hours=4,
        )
        later = send(world.nurse, world.gripen_fbl, recept, patient_id=PATIENTS[1])

    waiting.refresh_from_db()
    assert waiting.reply_due_at == start + timedelta(hours=72)
    assert Question.objects.get(thread=waiting).due_at == start + timedelta(hours=72)
    assert later.reply_due_at == start + timedelta(hours=5)
    with time_machine.travel(start + timedelta(hours=6), tick=False):
        assert later.is_overdue()
        assert not waiting.is_overdue()
        deadlines_sweep()
    # The deadline job alerts only the question asked under the new, shorter window.
    assert Question.objects.get(thread=later).alerted_at is not None
    assert Question.objects.get(thread=waiting).alerted_at is None
