"""Writes for access administration and mailbox administration (R5, R14, R17, R24).

Every service refuses bad input with a ValidationError in Swedish and changes nothing, and writes
its access-log row (Action.ADMIN: who, when, what, why) in the same transaction. django-auditlog
keeps the field-by-field history of the same rows.
"""

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Employment, Organisation, Role, User
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import (
    HEALTH_CENTRE_NAME,
    AccessGrant,
    AccessRequest,
    AddressList,
    AddressListEntry,
    CheckPeriod,
    Mailbox,
    MailboxCheck,
    MissedCheck,
    MonitoringRoutine,
    NotificationKind,
    local_midnight,
)
from mailboxes.notifications import notify as notify_outbox
from mailboxes.notifications import notify_access
from mailboxes.selectors import (
    grant_holder_ids,
    mailbox_watchers,
    may_edit_routine,
    organisation_superusers,
)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# End dates and absences further ahead than this are typing mistakes, not plans.
MAX_YEARS_AHEAD = 10


def check_date_ahead(day: date | None) -> None:
    """A date from today up to MAX_YEARS_AHEAD years on: an end date or the end of an absence."""
    if day is None:
        return
    today = timezone.localdate()
    if day < today:
        raise _refuse(_("Datumet har redan passerat. Välj i dag eller ett senare datum."), "past")
    if day.year > today.year + MAX_YEARS_AHEAD:
        raise _refuse(
            _("Välj ett datum högst %(years)s år fram.") % {"years": MAX_YEARS_AHEAD}, "too_far"
        )


def is_approver_for(employment: Employment | None, mailbox: Mailbox) -> bool:
    """An access approver of the mailbox's owning organisation, working there right now."""
    return (
        employment is not None
        and employment.ended_at is None
        and employment.organisation_id == mailbox.organisation_id
        and employment.has_role(Role.ACCESS_APPROVER)
    )


def _require_system_admin(actor: User) -> None:
    if not actor.is_superuser:
        raise _refuse(_("Bara systemförvaltare får ändra brevlådor."), "forbidden")


def _level_label(level: int) -> str:
    return str(AccessGrant.Level(level).label)


# Access requests and grants (R17)


def _applicant_employment(
    applicant: User, requested_by: User, requested_by_employment: Employment | None
) -> Employment:
    """The applicant's job that needs the access: one's own working job, or for a colleague
    (only an access approver may apply for one) their job in the approver's organisation."""
    if requested_by_employment is None or requested_by_employment.ended_at is not None:
        raise _refuse(
            _("Du har ingen pågående anställning och kan inte söka behörighet."), "no_employment"
        )
    if applicant.pk == requested_by.pk:
        return requested_by_employment
    job = (
        Employment.objects.active()
        .filter(user=applicant, organisation_id=requested_by_employment.organisation_id)
        .first()
    )
    if job is None or not requested_by_employment.has_role(Role.ACCESS_APPROVER):
        raise _refuse(
            _(
                "Bara en behörighetsbeställare kan ansöka åt någon annan, och bara åt "
                "personer i den egna organisationen."
            ),
            "forbidden",
        )
    return job


@transaction.atomic
def access_request_create(
    *,
    applicant: User,
    requested_by: User,
    requested_by_employment: Employment | None,
    mailbox: Mailbox,
    level: int,
    justification: str,
    requested_until: date | None = None,
) -> AccessRequest:
    """Apply for access to a functional mailbox, for oneself or (as an approver) for a colleague."""
    # Locked so a mailbox being closed at the same moment cannot slip a request in.
    mailbox = Mailbox.objects.select_for_update().select_related("organisation").get(pk=mailbox.pk)
    if mailbox.is_closed:
        raise _refuse(_("Brevlådan är stängd och kan inte få nya behörigheter."), "closed")
    if not mailbox.is_functional:
        raise _refuse(_("Behörighet söks bara till funktionsbrevlådor."), "not_functional")
    applicant_employment = _applicant_employment(applicant, requested_by, requested_by_employment)
    if level not in AccessGrant.Level.values:
        raise _refuse(_("Välj en behörighetsnivå."), "level")
    if not justification.strip():
        raise _refuse(_("Motivera varför behörigheten behövs."), "justification")
    check_date_ahead(requested_until)
    if AccessRequest.objects.pending().filter(applicant=applicant, mailbox=mailbox).exists():
        raise _refuse(
            _("Det finns redan en ansökan om behörighet till brevlådan som väntar på beslut."),
            "duplicate",
        )
    access_request = AccessRequest.objects.create(
        mailbox=mailbox,
        applicant=applicant,
        applicant_employment=applicant_employment,
        requested_by=requested_by,
        level=level,
        justification=justification.strip(),
        requested_until=requested_until,
    )
    on_behalf = "" if applicant.pk == requested_by.pk else " (ansökt av behörighetsbeställare)"
    access_log(
        action=AccessLog.Action.ADMIN,
        user=requested_by,
        mailbox=mailbox,
        detail=(
            f"Ansökan {access_request.pk} om behörighet {_level_label(level)} för "
            f"{applicant.display_name()}{on_behalf}. Motivering: {justification.strip()}"
        ),
    )
    return access_request


