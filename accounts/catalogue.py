"""People from the region's catalogue (HSA): creating people, adding and ending employments,
deactivating those who left (R17, R18, R25).

The nightly `manage.py sync_people` makes the app match the catalogue through `people_sync`;
the region's system administrators do the same one person at a time in the app's own pages
(`accounts/admin_views.py`). Every change writes its access-log row (action `admin`) in the same
transaction. An `actor` of None is the sync, named SYNC_ACTOR in the log.

People without an HSA id (break-glass and test accounts) are not the catalogue's: the sync
never touches them. Nobody is ever deleted: audit rows name them.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.catalogue_file import (
    CATALOGUE_ROLES,
    CatalogueRow,
    database_problems,
    refuse,
    username_for,
)
from accounts.models import Employment, Organisation, Role, User, hsa_id_validator
from accounts.services import SYSTEM_ADMIN_ROLES
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.services import employment_grants_end, personal_mailbox_ensure

SYNC_ACTOR = "Katalogsynk (sync_people)"

# Two syncs at once would both create the same new people; the second waits for the first.
SYNC_LOCK = 4_711_001


def _actor_name(actor: User | None) -> str:
    return "" if actor is not None else SYNC_ACTOR


def _who(actor: User | None) -> dict[str, Any]:
    """Who the access log names: the user, or the sync."""
    return {"user": actor, "actor_name": _actor_name(actor)}


def _require_system_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_superuser:
        raise ValidationError(_("Bara systemförvaltare får lägga till och avsluta personal."))


def _role_names(roles: Iterable[str]) -> str:
    return ", ".join(str(Role(r).label) for r in Role.values if r in roles) or "inga"


def _ordered_roles(roles: Iterable[str]) -> list[str]:
    wanted = set(roles)
    return [r for r in Role.values if r in wanted]


@transaction.atomic
def person_create(
    *,
    actor: User | None,
    hsa_id: str,
    first_name: str,
    last_name: str,
    email: str,
    organisation: Organisation,
    profession: str,
    roles: Iterable[str] = (Role.STAFF,),
) -> User:
    """A new person from the catalogue, with their first employment and personal mailbox.

    No usable password: they sign in through the region's identity provider (R25).
    """
    _require_system_admin(actor)
    hsa_id, first_name, last_name = hsa_id.strip(), first_name.strip(), last_name.strip()
    errors: dict[str, str] = {}
    try:
        hsa_id_validator(hsa_id)
    except ValidationError as exc:
        errors["hsa_id"] = str(exc.messages[0])
    else:
        if User.objects.filter(hsa_id__iexact=hsa_id).exists():
            errors["hsa_id"] = _("Det finns redan en person med HSA-id:t %(hsa_id)s.") % {
                "hsa_id": hsa_id
            }
        elif User.objects.filter(username__iexact=username_for(hsa_id)).exists():
            errors["hsa_id"] = _(
                "Användarnamnet %(username)s används redan av ett annat konto."
            ) % {"username": username_for(hsa_id)}
    if not first_name:
        errors["first_name"] = _("Ange förnamn.")
    if not last_name:
        errors["last_name"] = _("Ange efternamn.")
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username_for(hsa_id),
        hsa_id=hsa_id,
        first_name=first_name,
        last_name=last_name,
        email=email.strip(),
    )
    user.set_unusable_password()
    user.save()
    access_log(
        action=AccessLog.Action.ADMIN,
        organisation_name=organisation.name,
        detail=f"Lade till personen {user.display_name()} (HSA-id {hsa_id})",
        **_who(actor),
    )
    employment_add(
        actor=actor, user=user, organisation=organisation, profession=profession, roles=roles
    )
    return user


@transaction.atomic
def employment_add(
    *,
    actor: User | None,
    user: User,
    organisation: Organisation,
    profession: str,
    roles: Iterable[str] = (Role.STAFF,),
) -> Employment:
    """A new job for the person in `organisation` (one ongoing per organisation); the person's
    personal mailbox is made with their first job."""
    _require_system_admin(actor)
    profession = profession.strip()
    if not profession:
        raise ValidationError({"profession": _("Ange yrke.")})
    if Employment.objects.active().filter(user=user, organisation=organisation).exists():
        raise ValidationError(
            _("%(name)s är redan anställd i %(organisation)s.")
            % {"name": user.display_name(), "organisation": organisation.name}
        )
    new_roles = _ordered_roles(roles)
    employment = Employment.objects.create(
        user=user, organisation=organisation, profession=profession, roles=new_roles
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        organisation_name=organisation.name,
        detail=(
            f"Anställning för {user.display_name()} vid {organisation.name} som {profession}; "
            f"roller: {_role_names(new_roles)}"
        ),
        **_who(actor),
    )
    personal_mailbox_ensure(user=user, actor=actor, actor_name=_actor_name(actor))
    return employment


@transaction.atomic
def employment_end(*, actor: User | None, employment: Employment, reason: str) -> Employment:
    """End a job now (R17): its grants end with it, and a personal mailbox that hung on it moves
    to the person's next ongoing job, if any."""
    _require_system_admin(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Ange varför anställningen avslutas.")})
    locked = (
        Employment.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=employment.pk)
    )
    if locked.ended_at is not None:
        raise ValidationError(_("Anställningen är redan avslutad."))
    locked.ended_at = timezone.now()
    locked.save(update_fields=["ended_at"])
    access_log(
        action=AccessLog.Action.ADMIN,
        organisation_name=locked.organisation.name,
        detail=(
            f"Avslutade anställningen för {locked.user.display_name()} vid "
            f"{locked.organisation.name} ({locked.profession}). Skäl: {reason}"
        ),
        **_who(actor),
    )
    employment_grants_end(
        employment=locked, reason=reason, actor=actor, actor_name=_actor_name(actor)
    )
    personal_mailbox_ensure(user=locked.user, actor=actor, actor_name=_actor_name(actor))
    return locked


