from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from tests.helpers import reply, send
from tests.testdata import PATIENTS


@pytest.fixture
def threads(world, categories):
    return {
        "waran": send(
            world.nurse,
            world.gripen_fbl,
            categories["Läkemedel"],
            patient_id=PATIENTS[0],
            subject="Dosering av Waran",
            body="INR är högt, ska dosen sänkas?",
        ),
        "recept": send(
            world.nurse,
            world.gripen_fbl,
            categories["Recept"],
            patient_id=PATIENTS[1],
            subject="Förnyelse",
            body="Recepten på Omeprazol har gått ut.",
        ),
        "prover": send(
            world.nurse,
            world.gripen_fbl,
            categories["Provtagning"],
            patient_id=PATIENTS[2],
            subject="Blodprover tagna",
            body="Proverna är skickade till labbet.",
        ),
    }


def search(persona, mailbox, **data):
    url = reverse("messenger:search", args=[mailbox.pk])
    response = persona.client().post(url, data)
    assert response.status_code == 200
    results = response.context["results"]
    return {row.subject for row in results} if results is not None else None, response


def test_it_finds_a_patient_by_exact_number_in_any_written_form(world, threads):
    found, response = search(world.hc_nurse, world.gripen_fbl, patient="000101-2384")
    assert found == {"Dosering av Waran"}
    assert "2384" not in response.request["PATH_INFO"]
    entry = AccessLog.objects.get(action=AccessLog.Action.SEARCH)
    assert entry.patient_id == PATIENTS[0]


def test_swedish_full_text_finds_inflected_words(world, threads):
    # Swedish stems: "förnya" finds "Förnyelse", "prover" finds "Proverna", "recept" "Recepten".
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="förnya")
    assert found == {"Förnyelse"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="prover")
    assert found == {"Blodprover tagna"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="recept omeprazol")
    assert found == {"Förnyelse"}


def test_words_match_as_prefixes_so_compounds_and_half_typed_words_are_found(
    world, threads, categories
):
    send(
        world.nurse,
        world.gripen_fbl,
        categories["Läkemedel"],
        patient_id=PATIENTS[3],
        subject="Fråga om läkemedelslistan",
        body="Stämmer läkemedelslistan efter utskrivningen?",
    )
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="läkemedel")
    assert found == {"Fråga om läkemedelslistan"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="omepra")
    assert found == {"Förnyelse"}


@pytest.mark.parametrize("text", ["recept & | ! :* ( ' \\", "omeprazol)", "<->"])
def test_query_syntax_typed_by_the_user_is_only_text(world, threads, text):
    found, response = search(world.hc_nurse, world.gripen_fbl, text=text)
    if any(ch.isalnum() for ch in text):
        assert found == {"Förnyelse"}
    else:
        assert found is None
        assert "Skriv minst ett ord att söka på." in response.content.decode()


def test_it_filters_by_category_and_state(world, threads, categories):
    found, _ = search(world.hc_nurse, world.gripen_fbl, category=categories["Recept"].pk)
    assert found == {"Förnyelse"}
    reply(world.hc_nurse, threads["waran"])
    found, _ = search(world.hc_nurse, world.gripen_fbl, state="unanswered")
    assert found == {"Förnyelse", "Blodprover tagna"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, state="unread")
    assert found == {"Förnyelse", "Blodprover tagna"}