def _lock_for_decision(
    access_request: AccessRequest, approver: User, approver_employment: Employment | None
) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("mailbox__organisation", "applicant", "applicant_employment")
        .get(pk=access_request.pk)
    )
    if not locked.is_pending:
        raise _refuse(_("Ansökan är redan beslutad."), "decided")
    if locked.applicant_id == approver.pk:
        raise _refuse(_("Du kan inte besluta om din egen ansökan."), "own")
    if locked.requested_by_id == approver.pk:
        # Four eyes: whoever orders access for someone does not also grant it.
        raise _refuse(
            _(
                "Du lämnade själv in ansökan åt den sökande. En annan behörighetsbeställare "
                "beslutar om den."
            ),
            "own_order",
        )
    if not is_approver_for(approver_employment, locked.mailbox):
        raise _refuse(
            _(
                "Du kan bara besluta om behörighet till brevlådor som tillhör organisationen "
                "där du är behörighetsbeställare."
            ),
            "other_organisation",
        )
    return locked


def _check_assessment(risk_assessed: bool, risk_note: str, reason: str) -> None:
    if not risk_assessed or not risk_note.strip():
        raise _refuse(
            _("Gör behovs- och riskanalysen och skriv bedömningen innan du beslutar."),
            "risk",
        )
    if not reason.strip():
        raise _refuse(_("Motivera beslutet."), "reason")


@transaction.atomic
def access_request_approve(
    *,
    access_request: AccessRequest,
    approver: User,
    approver_employment: Employment | None,
    risk_assessed: bool,
    risk_note: str,
    reason: str,
    valid_until: date | None = None,
) -> AccessGrant:
    """Grant the access applied for, after the needs-and-risk assessment (R17)."""
    # The mailbox is locked before the request, in the same order as mailbox_close, so an
    # approval and a closing at the same moment queue rather than deadlock.
    mailbox = (
        Mailbox.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=access_request.mailbox_id)
    )
    locked = _lock_for_decision(access_request, approver, approver_employment)
    _check_assessment(risk_assessed, risk_note, reason)
    if mailbox.is_closed:
        raise _refuse(_("Brevlådan är stängd och kan inte få nya behörigheter."), "closed")
    if not locked.applicant.is_active or locked.applicant_employment.ended_at is not None:
        raise _refuse(
            _("Den sökande har ingen pågående anställning och kan inte få behörighet."),
            "inactive",
        )
    check_date_ahead(valid_until)
    now = timezone.now()
    # One open grant per user and mailbox: an earlier one (lapsed or of another level) is
    # replaced by the new decision.
    previous = (
        AccessGrant.objects.select_for_update()
        .filter(user=locked.applicant, mailbox=mailbox, ended_at__isnull=True)
        .first()
    )
    replaced = ""
    if previous is not None:
        replaced = f" (ersätter behörigheten {_level_label(previous.level)})"
        previous.ended_at = now
        previous.ended_by = approver
        previous.end_reason = f"Ersatt av beslut om ansökan {locked.pk}"
        previous.save(update_fields=["ended_at", "ended_by", "end_reason"])
    grant = AccessGrant.objects.create(
        user=locked.applicant,
        employment=locked.applicant_employment,
        mailbox=mailbox,
        level=locked.level,
        valid_from=now,
        valid_until=_start_of(valid_until + timedelta(days=1)) if valid_until else None,
        granted_by=approver,
    )
    locked.status = AccessRequest.Status.APPROVED
    locked.risk_assessed = True
    locked.risk_note = risk_note.strip()
    locked.decision_reason = reason.strip()
    locked.decided_by = approver
    locked.decided_at = now
    locked.grant = grant
    locked.save(
        update_fields=[
            "status",
            "risk_assessed",
            "risk_note",
            "decision_reason",
            "decided_by",
            "decided_at",
            "grant",
        ]
    )
    if valid_until:
        text = _("Din ansökan om behörighet till %(mailbox)s är beviljad till och med %(date)s.")
    else:
        text = _("Din ansökan om behörighet till %(mailbox)s är beviljad.")
    date = f"{valid_until:%Y-%m-%d}" if valid_until else ""
    notify_access(
        event=f"request-{locked.pk}",
        user=locked.applicant,
        mailbox=mailbox,
        text=text % {"mailbox": mailbox.name, "date": date},
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        user=approver,
        organisation_name=approver_employment.organisation.name if approver_employment else "",
        mailbox=mailbox,
        detail=(
            f"Beviljade ansökan {locked.pk}: {_level_label(locked.level)} för "
            f"{locked.applicant.display_name()}"
            f"{f' till och med {date}' if date else ''}{replaced}. Skäl: {reason.strip()}"
        ),
    )
    return grant


