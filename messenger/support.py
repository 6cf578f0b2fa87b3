"""Support and fault reports (R22): the unit's superusers first, then the region.

A fault report goes to the superusers of the reporter's working organisation. They answer it,
close it, or escalate it to the region's system administrators, who then answer and close it
too. The reporter follows the report's status and its answers. No report may hold a
personnummer: superusers and administrators read it without a grant to any mailbox, and support
is not patient care.

Reads and writes of this one feature live here, as `log_review.py` does for R18; every write
is one transaction.
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Employment, Role, User
from accounts.validators import looks_like_patient_number
from mailboxes.models import Mailbox
from mailboxes.notifications import notify_support
from mailboxes.selectors import organisation_superusers
from messenger.models import FaultReport, FaultReportEvent

MAX_TEXT = 2000


def _refuse_patient_number(field: str, text: str) -> None:
    if looks_like_patient_number(text):
        raise ValidationError(
            {
                field: _(
                    "Skriv inte personnummer i en felanmälan. Beskriv felet utan patientuppgifter."
                )
            },
            code="patient_number",
        )


# Who may see and handle what.


def is_org_superuser(employment: Employment | None, report: FaultReport) -> bool:
    """A superuser of the report's organisation, working for it now."""
    return (
        employment is not None
        and employment.organisation_id == report.organisation_id
        and employment.has_role(Role.SUPERUSER)
    )


def is_region_handler(user: User, report: FaultReport) -> bool:
    """A system administrator, for a report that has been escalated to the region."""
    return user.is_superuser and report.escalated_at is not None


def may_handle(user: User, employment: Employment | None, report: FaultReport) -> bool:
    return is_org_superuser(employment, report) or is_region_handler(user, report)


def may_escalate(employment: Employment | None, report: FaultReport) -> bool:
    return is_org_superuser(employment, report) and report.status in (
        FaultReport.Status.NEW,
        FaultReport.Status.ANSWERED,
    )


def may_use_queue(user: User, employment: Employment | None) -> bool:
    return user.is_superuser or (employment is not None and employment.has_role(Role.SUPERUSER))


def require_queue(user: User, employment: Employment | None) -> None:
    """The queue is for superusers and system administrators; 404 for everyone else."""
    if not may_use_queue(user, employment):
        raise Http404


def reports_of(user: User) -> QuerySet[FaultReport]:
    """The reporter's own reports, newest first."""
    return FaultReport.objects.filter(reporter=user).select_related("mailbox")


