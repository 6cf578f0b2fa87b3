"""Reading the region's catalogue extract (HSA) for `manage.py sync_people`: CSV or JSON, one
row per employment. Checks everything a file can be wrong about on its own and names every bad
line; what needs the database (is the organisation known?) is checked by `people_sync`.

Columns, in any order (a CSV header, or the keys of each JSON object):

    hsa_id               the person's HSA id, e.g. SE2321000016-P0001       required
    given_name           required
    surname              required
    email                optional; empty leaves the person's e-mail as it is
    profession           e.g. Sjuksköterska                                  required
    organisation_hsa_id  the HSA id of an organisation the app knows         required
    roles                staff, superuser, statistics_reader; optional (see below)

Roles are separated by spaces, commas, semicolons or `|` (in JSON also a list). Without a roles
column (or with a JSON row that has no "roles"), the roles stay as they are, and a new
employment gets `staff`. Access approver and log reviewer are never in the catalogue: the
region's system administrators give them in the app (R17, R18).
"""

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from accounts.models import Employment, Organisation, Role, User, hsa_id_validator
from accounts.services import SYSTEM_ADMIN_ROLES

# The roles the catalogue decides; the others are the app's (accounts.services.SYSTEM_ADMIN_ROLES).
CATALOGUE_ROLES = tuple(r for r in Role.values if r not in SYSTEM_ADMIN_ROLES)

REQUIRED = ("hsa_id", "given_name", "surname", "profession", "organisation_hsa_id")
OPTIONAL = ("email", "roles")

ROLE_SEPARATORS = re.compile(r"[\s,;|]+")


def _label(column: str) -> str:
    return {
        "hsa_id": _("HSA-id"),
        "given_name": _("förnamn"),
        "surname": _("efternamn"),
        "email": _("e-post"),
        "profession": _("yrke"),
        "organisation_hsa_id": _("organisationens HSA-id"),
        "roles": _("roller"),
    }[column]


def _max_length(column: str) -> int:
    fields = {
        "hsa_id": User._meta.get_field("hsa_id"),
        "given_name": User._meta.get_field("first_name"),
        "surname": User._meta.get_field("last_name"),
        "email": User._meta.get_field("email"),
        "profession": Employment._meta.get_field("profession"),
        "organisation_hsa_id": Organisation._meta.get_field("hsa_id"),
    }
    return getattr(fields[column], "max_length", None) or 0


@dataclass(frozen=True)
class CatalogueRow:
    line: int
    hsa_id: str
    given_name: str
    surname: str
    email: str
    profession: str
    organisation_hsa_id: str
    # None: the file says nothing of this employment's roles.
    roles: tuple[str, ...] | None