@transaction.atomic
def access_request_deny(
    *,
    access_request: AccessRequest,
    approver: User,
    approver_employment: Employment | None,
    risk_assessed: bool,
    risk_note: str,
    reason: str,
) -> AccessRequest:
    locked = _lock_for_decision(access_request, approver, approver_employment)
    _check_assessment(risk_assessed, risk_note, reason)
    locked.status = AccessRequest.Status.DENIED
    locked.risk_assessed = True
    locked.risk_note = risk_note.strip()
    locked.decision_reason = reason.strip()
    locked.decided_by = approver
    locked.decided_at = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "risk_assessed",
            "risk_note",
            "decision_reason",
            "decided_by",
            "decided_at",
        ]
    )
    notify_access(
        event=f"request-{locked.pk}",
        user=locked.applicant,
        mailbox=locked.mailbox,
        text=_("Din ansökan om behörighet till %(mailbox)s är avslagen: %(reason)s")
        % {"mailbox": locked.mailbox.name, "reason": reason.strip()},
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        user=approver,
        organisation_name=approver_employment.organisation.name if approver_employment else "",
        mailbox=locked.mailbox,
        detail=(
            f"Avslog ansökan {locked.pk} från {locked.applicant.display_name()}. "
            f"Skäl: {reason.strip()}"
        ),
    )
    return locked


@transaction.atomic
def grant_end(
    *,
    grant: AccessGrant,
    actor: User,
    actor_employment: Employment | None,
    reason: str,
    from_date: date | None = None,
) -> AccessGrant:
    """End a grant at once, or from the start of `from_date` (R17, R24).

    The grant holder may give up their own; otherwise only an access approver of the mailbox's
    organisation may end it. Takes effect on the very next request.
    """
    locked = (
        AccessGrant.objects.select_for_update(of=("self",))
        .select_related("mailbox__organisation", "user", "employment__organisation")
        .get(pk=grant.pk)
    )
    if not locked.is_current():
        raise _refuse(_("Behörigheten är redan avslutad."), "ended")
    own = locked.user_id == actor.pk
    if not own and not is_approver_for(actor_employment, locked.mailbox):
        raise _refuse(
            _(
                "Du kan bara avsluta behörigheter till brevlådor som tillhör organisationen där "
                "du är behörighetsbeställare."
            ),
            "other_organisation",
        )
    reason = reason.strip() or (_("Lämnade själv tillbaka behörigheten") if own else "")
    if not reason:
        raise _refuse(_("Ange varför behörigheten avslutas."), "reason")
    check_date_ahead(from_date)
    now = timezone.now()
    locked.ended_by = actor
    locked.end_reason = reason
    if from_date is None or from_date <= timezone.localdate():
        locked.ended_at = now
        text = _("Din behörighet till %(mailbox)s är avslutad.")
        locked.save(update_fields=["ended_at", "ended_by", "end_reason"])
    else:
        end = _start_of(from_date)
        if locked.valid_until is not None and locked.valid_until < end:
            raise _refuse(
                _(
                    "Behörigheten upphör redan %(date)s. Att avsluta den senare skulle förlänga "
                    "den; välj ett tidigare datum."
                )
                % {"date": f"{timezone.localtime(locked.valid_until):%Y-%m-%d}"},
                "would_extend",
            )
        locked.valid_until = end
        text = _("Din behörighet till %(mailbox)s avslutas från och med %(date)s.")
        locked.save(update_fields=["valid_until", "ended_by", "end_reason"])
    if not own:
        date = f"{from_date:%Y-%m-%d}" if from_date else ""
        notify_access(
            event=f"grant-end-{locked.pk}-{date}",
            user=locked.user,
            mailbox=locked.mailbox,
            text=text % {"mailbox": locked.mailbox.name, "date": date},
        )
    # Giving one's own grant back is done as the job it was for, whatever job one works in now.
    acting = locked.employment if own else actor_employment
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=acting.organisation.name if acting else "",
        mailbox=locked.mailbox,
        detail=(
            f"Avslutade behörighet {_level_label(locked.level)} för "
            f"{locked.user.display_name()} "
            f"{f'från och med {from_date:%Y-%m-%d}' if locked.ended_at is None else 'direkt'}. "
            f"Skäl: {reason}"
        ),
    )
    return locked