def queue_for(user: User, employment: Employment | None) -> QuerySet[FaultReport]:
    """Open reports first: the superuser's organisation's, and for a system administrator the
    escalated reports of every organisation."""
    scope = Q(pk__in=[])
    if employment is not None and employment.has_role(Role.SUPERUSER):
        scope |= Q(organisation_id=employment.organisation_id)
    if user.is_superuser:
        scope |= Q(escalated_at__isnull=False)
    return (
        FaultReport.objects.filter(scope)
        .select_related("reporter", "organisation", "mailbox")
        .annotate(
            closed=Case(
                When(status=FaultReport.Status.CLOSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-created_at", "-pk")
    )


def get_report_for(user: User, employment: Employment | None, pk: int) -> FaultReport:
    """The report, for its reporter or one who may handle it; 404 for everyone else."""
    report = (
        FaultReport.objects.select_related("reporter", "organisation", "mailbox")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    if report.reporter_id != user.pk and not may_handle(user, employment, report):
        raise Http404
    return report


# Writes.


def _report_url(report: FaultReport) -> str:
    return reverse("messenger:support_report", args=[report.pk])


@transaction.atomic
def fault_report_create(
    *,
    reporter: User,
    employment: Employment | None,
    what_happened: str,
    happened_at: datetime | None = None,
    mailbox: Mailbox | None = None,
    client_token: UUID | None = None,
) -> FaultReport:
    """File a fault report for the reporter's working organisation and tell its superusers.

    The same form posted twice (the same `client_token`) files one report.
    """
    if client_token is not None:
        earlier = FaultReport.objects.filter(client_token=client_token, reporter=reporter).first()
        if earlier is not None:
            return earlier
    if employment is None:
        raise ValidationError(
            _("Du arbetar inte för någon organisation just nu och kan inte göra en felanmälan.")
        )
    what_happened = what_happened.strip()
    if not what_happened:
        raise ValidationError({"what_happened": _("Beskriv vad som hände.")})
    if len(what_happened) > MAX_TEXT:
        raise ValidationError({"what_happened": _("Beskriv felet med högst 2000 tecken.")})
    _refuse_patient_number("what_happened", what_happened)
    granted = Mailbox.objects.granted_to(reporter)
    if mailbox is not None and not granted.filter(pk=mailbox.pk).exists():
        raise ValidationError(
            {"mailbox": _("Du har inte behörighet till den brevlådan. Välj en av dina brevlådor.")}
        )
    try:
        with transaction.atomic():
            report = FaultReport.objects.create(
                reporter=reporter,
                organisation_id=employment.organisation_id,
                mailbox=mailbox,
                what_happened=what_happened,
                happened_at=happened_at or timezone.now(),
                client_token=client_token,
            )
    except IntegrityError:
        # The same form, posted twice at once: the other request filed it.
        return FaultReport.objects.get(client_token=client_token, reporter=reporter)
    notify_support(
        event=f"fault-report-{report.pk}",
        users=organisation_superusers(report.organisation_id).exclude(pk=reporter.pk),
        text=_("En ny felanmälan (nummer %(number)s) väntar på svar.") % {"number": report.pk},
        url=_report_url(report),
    )
    return report


def _locked_report(user: User, employment: Employment | None, pk: int) -> FaultReport:
    report = FaultReport.objects.select_for_update().filter(pk=pk).first()
    if report is None or not may_handle(user, employment, report):
        raise Http404
    if report.is_closed:
        raise ValidationError(_("Felanmälan är avslutad och kan inte ändras."))
    return report


def _clean_text(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise ValidationError({"text": _("Skriv ett svar.")})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": _("Skriv högst 2000 tecken.")})
    _refuse_patient_number("text", text)
    return text


def _step(
    report: FaultReport,
    actor: User,
    kind: str,
    status: str,
    text: str,
    *,
    tell: Iterable[User],
    news: str,
    **changes: object,
) -> FaultReport:
    """One step in a report's handling: its event, its new status, and the news to `tell`."""
    event = FaultReportEvent.objects.create(report=report, author=actor, kind=kind, text=text)
    report.status = status
    for field, value in changes.items():
        setattr(report, field, value)
    report.save(update_fields=["status", *changes])
    notify_support(
        event=f"fault-report-event-{event.pk}", users=tell, text=news, url=_report_url(report)
    )
    return report


@transaction.atomic
def fault_report_answer(
    *, actor: User, employment: Employment | None, pk: int, text: str
) -> FaultReport:
    """Answer a report: the reporter sees the answer and is told of it."""
    report = _locked_report(actor, employment, pk)
    return _step(
        report,
        actor,
        FaultReportEvent.Kind.ANSWER,
        FaultReport.Status.ANSWERED,
        _clean_text(text, required=True),
        tell=[report.reporter],
        news=_("Din felanmälan (nummer %(number)s) har fått svar.") % {"number": report.pk},
    )


@transaction.atomic
def fault_report_close(
    *, actor: User, employment: Employment | None, pk: int, text: str = ""
) -> FaultReport:
    """Close a report, with a last word if any; the reporter is told."""
    report = _locked_report(actor, employment, pk)
    return _step(
        report,
        actor,
        FaultReportEvent.Kind.CLOSE,
        FaultReport.Status.CLOSED,
        _clean_text(text, required=False),
        tell=[report.reporter],
        news=_("Din felanmälan (nummer %(number)s) är avslutad.") % {"number": report.pk},
    )


@transaction.atomic
def fault_report_escalate(
    *, actor: User, employment: Employment | None, pk: int, text: str = ""
) -> FaultReport:
    """Send a report on to the region's system administrators, who are told (R22)."""
    report = _locked_report(actor, employment, pk)
    if not may_escalate(employment, report):
        raise ValidationError(
            _("Bara organisationens superanvändare kan skicka felanmälan till regionen.")
        )
    return _step(
        report,
        actor,
        FaultReportEvent.Kind.ESCALATION,
        FaultReport.Status.ESCALATED,
        _clean_text(text, required=False),
        tell=User.objects.filter(is_superuser=True, is_active=True),
        news=_("En felanmälan (nummer %(number)s) från %(organisation)s är skickad till regionen.")
        % {"number": report.pk, "organisation": report.organisation.name},
        escalated_at=timezone.now(),
    )