def test_overdue_finds_threads_past_their_deadline(world, threads, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    time_machine.move_to(timezone.now() + timedelta(hours=73))
    found, _ = search(world.hc_nurse, world.gripen_fbl, state="overdue")
    assert found == {"Dosering av Waran", "Förnyelse", "Blodprover tagna"}


def test_results_respect_grants(world, threads, categories):
    send(
        world.outsider,
        world.gripen_fbl,
        categories["Recept"],
        patient_id=PATIENTS[3],
        subject="Arvikas recept",
    )
    # Karlstad searching its own mailbox does not see Arvika's thread to Gripen.
    found, _ = search(world.nurse, world.karlstad_fbl, text="recept")
    assert found == {"Förnyelse"}
    url = reverse("messenger:search", args=[world.gripen_fbl.pk])
    assert world.outsider.client().post(url, {"text": "recept"}).status_code == 404


def test_an_empty_or_bad_search_gets_a_message(world, threads):
    found, response = search(world.hc_nurse, world.gripen_fbl)
    assert found is None
    assert "Fyll i minst ett sökvillkor" in response.content.decode()
    found, response = search(world.hc_nurse, world.gripen_fbl, patient="20000101-2385")
    assert found is None
    assert "Kontrollsiffran stämmer inte" in response.content.decode()
    # With htmx only the results part comes back: it names the field and its error.
    url = reverse("messenger:search", args=[world.gripen_fbl.pk])
    partial = world.hc_nurse.client().post(
        url, {"patient": "waran"}, headers={"HX-Request": "true"}
    )
    body = partial.content.decode()
    assert "<form" not in body
    assert 'href="#id_patient"' in body
    assert "ÅÅÅÅMMDD-NNNN" in body


def test_search_results_mask_the_patient(world, threads):
    _, response = search(world.hc_nurse, world.gripen_fbl, text="waran")
    page = response.content.decode()
    assert "20000101-****" in page
    assert PATIENTS[0] not in page


# The search walks the newest SEARCH_WINDOW deliveries first and asks the full-text index only
# if they hold less than a page of matches (or the mailbox holds fewer): both ways must give
# the same answer. 52 is the busiest mailbox below, so a page of matches lies within it.
@pytest.fixture(params=[3, 52], ids=["window-of-3", "window-of-52"])
def window(request, monkeypatch):
    monkeypatch.setattr("messenger.selectors.SEARCH_WINDOW", request.param)
    return request.param


def test_a_text_search_lists_the_newest_matches_first_and_keeps_the_newest_fifty(
    world, categories, time_machine, window
):
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    for n in range(52):
        time_machine.shift(60)
        # The oldest says it most often: a ranking would have put it first.
        word = "dosen" if n else "dosen, dosen, dosen och dosen"
        word = word if n != 30 else "labbet"
        send(
            world.nurse,
            world.gripen_fbl,
            categories["Läkemedel"],
            patient_id=PATIENTS[n % len(PATIENTS)],
            subject=f"Fråga {n}",
            body=f"Gäller {word}.",
        )
    url = reverse("messenger:search", args=[world.gripen_fbl.pk])
    results = world.hc_nurse.client().post(url, {"text": "dosen"}).context["results"]
    # 51 threads say "dosen": the 50 newest, newest first; the oldest one is left out, however
    # often it says the word.
    assert [row.subject for row in results] == [f"Fråga {n}" for n in range(51, 0, -1) if n != 30]


def test_a_rare_word_is_found_beyond_the_newest_threads(world, categories, time_machine, window):
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    for n in range(6):
        time_machine.shift(60)
        send(
            world.nurse,
            world.gripen_fbl,
            categories["Läkemedel"],
            patient_id=PATIENTS[n % len(PATIENTS)],
            subject=f"Fråga {n}",
            body="Gäller Omeprazol." if n == 0 else "Gäller dosen.",
        )
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="omepra")
    assert found == {"Fråga 0"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, text="dosen", state="unread")
    assert found == {f"Fråga {n}" for n in range(1, 6)}


def test_a_patient_search_lists_their_threads_in_this_mailbox_newest_first(
    world, categories, time_machine
):
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    for n, (patient, mailbox) in enumerate(
        [
            (PATIENTS[0], world.gripen_fbl),
            (PATIENTS[1], world.gripen_fbl),
            (PATIENTS[0], world.arvika_fbl),  # the same patient, in a mailbox not searched
            (PATIENTS[0], world.gripen_fbl),
        ]
    ):
        time_machine.shift(60)
        send(world.nurse, mailbox, categories["Läkemedel"], patient_id=patient, subject=f"F{n}")
    url = reverse("messenger:search", args=[world.gripen_fbl.pk])
    response = world.hc_nurse.client().post(url, {"patient": PATIENTS[0]})
    assert [row.subject for row in response.context["results"]] == ["F3", "F0"]
    # With words too, both must hold.
    found, _ = search(world.hc_nurse, world.gripen_fbl, patient=PATIENTS[0], text="dosen")
    assert found == {"F3", "F0"}
    found, _ = search(world.hc_nurse, world.gripen_fbl, patient=PATIENTS[0], text="waran")
    assert found == set()