@transaction.atomic
def employment_grants_end(
    *, employment: Employment, actor: User | None, actor_name: str = "", reason: str
) -> list[AccessGrant]:
    """End every open grant given for `employment`, as the employment ends (R17).

    A grant already stops working when its job ends (`AccessGrantQuerySet.usable`); ending it as
    well records when and why, and takes it off the approvers' review. `actor` None is the
    catalogue sync, named by `actor_name` in the log. Nobody is notified: the person has left
    the job, and the approvers see the ending in the log.
    """
    grants = list(
        AccessGrant.objects.select_for_update(of=("self",))
        .filter(employment=employment, ended_at__isnull=True)
        .select_related("mailbox__organisation", "user")
        .order_by("pk")
    )
    now = timezone.now()
    for grant in grants:
        grant.ended_at = now
        grant.ended_by = actor
        grant.end_reason = reason[:300]
        grant.save(update_fields=["ended_at", "ended_by", "end_reason"])
        access_log(
            action=AccessLog.Action.ADMIN,
            user=actor,
            actor_name=actor_name,
            organisation_name=employment.organisation.name,
            mailbox=grant.mailbox,
            detail=(
                f"Avslutade behörighet {_level_label(grant.level)} för "
                f"{grant.user.display_name()} när anställningen vid "
                f"{employment.organisation.name} upphörde. Skäl: {reason}"
            ),
        )
    return grants


def _personal_mailbox_name(user: User, organisation: Organisation, taken_by_other: bool) -> str:
    name = f"{user.get_full_name() or user.username}, {organisation.name}"
    # Two people of one name in one organisation: the HSA id tells their mailboxes apart.
    return f"{name} ({user.hsa_id or user.pk})" if taken_by_other else name


@transaction.atomic
def personal_mailbox_ensure(
    *, user: User, actor: User | None, actor_name: str = ""
) -> Mailbox | None:
    """Give an active person with an ongoing job their personal mailbox (R12), once, with a
    manage grant that works: on the job that already carries it, else on their first ongoing one.

    The mailbox belongs to that job's organisation and is named after the person. So Anna,
    whose job in Karlstad carried her mailbox, keeps it through her job in Arvika when Karlstad
    ends: it moves to Arvika and its grant to the Arvika job. Never reopens a closed mailbox.
    """
    jobs = list(
        Employment.objects.active()
        .filter(user=user)
        .select_related("organisation")
        .order_by("started_at", "pk")
    )
    box = Mailbox.objects.select_for_update().filter(owner=user).first()
    if not user.is_active or not jobs or (box is not None and box.is_closed):
        return box
    grant = None
    if box is not None:
        grant = (
            AccessGrant.objects.select_for_update(of=("self",))
            .filter(user=user, mailbox=box, ended_at__isnull=True)
            .select_related("employment")
            .first()
        )
    job = next((j for j in jobs if grant is not None and j.pk == grant.employment_id), jobs[0])

    def free_name(box: Mailbox | None) -> str:
        name = _personal_mailbox_name(user, job.organisation, taken_by_other=False)
        others = Mailbox.objects.filter(name=name)
        if box is not None:
            others = others.exclude(pk=box.pk)
        return _personal_mailbox_name(user, job.organisation, taken_by_other=others.exists())

    if box is None:
        box = Mailbox.objects.create(
            kind=Mailbox.Kind.PERSONAL,
            owner=user,
            organisation=job.organisation,
            name=free_name(None),
        )
        access_log(
            action=AccessLog.Action.ADMIN,
            mailbox=box,
            detail=f"Skapade den personliga brevlådan {box.name}",
            user=actor,
            actor_name=actor_name,
        )
    else:
        name = free_name(box)
        if box.organisation_id != job.organisation_id or box.name != name:
            before = box.name
            box.organisation = job.organisation
            box.name = name
            box.save(update_fields=["organisation", "name"])
            access_log(
                action=AccessLog.Action.ADMIN,
                mailbox=box,
                detail=f"Ändrade den personliga brevlådan {before} → {box.name}",
                user=actor,
                actor_name=actor_name,
            )
    if grant is not None and grant.employment_id == job.pk and grant.is_current():
        return box
    now = timezone.now()
    if grant is not None:
        grant.ended_at = now
        grant.ended_by = actor
        grant.end_reason = "Ersatt av behörighet på en pågående anställning"
        grant.save(update_fields=["ended_at", "ended_by", "end_reason"])
    AccessGrant.objects.create(
        user=user,
        employment=job,
        mailbox=box,
        level=AccessGrant.Level.MANAGE,
        valid_from=now,
        granted_by=actor,
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        organisation_name=job.organisation.name,
        mailbox=box,
        detail=(
            f"Gav {user.display_name()} behörighet {_level_label(AccessGrant.Level.MANAGE)} "
            f"till sin personliga brevlåda, på anställningen vid {job.organisation.name}"
        ),
        user=actor,
        actor_name=actor_name,
    )
    return box


