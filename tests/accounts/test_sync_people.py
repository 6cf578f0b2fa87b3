"""`manage.py sync_people`: the app's people follow the region's catalogue (R17, R18, R25)."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.catalogue import SYNC_ACTOR
from accounts.models import Employment, Organisation, Role, User
from audit.models import AccessLog
from mailboxes.models import AccessGrant, Mailbox
from tests.factories import AccessGrantFactory, OrganisationFactory

COLUMNS = "hsa_id;given_name;surname;email;profession;organisation_hsa_id;roles"
GRETA = "SE2321000016-P0100"
HANS = "SE2321000016-P0101"


def line(
    hsa_id: str,
    org: Organisation,
    *,
    given="Greta",
    surname="Gran",
    email="",
    job="Sjuksköterska",
    roles="staff",
) -> str:
    return f"{hsa_id};{given};{surname};{email};{job};{org.hsa_id};{roles}"


def write(tmp_path: Path, *lines: str, name: str = "katalog.csv", header: str = COLUMNS) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def sync(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("sync_people", str(path), *args, stdout=out)
    return out.getvalue()


def refused(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        sync(path)
    return str(caught.value)


def state() -> tuple:
    """Everything a sync may change, to prove that a refused or dry run changed nothing."""
    return (
        list(User.objects.order_by("pk").values_list("pk", "is_active", "first_name", "last_name")),
        list(Employment.objects.order_by("pk").values_list("pk", "ended_at", "roles")),
        list(AccessGrant.objects.order_by("pk").values_list("pk", "ended_at")),
        Mailbox.objects.count(),
        AccessLog.objects.count(),
    )


def greta() -> User:
    return User.objects.get(hsa_id=GRETA)


def test_it_creates_a_person_with_employment_and_personal_mailbox(world, tmp_path):
    output = sync(write(tmp_path, line(GRETA, world.gripen, email="greta@example.se")))

    person = greta()
    assert person.username == GRETA.lower()
    assert (person.get_full_name(), person.email) == ("Greta Gran", "greta@example.se")
    assert not person.has_usable_password()  # she signs in through the identity provider
    job = person.employments.get()
    assert (job.organisation, job.profession, job.roles) == (
        world.gripen,
        "Sjuksköterska",
        ["staff"],
    )
    box = Mailbox.objects.get(owner=person)
    assert (box.kind, box.name) == (Mailbox.Kind.PERSONAL, "Greta Gran, Vårdcentralen Gripen")
    grant = AccessGrant.objects.usable_by(person).get()
    assert (grant.mailbox, grant.level, grant.employment) == (box, AccessGrant.Level.MANAGE, job)
    assert "Lade till personen Greta Gran (HSA-id SE2321000016-P0100)" in output
    assert "Skapade den personliga brevlådan Greta Gran, Vårdcentralen Gripen" in output
    assert "Personer: 1 nya" in output


def test_every_change_is_printed_and_logged_naming_the_command(world, tmp_path):
    output = sync(write(tmp_path, line(GRETA, world.gripen), line(GRETA, world.karlstad)))

    rows = AccessLog.objects.filter(user_name=SYNC_ACTOR).order_by("pk")
    assert rows.count() == 5  # person, two jobs, mailbox, its grant
    assert {r.action for r in rows} == {AccessLog.Action.ADMIN}
    assert all(r.user_id_snapshot is None for r in rows)
    printed = output.splitlines()
    assert printed[:-1] == [r.detail for r in rows]
    assert printed[-1].startswith("5 ändringar.")


def test_a_second_run_with_the_same_file_changes_nothing(world, tmp_path):
    path = write(tmp_path, line(GRETA, world.gripen), line(HANS, world.karlstad, given="Hans"))
    sync(path)
    before = state()

    output = sync(path)

    assert state() == before
    assert output.startswith("0 ändringar.")
    assert Mailbox.objects.filter(owner__hsa_id__in=[GRETA, HANS]).count() == 2


def test_it_updates_names_profession_and_catalogue_roles_and_keeps_the_apps_roles(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen)))
    job = greta().employments.get()
    # Given in the app by a system administrator (R17): the catalogue knows nothing of it.
    job.roles = [Role.STAFF, Role.ACCESS_APPROVER]
    job.save()

    output = sync(
        write(
            tmp_path,
            line(GRETA, world.gripen, surname="Ek", job="Distriktssköterska", roles="superuser"),
        )
    )

    person = greta()
    job.refresh_from_db()
    assert person.last_name == "Ek"
    assert job.profession == "Distriktssköterska"
    assert job.roles == [Role.SUPERUSER, Role.ACCESS_APPROVER]
    assert "efternamn Gran → Ek" in output
    assert "yrke Sjuksköterska → Distriktssköterska" in output
    roles_line = "roller Personal, Behörighetsbeställare → Superanvändare, Behörighetsbeställare"
    assert roles_line in output
    # Her personal mailbox takes her new name.
    assert Mailbox.objects.get(owner=person).name == "Greta Ek, Vårdcentralen Gripen"


def test_without_a_roles_column_the_roles_stay_as_they_are(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen, roles="staff superuser")))
    header = COLUMNS.removesuffix(";roles")

    output = sync(write(tmp_path, line(GRETA, world.gripen).rsplit(";", 1)[0], header=header))

    assert greta().employments.get().roles == [Role.STAFF, Role.SUPERUSER]
    assert output.startswith("0 ändringar.")


def test_an_employment_left_out_ends_with_its_grants(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.karlstad), line(GRETA, world.gripen)))
    person = greta()
    karlstad_job = person.employments.get(organisation=world.karlstad)
    grant = AccessGrantFactory.create(
        user=person, mailbox=world.karlstad_fbl, employment=karlstad_job
    )

    output = sync(write(tmp_path, line(GRETA, world.gripen)))

    karlstad_job.refresh_from_db()
    grant.refresh_from_db()
    assert karlstad_job.ended_at is not None
    assert grant.ended_at is not None
    assert grant.end_reason == "Finns inte längre i katalogen"
    assert not AccessGrant.objects.usable_by(person).filter(mailbox=world.karlstad_fbl).exists()
    assert person.employments.active().get().organisation == world.gripen
    assert "Avslutade anställningen för Greta Gran vid Karlstads kommun" in output
    assert (
        AccessLog.objects.filter(mailbox_name=world.karlstad_fbl.name, user_name=SYNC_ACTOR)
        .get()
        .detail.startswith("Avslutade behörighet Läsa och skicka för Greta Gran")
    )


def test_the_personal_mailbox_follows_to_the_job_that_goes_on(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.karlstad), line(GRETA, world.gripen)))
    person = greta()
    box = Mailbox.objects.get(owner=person)
    assert box.organisation == world.karlstad

    sync(write(tmp_path, line(GRETA, world.gripen)))

    box.refresh_from_db()
    assert Mailbox.objects.filter(owner=person).count() == 1
    assert (box.organisation, box.name) == (world.gripen, "Greta Gran, Vårdcentralen Gripen")
    grant = AccessGrant.objects.usable_by(person).get(mailbox=box)
    assert grant.employment.organisation == world.gripen


def test_people_gone_from_the_catalogue_are_deactivated_never_deleted(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen), line(HANS, world.karlstad, given="Hans")))

    output = sync(write(tmp_path, line(HANS, world.karlstad, given="Hans")))

    person = greta()  # still there: audit rows name her
    assert person.is_active is False
    assert person.employments.active().count() == 0
    assert not AccessGrant.objects.usable_by(person).exists()
    assert "Inaktiverade Greta Gran (HSA-id SE2321000016-P0100)" in output
    assert "1 inaktiverade" in output


def test_a_returning_person_is_reactivated_with_a_new_job_and_her_old_mailbox(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen), line(HANS, world.karlstad, given="Hans")))
    sync(write(tmp_path, line(HANS, world.karlstad, given="Hans")))

    output = sync(
        write(tmp_path, line(GRETA, world.arvika), line(HANS, world.karlstad, given="Hans"))
    )

    person = greta()
    assert person.is_active is True
    assert person.employments.count() == 2
    new_job = person.employments.active().get()
    assert new_job.organisation == world.arvika
    box = Mailbox.objects.get(owner=person)
    assert AccessGrant.objects.usable_by(person).get(mailbox=box).employment == new_job
    assert "Återaktiverade Greta Gran" in output


def test_people_without_an_hsa_id_are_not_the_catalogues(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen)))

    world.nurse.user.refresh_from_db()
    assert world.nurse.user.is_active
    assert world.nurse.user.employments.active().exists()


def test_dry_run_prints_the_changes_and_saves_nothing(world, tmp_path):
    before = state()

    output = sync(write(tmp_path, line(GRETA, world.gripen)), "--dry-run")

    assert state() == before
    assert "Lade till personen Greta Gran" in output
    assert "Provkörning, inget har sparats: 4 ändringar." in output


def test_json_and_csv_examples_in_docs_give_the_same_people(db, tmp_path):
    for hsa_id, kind in (
        ("SE2321000017-REG001", Organisation.Kind.REGION_UNIT),
        ("SE2321000018-MUN002", Organisation.Kind.MUNICIPALITY),
        ("SE2321000032-MUN016", Organisation.Kind.MUNICIPALITY),
        ("SE2321000033-HEA017", Organisation.Kind.HEALTH_CENTRE),
    ):
        OrganisationFactory.create(hsa_id=hsa_id, kind=kind)
    docs = Path(settings.BASE_DIR) / "docs"

    sync(docs / "catalogue-example.csv")
    after_csv = state()
    output = sync(docs / "catalogue-example.json")

    assert output.startswith("0 ändringar.")
    assert state() == after_csv
    assert User.objects.filter(hsa_id__startswith="SE2321000016-P").count() == 9
    anna = User.objects.get(hsa_id="SE2321000016-P0001")
    assert anna.employments.active().count() == 2  # one person, two organisations (R18)
    assert anna.email == "anna@example.invalid"


def test_a_json_file_is_recognised_by_its_content_too(world, tmp_path):
    path = tmp_path / "katalog.txt"
    path.write_text(
        json.dumps(
            [
                {
                    "hsa_id": GRETA,
                    "given_name": "Greta",
                    "surname": "Gran",
                    "profession": "Läkare",
                    "organisation_hsa_id": world.gripen.hsa_id,
                    "roles": "staff statistics_reader",
                }
            ]
        ),
        encoding="utf-8",
    )

    sync(path)

    assert greta().employments.get().roles == [Role.STAFF, Role.STATISTICS_READER]


def test_a_comma_separated_file_with_quoted_roles_is_read(world, tmp_path):
    path = write(
        tmp_path,
        f'{GRETA},Greta,Gran,,Läkare,{world.gripen.hsa_id},"staff,superuser"',
        header=COLUMNS.replace(";", ","),
    )

    sync(path)

    assert greta().employments.get().roles == [Role.STAFF, Role.SUPERUSER]


# Bad input: nothing changes, and every bad line is named.


def test_an_unknown_organisation_names_each_bad_line_and_changes_nothing(world, tmp_path):
    before = state()
    unknown = OrganisationFactory.build()  # never saved: the app does not know it
    path = write(
        tmp_path,
        line(GRETA, world.gripen),
        line(HANS, unknown, given="Hans"),
        line(GRETA, unknown),
    )

    message = refused(path)

    assert state() == before
    assert f"rad 3: okänd organisation {unknown.hsa_id}" in message
    assert f"rad 4: okänd organisation {unknown.hsa_id}" in message
    assert "rad 2" not in message
    assert "Inget har ändrats" in message


def test_invalid_duplicate_and_empty_fields_are_all_named(world, tmp_path):
    before = state()
    path = write(
        tmp_path,
        line(GRETA, world.gripen),
        line("P0101", world.gripen),  # not an HSA id
        line(GRETA, world.gripen),  # the same job twice
        line(HANS, world.gripen, given=""),  # no given name
        line(HANS, world.karlstad, given="Hans", email="inte-en-adress"),
    )

    message = refused(path)

    assert state() == before
    assert "rad 3: HSA-id P0101 är inget giltigt HSA-id" in message
    assert f"rad 4: {GRETA} har redan en anställning i samma organisation på rad 2" in message
    assert "rad 5: förnamn saknas" in message
    assert "rad 6: e-postadressen inte-en-adress är ogiltig" in message
    assert "rad 2:" not in message
    # In the order of the file.
    assert message.index("rad 3:") < message.index("rad 4:") < message.index("rad 6:")


def test_missing_columns_are_named(world, tmp_path):
    before = state()
    path = write(tmp_path, f"{GRETA};Greta;Gran", header="hsa_id;given_name;surname")

    message = refused(path)

    assert state() == before
    assert "rad 1: kolumner saknas: profession, organisation_hsa_id" in message


def test_a_line_with_the_wrong_number_of_fields_is_named(world, tmp_path):
    path = write(tmp_path, line(GRETA, world.gripen), f"{HANS};Hans;Gran")

    message = refused(path)

    assert "rad 3: raden har 3 fält men rubrikraden 7" in message
    assert not User.objects.filter(hsa_id=GRETA).exists()


def test_roles_the_app_gives_and_unknown_roles_are_refused(world, tmp_path):
    path = write(
        tmp_path,
        line(GRETA, world.gripen, roles="staff access_approver"),
        line(HANS, world.gripen, given="Hans", roles="chef"),
    )

    message = refused(path)

    assert "rad 2: rollen access_approver ges av regionens systemförvaltare i appen" in message
    assert "rad 3: okänd roll chef" in message
    assert not User.objects.filter(hsa_id__in=[GRETA, HANS]).exists()


def test_a_username_held_by_another_account_is_named(world, tmp_path):
    world.nurse.user.username = GRETA.lower()
    world.nurse.user.save()

    message = refused(write(tmp_path, line(GRETA, world.gripen)))

    assert f"rad 2: användarnamnet {GRETA.lower()} används redan av ett annat konto" in message


def test_malformed_json_is_named_by_its_line(world, tmp_path):
    path = tmp_path / "katalog.json"
    path.write_text('[\n  {"hsa_id": "SE2321000016-P0100",\n  "given_name": }\n]\n')

    message = refused(path)

    assert "rad 3: ogiltig JSON" in message


def test_bad_json_entries_are_named_by_the_line_they_start_on(world, tmp_path):
    good = {
        "hsa_id": GRETA,
        "given_name": "Greta",
        "surname": "Gran",
        "profession": "Läkare",
        "organisation_hsa_id": world.gripen.hsa_id,
    }
    path = tmp_path / "katalog.json"
    path.write_text(
        "[\n"
        + json.dumps(good)
        + ",\n"
        + json.dumps({**good, "hsa_id": HANS, "surname": ""})
        + ",\n\n"
        + json.dumps({**good, "hsa_id": HANS, "given_name": 7})
        + ",\n  42\n]\n",
        encoding="utf-8",
    )

    message = refused(path)

    assert "rad 3: efternamn saknas" in message
    assert "rad 5: förnamn ska vara text" in message
    assert "rad 6: posten är inget JSON-objekt" in message
    assert "rad 2:" not in message
    assert not User.objects.filter(hsa_id=GRETA).exists()


def test_a_json_file_that_is_not_a_list_is_refused(world, tmp_path):
    path = tmp_path / "katalog.json"
    path.write_text('{"hsa_id": "SE2321000016-P0100"}', encoding="utf-8")

    assert "rad 1: JSON-filen ska vara en lista" in refused(path)


def test_an_empty_file_deactivates_nobody(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen)))
    before = state()

    message = refused(write(tmp_path))

    assert state() == before
    assert "Filen innehåller inga anställningar" in message


def test_a_file_not_in_utf8_is_refused(world, tmp_path):
    path = tmp_path / "katalog.csv"
    path.write_bytes((COLUMNS + "\n" + line(GRETA, world.gripen, job="Läkare")).encode("cp1252"))

    assert "rad 2: filen är inte kodad som UTF-8" in refused(path)


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Kan inte läsa"):
        sync(tmp_path / "finns-inte.csv")


def test_an_hsa_id_known_in_another_spelling_is_named(world, tmp_path):
    sync(write(tmp_path, line(GRETA, world.gripen)))
    before = state()

    message = refused(write(tmp_path, line("SE2321000016-p0100", world.gripen)))

    assert state() == before
    assert f"rad 2: HSA-id SE2321000016-p0100 finns redan skrivet {GRETA}" in message


def test_the_example_file_fits_the_demo_data(db, tmp_path):
    call_command("seed_demo", "--force", stdout=StringIO())

    output = sync(Path(settings.BASE_DIR) / "docs" / "catalogue-example.csv", "--dry-run")

    # Greta is new, Anna gains her Arvika job; Eva, Fredrik and Alva get personal mailboxes;
    # nobody of the demo is deactivated and Eva keeps the access-approver role.
    assert "Lade till personen Greta Gran (HSA-id SE2321000016-P0009)" in output
    assert "Anställning för Anna Andersson vid Arvika kommun som Sjuksköterska" in output
    assert "Skapade den personliga brevlådan Eva Ek, Karlstads kommun" in output
    assert "Inaktiverade" not in output
    assert "Behörighetsbeställare" not in output
    assert "Personer: 1 nya, 0 ändrade, 0 återaktiverade, 0 inaktiverade" in output
