"""Support and fault reports (R22): every signed-in person files and follows their own reports;
the organisation's superusers answer, close or escalate them; the region's system
administrators answer and close what is escalated. Anyone else gets 404.

A report may hold no personnummer (messenger.support refuses it), so these pages show no
patient data and write nothing to the access log.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AppRequest
from messenger import support
from messenger.forms import FaultReportForm, FaultReportReplyForm


@login_required
@require_http_methods(["GET", "POST"])
def support_page(request: AppRequest) -> HttpResponse:
    """The form, the person's own reports with their status, and the region's support."""
    form = FaultReportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            report = support.fault_report_create(
                reporter=request.user,
                employment=request.employment,
                what_happened=form.cleaned_data["what_happened"],
                happened_at=form.cleaned_data["happened_at"],
                mailbox=form.cleaned_data["mailbox"],
                client_token=form.cleaned_data["client_token"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Din felanmälan (nummer %(number)s) är skickad till superanvändarna.")
                % {"number": report.pk},
            )
            return redirect("messenger:support_report", pk=report.pk)
    return render(
        request,
        "messenger/support.html",
        {
            "form": form,
            "reports": support.reports_of(request.user),
            "support_contact": settings.SUPPORT_CONTACT,
            "may_use_queue": support.may_use_queue(request.user, request.employment),
        },
        status=400 if form.errors else 200,
    )


@login_required
def report(request: AppRequest, pk: int) -> HttpResponse:
    """One report and its answers: for its reporter and those who may handle it."""
    fault_report = support.get_report_for(request.user, request.employment, pk)
    may_handle = support.may_handle(request.user, request.employment, fault_report)
    return render(
        request,
        "messenger/support_report.html",
        {
            "report": fault_report,
            "events": fault_report.events.select_related("author"),
            "may_handle": may_handle and not fault_report.is_closed,
            "may_escalate": support.may_escalate(request.employment, fault_report),
            "reply_form": FaultReportReplyForm(),
            "support_contact": settings.SUPPORT_CONTACT,
        },
    )


@login_required
def queue(request: AppRequest) -> HttpResponse:
    """The superuser's organisation's reports, and for system administrators the escalated."""
    support.require_queue(request.user, request.employment)
    return render(
        request,
        "messenger/support_queue.html",
        {"reports": support.queue_for(request.user, request.employment)},
    )


_ACTIONS = {
    "answer": (support.fault_report_answer, gettext_lazy("Svaret är skickat.")),
    "close": (support.fault_report_close, gettext_lazy("Felanmälan är avslutad.")),
    "escalate": (
        support.fault_report_escalate,
        gettext_lazy("Felanmälan är skickad till regionen."),
    ),
}


def _act(request: AppRequest, pk: int, action: str) -> HttpResponse:
    # 404 before the form is read, for anyone who may not handle the report.
    fault_report = support.get_report_for(request.user, request.employment, pk)
    if not support.may_handle(request.user, request.employment, fault_report):
        raise Http404
    service, done = _ACTIONS[action]
    form = FaultReportReplyForm(request.POST)
    if not form.is_valid():
        for error in form["text"].errors:
            messages.error(request, str(error))
        return redirect("messenger:support_report", pk=pk)
    try:
        service(
            actor=request.user,
            employment=request.employment,
            pk=pk,
            text=form.cleaned_data["text"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, str(done))
    return redirect("messenger:support_report", pk=pk)


@login_required
@require_POST
def answer(request: AppRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "answer")


@login_required
@require_POST
def close(request: AppRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "close")


@login_required
@require_POST
def escalate(request: AppRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "escalate")