# Mailbox administration (R5, R14, R24): system administrators, and for the local routine
# the superusers of the mailbox's organisation


def functional_mailbox_name_error(name: str, organisation: Organisation) -> str | None:
    """Every functional mailbox's name ends in `(FBL)`.

    R2: the health centre's mailbox for municipalities is named `Vc XX Allmänmedicinska
    mottagningen (FBL)`. A health centre may have other mailboxes with other names, but one
    that calls itself Allmänmedicinska must have that exact form, or senders miss it.
    """
    if not name.endswith("(FBL)"):
        return _("En funktionsbrevlådas namn slutar med ”(FBL)”.")
    # Near misses too ("Allmänmedicinsk mottagning", "allmanmedicinska"): senders look for the
    # exact name.
    mentions_general = re.search("allm[äa]nmedicinsk", name.casefold()) is not None
    if organisation.is_health_centre and mentions_general and not HEALTH_CENTRE_NAME.match(name):
        return _(
            "Vårdcentralens brevlåda för kommunerna heter ”Vc Ort Allmänmedicinska mottagningen"
            " (FBL)”, med ortens namn i stället för Ort."
        )
    return None


def _check_name(name: str, organisation: Organisation) -> None:
    error = functional_mailbox_name_error(name, organisation)
    if error:
        raise ValidationError({"name": error})


def _check_general_mailbox_stays(mailbox: Mailbox, name: str) -> None:
    """R2: renaming a health centre's last "Vc XX Allmänmedicinska mottagningen (FBL)" would
    leave municipalities no mailbox to choose."""
    if not mailbox.organisation.is_health_centre or HEALTH_CENTRE_NAME.match(name):
        return
    if not HEALTH_CENTRE_NAME.match(mailbox.name):
        return
    others = (
        Mailbox.objects.active()
        .functional()
        .filter(organisation=mailbox.organisation)
        .exclude(pk=mailbox.pk)
        .values_list("name", flat=True)
    )
    if not any(HEALTH_CENTRE_NAME.match(other) for other in others):
        raise ValidationError(
            {
                "name": _(
                    "Det här är vårdcentralens enda brevlåda för kommunerna (R2). Skapa den nya "
                    "”Vc Ort Allmänmedicinska mottagningen (FBL)” innan du byter namn på den här."
                )
            }
        )


def _check_hsa_id_free(hsa_id: str, mailbox_pk: int | None = None) -> None:
    # The database constraint's own message names the constraint, not the problem.
    taken = Mailbox.objects.filter(hsa_id=hsa_id)
    if mailbox_pk is not None:
        taken = taken.exclude(pk=mailbox_pk)
    if hsa_id and taken.exists():
        raise ValidationError({"hsa_id": _("HSA-id:t används redan av en annan brevlåda.")})


def _save_unique(mailbox: Mailbox, **save_options: Any) -> None:
    """Save, turning a name or HSA id taken a moment ago (another administrator, a double
    click) into a message instead of the database's IntegrityError."""
    try:
        with transaction.atomic():
            mailbox.save(**save_options)
    except IntegrityError:
        raise ValidationError(
            _("Det finns redan en brevlåda med det namnet eller HSA-id:t."), code="taken"
        ) from None