class CatalogueError(Exception):
    """The file is wrong; `problems` names each bad line, in the order of the file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# A problem with one line of the file: (line number, what is wrong).
Problem = tuple[int, str]


def line_problem(line: int, problem: str) -> str:
    return _("rad %(line)s: %(problem)s") % {"line": line, "problem": problem}


def refuse(problems: list[Problem]) -> CatalogueError:
    """The error naming every bad line, in the order of the file."""
    return CatalogueError([line_problem(line, text) for line, text in sorted(problems)])


def read_catalogue(raw: bytes, name: str = "") -> list[CatalogueRow]:
    """The rows of a catalogue file, JSON if its name ends in .json (or, with neither .json nor
    .csv, if it starts with [ ), else CSV. Raises CatalogueError naming every bad line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise refuse([(line, _("filen är inte kodad som UTF-8. Spara den som UTF-8."))]) from None
    lowered = name.lower()
    is_json = lowered.endswith(".json") or (
        not lowered.endswith(".csv") and text.lstrip().startswith("[")
    )
    records, problems = _json_records(text) if is_json else _csv_records(text)
    if not records and not problems:
        raise CatalogueError([_("Filen innehåller inga anställningar. Inget har ändrats.")])
    rows: list[CatalogueRow] = []
    for line, record in records:
        row, row_problems = _row(record)
        problems += [(line, p) for p in row_problems]
        if row is not None:
            rows.append(CatalogueRow(line=line, **row))
    problems += _cross_row_problems(rows)
    problems += database_problems(rows)
    if problems:
        raise refuse(problems)
    return rows


def username_for(hsa_id: str) -> str:
    """A new person's username: their HSA id in lower case. They sign in by SSO, matched by the
    HSA id itself, so nobody has to remember it."""
    return hsa_id.lower()


def database_problems(rows: list[CatalogueRow]) -> list[Problem]:
    """Each row naming an organisation the app does not know, and each new person whose
    username another account already holds."""
    org_ids = {row.organisation_hsa_id for row in rows}
    known = set(Organisation.objects.filter(hsa_id__in=org_ids).values_list("hsa_id", flat=True))
    spelled = set(
        User.objects.annotate(upper=Upper("hsa_id"))
        .filter(upper__in={r.hsa_id.upper() for r in rows})
        .values_list("hsa_id", flat=True)
    )
    people = {hsa_id for hsa_id in spelled if hsa_id}
    other_spelling = {hsa_id.upper(): hsa_id for hsa_id in people}
    new_usernames = {username_for(r.hsa_id) for r in rows if r.hsa_id not in people}
    taken = set(User.objects.filter(username__in=new_usernames).values_list("username", flat=True))
    problems: list[Problem] = []
    for row in rows:
        if row.organisation_hsa_id not in known:
            problems.append(
                (
                    row.line,
                    _("okänd organisation %(hsa_id)s: lägg in den i appen först")
                    % {"hsa_id": row.organisation_hsa_id},
                )
            )
        if row.hsa_id not in people and row.hsa_id.upper() in other_spelling:
            problems.append(
                (
                    row.line,
                    _("HSA-id %(hsa_id)s finns redan skrivet %(other)s")
                    % {"hsa_id": row.hsa_id, "other": other_spelling[row.hsa_id.upper()]},
                )
            )
        elif row.hsa_id not in people and username_for(row.hsa_id) in taken:
            problems.append(
                (
                    row.line,
                    _("användarnamnet %(username)s används redan av ett annat konto")
                    % {"username": username_for(row.hsa_id)},
                )
            )
    return problems


# The rows of a file read, and the problems of lines that could not be read at all.
Records = tuple[list[tuple[int, dict[str, Any]]], list[Problem]]


def _csv_records(text: str) -> Records:
    header = text.split("\n", 1)[0]
    # Excel in Sweden writes semicolons; other tools commas or tabs.
    delimiter = max((";", ",", "\t"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    try:
        columns = [c.strip().lower() for c in next(reader, [])]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise refuse(
                [
                    (
                        1,
                        _("kolumner saknas: %(columns)s. Första raden ska namnge kolumnerna.")
                        % {"columns": ", ".join(missing)},
                    )
                ]
            )
        twice = sorted({c for c in columns if c and columns.count(c) > 1})
        if twice:
            raise refuse(
                [(1, _("kolumnen finns två gånger: %(columns)s") % {"columns": ", ".join(twice)})]
            )
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                problems.append(
                    (
                        line,
                        _("raden har %(found)s fält men rubrikraden %(expected)s")
                        % {"found": len(values), "expected": len(columns)},
                    )
                )
                continue
            record: dict[str, Any] = dict(zip(columns, values, strict=True))
            if "roles" in record:
                record["roles"] = [r for r in ROLE_SEPARATORS.split(record["roles"]) if r]
            records.append((line, record))
    except csv.Error as exc:
        # Past a broken quote the rest of the file cannot be read reliably.
        problems.append((reader.line_num, _("ogiltig CSV: %(error)s") % {"error": exc}))
    return records, problems


def _json_records(text: str) -> Records:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [(exc.lineno, _("ogiltig JSON: %(error)s") % {"error": exc.msg})]
    if not isinstance(data, list):
        return [], [(1, _("JSON-filen ska vara en lista med en post per anställning."))]
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for line, item in zip(_json_item_lines(text), data, strict=True):
        if not isinstance(item, dict):
            problems.append((line, _("posten är inget JSON-objekt")))
            continue
        record: dict[str, Any] = {}
        wrong: list[str] = []
        for key, value in item.items():
            column = str(key).strip().lower()
            if column == "roles" and isinstance(value, str):
                value = [r for r in ROLE_SEPARATORS.split(value) if r]
            if column == "roles":
                if value is not None and (
                    not isinstance(value, list) or not all(isinstance(r, str) for r in value)
                ):
                    wrong.append(_("roller ska vara en lista med text"))
                    continue
            elif column in REQUIRED + OPTIONAL and not isinstance(value, str | None):
                wrong.append(_("%(field)s ska vara text") % {"field": _label(column)})
                continue
            record[column] = value
        if wrong:
            problems += [(line, problem) for problem in wrong]
        else:
            records.append((line, record))
    return records, problems


def _json_item_lines(text: str) -> list[int]:
    """The line each element of the (valid) top-level JSON array starts on."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")

    def skip(at: int) -> int:
        match = space.match(text, at)
        return match.end() if match else at

    lines: list[int] = []
    at = skip(text.index("[") + 1)
    while at < len(text) and text[at] != "]":
        lines.append(text.count("\n", 0, at) + 1)
        _value, at = decoder.raw_decode(text, at)
        at = skip(at)
        if at < len(text) and text[at] == ",":
            at = skip(at + 1)
    return lines


def _row(record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The fields of one row, checked on their own, or what is wrong with them."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for column in (*REQUIRED, "email"):
        value = (record.get(column) or "").strip()
        if column in REQUIRED and not value:
            problems.append(_("%(field)s saknas") % {"field": _label(column)})
        limit = _max_length(column)
        if len(value) > limit:
            problems.append(
                _("%(field)s är för långt (högst %(max)s tecken)")
                % {"field": _label(column), "max": limit}
            )
        values[column] = value
    for column in ("hsa_id", "organisation_hsa_id"):
        if values[column]:
            try:
                hsa_id_validator(values[column])
            except ValidationError:
                problems.append(
                    _("%(field)s %(value)s är inget giltigt HSA-id")
                    % {"field": _label(column), "value": values[column][:40]}
                )
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            problems.append(
                _("e-postadressen %(value)s är ogiltig") % {"value": values["email"][:80]}
            )
    values["roles"] = None if record.get("roles") is None else tuple(record["roles"])
    for role in values["roles"] or ():
        if role in SYSTEM_ADMIN_ROLES:
            problems.append(
                _("rollen %(role)s ges av regionens systemförvaltare i appen, inte av katalogen")
                % {"role": role}
            )
        elif role not in CATALOGUE_ROLES:
            problems.append(
                _("okänd roll %(role)s (kända roller: %(known)s)")
                % {"role": role[:40], "known": ", ".join(CATALOGUE_ROLES)}
            )
    return (None, problems) if problems else (values, [])


def _cross_row_problems(rows: list[CatalogueRow]) -> list[Problem]:
    """One employment per person and organisation; one spelling of an HSA id, one name and one
    e-mail per person."""
    problems: list[Problem] = []
    employments: dict[tuple[str, str], int] = {}
    people: dict[str, CatalogueRow] = {}
    for row in rows:
        # HSA ids compared without case: the username made from one is lower case.
        key = (row.hsa_id.upper(), row.organisation_hsa_id.upper())
        if key in employments:
            problems.append(
                (
                    row.line,
                    _("%(hsa_id)s har redan en anställning i samma organisation på rad %(other)s")
                    % {"hsa_id": row.hsa_id, "other": employments[key]},
                )
            )
        else:
            employments[key] = row.line
        first = people.setdefault(row.hsa_id.upper(), row)
        if first.hsa_id != row.hsa_id:
            problems.append(
                (
                    row.line,
                    _("HSA-id %(hsa_id)s är skrivet på ett annat sätt på rad %(other)s")
                    % {"hsa_id": row.hsa_id, "other": first.line},
                )
            )
        if (first.given_name, first.surname) != (row.given_name, row.surname):
            problems.append(
                (
                    row.line,
                    _("namnet skiljer sig från rad %(other)s med samma HSA-id")
                    % {"other": first.line},
                )
            )
        if first.email.lower() != row.email.lower() and first.email and row.email:
            problems.append(
                (
                    row.line,
                    _("e-postadressen skiljer sig från rad %(other)s med samma HSA-id")
                    % {"other": first.line},
                )
            )
    return problems