@dataclass
class SyncResult:
    """What a sync changed: counts by kind, and the access-log rows it wrote, in order."""

    counts: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)


@transaction.atomic
def people_sync(*, rows: list[CatalogueRow]) -> SyncResult:
    """Make the app's people match the catalogue extract `rows` (one per employment), in one
    transaction: new people and jobs are added, names, professions and catalogue roles
    updated, jobs no longer in the extract ended (their grants with them), people gone from it
    entirely deactivated, returning ones reactivated.

    The roles the app gives (access approver, log reviewer) are neither given nor taken. A bad
    row raises CatalogueError naming every bad line before anything is written. Running it
    again with the same rows changes nothing.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SYNC_LOCK])
    problems = database_problems(rows)
    if problems:
        raise refuse(problems)
    organisations = {
        o.hsa_id: o
        for o in Organisation.objects.filter(hsa_id__in={r.organisation_hsa_id for r in rows})
    }
    people = {u.hsa_id: u for u in User.objects.filter(hsa_id__in={r.hsa_id for r in rows})}
    first_log = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    result = SyncResult()
    by_person: dict[str, list[CatalogueRow]] = {}
    for row in rows:
        by_person.setdefault(row.hsa_id, []).append(row)
    for hsa_id, person_rows in by_person.items():
        user = people.get(hsa_id)
        if user is None:
            first = person_rows[0]
            user = person_create(
                actor=None,
                hsa_id=hsa_id,
                first_name=first.given_name,
                last_name=first.surname,
                email=next((r.email for r in person_rows if r.email), ""),
                organisation=organisations[first.organisation_hsa_id],
                profession=first.profession,
                roles=first.roles if first.roles is not None else (Role.STAFF,),
            )
            result.counts["people_created"] += 1
            result.counts["employments_added"] += 1
        else:
            _person_update(user, person_rows, result)
        _employments_match(user, person_rows, organisations, result)
        # A returning person, or one whose mailbox hung on a job that ended, gets it back.
        personal_mailbox_ensure(user=user, actor=None, actor_name=SYNC_ACTOR)
    _deactivate_the_gone(set(by_person), result)
    result.changes = list(
        AccessLog.objects.filter(pk__gt=first_log, user_id_snapshot=None, user_name=SYNC_ACTOR)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    return result


def _person_update(user: User, rows: list[CatalogueRow], result: SyncResult) -> None:
    first = rows[0]
    email = next((r.email for r in rows if r.email), user.email)
    before = {"förnamn": user.first_name, "efternamn": user.last_name, "e-post": user.email}
    after = {"förnamn": first.given_name, "efternamn": first.surname, "e-post": email}
    changed = [f for f in before if before[f] != after[f]]
    if changed:
        old_name = user.display_name()
        user.first_name, user.last_name, user.email = first.given_name, first.surname, email
        user.save(update_fields=["first_name", "last_name", "email"])
        access_log(
            action=AccessLog.Action.ADMIN,
            actor_name=SYNC_ACTOR,
            detail=f"Ändrade uppgifter för {old_name} (HSA-id {user.hsa_id}): "
            + "; ".join(f"{f} {before[f] or '–'} → {after[f] or '–'}" for f in changed),
        )
        result.counts["people_updated"] += 1
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        access_log(
            action=AccessLog.Action.ADMIN,
            actor_name=SYNC_ACTOR,
            detail=f"Återaktiverade {user.display_name()} (HSA-id {user.hsa_id})",
        )
        result.counts["people_reactivated"] += 1


def _employments_match(
    user: User,
    rows: list[CatalogueRow],
    organisations: dict[str, Organisation],
    result: SyncResult,
) -> None:
    ongoing = {
        e.organisation.hsa_id: e
        for e in Employment.objects.active().filter(user=user).select_related("organisation")
    }
    wanted = {row.organisation_hsa_id for row in rows}
    for row in rows:
        employment = ongoing.get(row.organisation_hsa_id)
        if employment is None:
            employment_add(
                actor=None,
                user=user,
                organisation=organisations[row.organisation_hsa_id],
                profession=row.profession,
                roles=row.roles if row.roles is not None else (Role.STAFF,),
            )
            result.counts["employments_added"] += 1
        else:
            _employment_update(employment, row, result)
    for org_hsa_id, employment in ongoing.items():
        if org_hsa_id not in wanted:
            employment_end(
                actor=None, employment=employment, reason="Finns inte längre i katalogen"
            )
            result.counts["employments_ended"] += 1


def _employment_update(employment: Employment, row: CatalogueRow, result: SyncResult) -> None:
    old_roles = list(employment.roles)
    new_roles = old_roles
    if row.roles is not None:
        kept = [r for r in old_roles if r in SYSTEM_ADMIN_ROLES]
        new_roles = _ordered_roles([*kept, *(r for r in row.roles if r in CATALOGUE_ROLES)])
    changes = []
    if employment.profession != row.profession:
        changes.append(f"yrke {employment.profession} → {row.profession}")
    if set(new_roles) != set(old_roles):
        changes.append(f"roller {_role_names(old_roles)} → {_role_names(new_roles)}")
    if not changes:
        return
    employment.profession = row.profession
    employment.roles = new_roles
    employment.save(update_fields=["profession", "roles"])
    access_log(
        action=AccessLog.Action.ADMIN,
        actor_name=SYNC_ACTOR,
        organisation_name=employment.organisation.name,
        detail=(
            f"Ändrade anställningen för {employment.user.display_name()} vid "
            f"{employment.organisation.name}: " + "; ".join(changes)
        ),
    )
    result.counts["employments_updated"] += 1


def _deactivate_the_gone(present: set[str], result: SyncResult) -> None:
    """People of the catalogue (with an HSA id) missing from it now: their jobs end, and they
    can no longer sign in. Never deleted: a returning person is reactivated."""
    gone = (
        User.objects.filter(hsa_id__isnull=False)
        .exclude(hsa_id__in=present)
        .filter(
            Q(is_active=True) | Q(employments__isnull=False, employments__ended_at__isnull=True)
        )
        .distinct()
        .order_by("hsa_id")
    )
    for user in gone:
        jobs = list(Employment.objects.active().filter(user=user).select_related("organisation"))
        for employment in jobs:
            employment_end(
                actor=None, employment=employment, reason="Finns inte längre i katalogen"
            )
            result.counts["employments_ended"] += 1
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            access_log(
                action=AccessLog.Action.ADMIN,
                actor_name=SYNC_ACTOR,
                detail=(
                    f"Inaktiverade {user.display_name()} (HSA-id {user.hsa_id}): finns inte "
                    "längre i katalogen"
                ),
            )
            result.counts["people_deactivated"] += 1