@transaction.atomic
def mailbox_create(
    *, actor: User, organisation: Organisation, name: str, hsa_id: str, phone: str
) -> Mailbox:
    _require_system_admin(actor)
    # One way to write "ä": a name typed with a combining mark is the same name.
    name = unicodedata.normalize("NFC", name)
    _check_name(name, organisation)
    _check_hsa_id_free(hsa_id)
    mailbox = Mailbox(
        kind=Mailbox.Kind.FUNCTIONAL,
        organisation=organisation,
        name=name,
        hsa_id=hsa_id,
        phone=phone,
    )
    mailbox.full_clean()
    _save_unique(mailbox)
    MonitoringRoutine.objects.create(mailbox=mailbox)
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        mailbox=mailbox,
        detail=f"Skapade funktionsbrevlådan {name} (HSA-id {hsa_id or 'saknas'})",
    )
    return mailbox


@transaction.atomic
def mailbox_update(*, actor: User, mailbox: Mailbox, name: str, hsa_id: str, phone: str) -> Mailbox:
    _require_system_admin(actor)
    locked = Mailbox.objects.select_for_update().select_related("organisation").get(pk=mailbox.pk)
    if locked.is_closed:
        raise _refuse(_("Brevlådan är stängd och kan inte ändras."), "closed")
    name = unicodedata.normalize("NFC", name)
    if locked.is_functional:
        _check_name(name, locked.organisation)
        _check_general_mailbox_stays(locked, name)
    _check_hsa_id_free(hsa_id, locked.pk)
    before = {"namn": locked.name, "HSA-id": locked.hsa_id, "telefon": locked.phone}
    locked.name, locked.hsa_id, locked.phone = name, hsa_id, phone
    locked.full_clean()
    _save_unique(locked, update_fields=["name", "hsa_id", "phone"])
    after = {"namn": name, "HSA-id": hsa_id, "telefon": phone}
    changes = "; ".join(
        f"{field} {before[field] or '–'} → {after[field] or '–'}"
        for field in before
        if before[field] != after[field]
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        mailbox=locked,
        detail=f"Ändrade brevlådans uppgifter: {changes or 'inget ändrat'}",
    )
    return locked


@transaction.atomic
def routine_update(
    *,
    actor: User,
    actor_employment: Employment | None = None,
    mailbox: Mailbox,
    monitors: list[User],
    check_times: Sequence[time],
    closed_days: Sequence[date] = (),
    emptied_by: str,
    holiday_cover: str,
    access_updated_by: str,
    reserve_phone: str = "",
    reserve_hours: str = "",
    reserve_instructions: str = "",
) -> MonitoringRoutine:
    """The mailbox's local routine (R5, R24), by a system administrator or a superuser of the
    mailbox's organisation. Monitors must hold a current grant on it."""
    locked = Mailbox.objects.select_for_update().select_related("organisation").get(pk=mailbox.pk)
    if not may_edit_routine(actor, actor_employment, locked):
        raise _refuse(
            _(
                "Bara systemförvaltare och superanvändare i brevlådans organisation får ändra "
                "den lokala rutinen."
            ),
            "forbidden",
        )
    if locked.is_closed:
        raise _refuse(_("Brevlådan är stängd och kan inte ändras."), "closed")
    holders = set(grant_holder_ids(locked))
    if any(user.pk not in holders for user in monitors):
        raise _refuse(_("Bevakare måste ha behörighet till brevlådan."), "monitor")
    if not check_times:
        raise _refuse(
            _("Ange minst en tid då brevlådan bevakas, till exempel 10:00, 15:00."), "times"
        )
    routine, _created = MonitoringRoutine.objects.get_or_create(mailbox=locked)
    routine.check_times = sorted(set(check_times))
    routine.closed_days = sorted(set(closed_days))
    routine.emptied_by = emptied_by.strip()
    routine.holiday_cover = holiday_cover.strip()
    routine.access_updated_by = access_updated_by.strip()
    routine.reserve_phone = reserve_phone.strip()
    routine.reserve_hours = reserve_hours.strip()
    routine.reserve_instructions = reserve_instructions.strip()
    routine.save()
    routine.monitors.set(monitors)
    names = ", ".join(sorted(u.display_name() for u in monitors)) or "inga"
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=actor_employment.organisation.name if actor_employment else "",
        mailbox=locked,
        detail=(
            f"Ändrade lokal rutin. Bevakare: {names}; bevakas {routine.check_times_text()}; "
            f"stängda dagar: {routine.closed_days_text() or 'inga'}"
        ),
    )
    return routine


@transaction.atomic
def mailbox_close(*, actor: User, mailbox: Mailbox, reason: str) -> Mailbox:
    """Close a functional mailbox for good (R14). It receives nothing more; grant holders keep
    reading its content until the purge. Pending requests are denied, preset lists drop it."""
    _require_system_admin(actor)
    locked = Mailbox.objects.select_for_update().select_related("organisation").get(pk=mailbox.pk)
    if locked.is_closed:
        raise _refuse(_("Brevlådan är redan stängd."), "closed")
    if not reason.strip():
        raise _refuse(_("Ange varför brevlådan stängs."), "reason")
    now = timezone.now()
    locked.closed_at = now
    locked.save(update_fields=["closed_at"])
    pending = list(
        AccessRequest.objects.pending().filter(mailbox=locked).select_related("applicant")
    )
    for access_request in pending:
        access_request.status = AccessRequest.Status.DENIED
        access_request.decision_reason = "Brevlådan är stängd"
        access_request.decided_by = actor
        access_request.decided_at = now
        access_request.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    for access_request in pending:
        notify_access(
            event=f"request-{access_request.pk}",
            user=access_request.applicant,
            mailbox=locked,
            text=_("Din ansökan om behörighet till %(mailbox)s är avslagen: brevlådan är stängd.")
            % {"mailbox": locked.name},
        )
    # Deleted one by one so django-auditlog records each removal.
    for entry in AddressListEntry.objects.filter(mailbox=locked):
        entry.delete()
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        mailbox=locked,
        detail=(
            f"Stängde brevlådan permanent. Skäl: {reason.strip()}. "
            f"Väntande ansökningar som avslogs: {len(pending)}"
        ),
    )
    return locked


@transaction.atomic
def address_list_add(*, actor: User, address_list: AddressList, mailbox: Mailbox) -> None:
    """Put a health centre's functional mailbox on a municipality's preset list (R3)."""
    _require_system_admin(actor)
    locked = (
        Mailbox.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=mailbox.pk)
    )
    if locked.is_closed or not locked.is_functional:
        raise _refuse(_("Bara öppna funktionsbrevlådor kan stå på en förvalslista."), "closed")
    if not locked.organisation.is_health_centre:
        # R3: the preset list names the municipality's health centres.
        raise _refuse(_("Förvalslistan tar bara vårdcentralers brevlådor."), "not_health_centre")
    if AddressListEntry.objects.filter(address_list=address_list, mailbox=locked).exists():
        raise _refuse(_("Brevlådan finns redan på förvalslistan."), "duplicate")
    last = address_list.entries.order_by("-position").values_list("position", flat=True).first()
    AddressListEntry.objects.create(
        address_list=address_list, mailbox=locked, position=(last or 0) + 1
    )
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=address_list.organisation.name,
        mailbox_name=locked.name,
        detail=f"Lade till {locked.name} på förvalslistan",
    )


@transaction.atomic
def address_list_remove(*, actor: User, entry: AddressListEntry) -> None:
    _require_system_admin(actor)
    organisation_name = entry.address_list.organisation.name
    mailbox_name = entry.mailbox.name
    entry.delete()
    access_log(
        action=AccessLog.Action.ADMIN,
        user=actor,
        organisation_name=organisation_name,
        mailbox_name=mailbox_name,
        detail=f"Tog bort {mailbox_name} från förvalslistan",
    )


def grant_mark_used(*, user: User, mailbox: Mailbox) -> None:
    """Note that the user used their grant on the mailbox, for the access review (R17).

    One UPDATE, at most once an hour per grant, so it is cheap enough for every mailbox view;
    none at all within the hour for a mailbox from get_mailbox_for_user, which read the time.
    Not audited: it is bookkeeping, and the read itself is in the access log.
    """
    now = timezone.now()
    used: datetime | None = getattr(mailbox, "grant_last_used_at", None)
    if used is not None and used >= now - timedelta(hours=1):
        return  # as get_mailbox_for_user read it: the UPDATE below would change no row
    AccessGrant.objects.current().filter(user=user, mailbox=mailbox).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(hours=1))
    ).update(last_used_at=now)


@transaction.atomic
def absence_set(*, user: User, mailbox: Mailbox, until: date | None, note: str) -> Mailbox:
    """Set (or with no date, clear) the owner's out-of-office note on a personal mailbox.

    Never on a functional mailbox (R13): it is monitored by the unit every day, whoever is away.
    """
    if mailbox.is_functional:
        raise _refuse(
            _(
                "Frånvarohantering får inte användas för funktionsbrevlådor. Brevlådan bevakas "
                "av enheten varje dag."
            ),
            "functional",
        )
    if mailbox.owner_id != user.pk:
        raise _refuse(_("Bara brevlådans ägare kan ändra frånvaron."), "owner")
    check_date_ahead(until)
    mailbox.absence_until = until
    mailbox.absence_note = note.strip() if until else ""
    mailbox.save(update_fields=["absence_until", "absence_note"])
    return mailbox


# Mailbox-check monitoring (R5, R24)


def mailbox_check_record(
    *, user: User, mailbox: Mailbox, routine: MonitoringRoutine | None, now: datetime | None = None
) -> None:
    """Record that the user checked the functional mailbox (opened its inbox).

    One row per person, mailbox and check period (the stretch up to the next check time, see
    MonitoringRoutine.check_periods): the first opening in a period is kept, later ones in the
    same period change nothing. Always one INSERT … ON CONFLICT DO NOTHING, so the inbox costs
    the same whether or not a row is written. Not audited: the row is itself the record, and
    the read is what the access log covers.
    """
    now = now or timezone.now()
    # Without a routine of its own the mailbox is held to the default check times.
    routine = routine or MonitoringRoutine(mailbox=mailbox)
    MailboxCheck.objects.bulk_create(
        [
            MailboxCheck(
                mailbox=mailbox,
                user=user,
                user_name=user.display_name(),
                at=now,
                period_end=routine.period_end(now),
            )
        ],
        ignore_conflicts=True,
    )


def mailbox_checks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The check job (every minute): alarm for each check time passed today unchecked (R5).

    For every open functional mailbox (without a routine of its own: the default one), on the
    routine's working days (no
    weekend, Swedish public holiday or eve, nor the routine's own closed days): a check time
    HH:MM is missed when its minute is over (from HH:MM+1, Stockholm time) and nobody with
    access opened the inbox since the previous check time's minute ended, or since midnight
    for the first check time of the day. A missed check time alarms the mailbox's monitors (or,
    without any, everyone with access) and its organisation's superusers, once: the alarm is
    recorded as a MissedCheck in the transaction that writes the notices.

    Reads only today's checks and alarms, so a sweep costs three queries when nothing is new,
    whatever the history. A check time missed while the job was not running is alarmed when it
    runs again the same day; earlier days are not looked back on.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"missed": 0, "notices": 0}
    # A mailbox nobody wrote a routine for is still watched, at the default check times.
    mailboxes = Mailbox.objects.functional().active().select_related("organisation", "routine")
    routines = [
        getattr(box, "routine", None) or MonitoringRoutine(mailbox=box) for box in mailboxes
    ]
    routines = [routine for routine in routines if routine.is_working_day(today)]
    if not routines:
        return counts
    checked: dict[int, list[datetime]] = {}
    for mailbox_id, at in MailboxCheck.objects.filter(
        at__gte=local_midnight(today), at__lt=now
    ).values_list("mailbox_id", "at"):
        checked.setdefault(mailbox_id, []).append(at)
    alarmed = set(MissedCheck.objects.filter(day=today).values_list("mailbox_id", "check_time"))
    for routine in routines:
        mailbox = routine.mailbox
        for period in routine.check_periods(today):
            if period.due > now:
                break
            if (mailbox.pk, period.check_time) in alarmed:
                continue
            if any(period.starts <= at < period.due for at in checked.get(mailbox.pk, [])):
                continue
            notices = _check_missed(mailbox=mailbox, day=today, period=period, now=now)
            if notices is not None:
                counts["missed"] += 1
                counts["notices"] += notices
    return counts


@transaction.atomic
def _check_missed(*, mailbox: Mailbox, day: date, period: CheckPeriod, now: datetime) -> int | None:
    """Alarm for one missed check time; None if another sweep got there first."""
    _alarm, created = MissedCheck.objects.get_or_create(
        mailbox=mailbox, day=day, check_time=period.check_time, defaults={"alarmed_at": now}
    )
    if not created:
        return None
    people = {user.pk: user for user in mailbox_watchers(mailbox)}
    people.update((user.pk, user) for user in organisation_superusers(mailbox.organisation_id))
    label = period.label()
    return notify_outbox(
        event=f"check-{mailbox.pk}-{day:%Y-%m-%d}-{period.check_time:%H%M}",
        kind=NotificationKind.CHECK_MISSED,
        users=people.values(),
        mailbox=mailbox,
        detail=label,
        url=reverse("messenger:mailbox", args=[mailbox.pk]),
        now=now,
    )
