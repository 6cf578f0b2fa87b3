"""Log control for log reviewers (R18): their organisation's access log, and patients' log
extracts. Everyone else gets 404. Each search and extract is itself a row of the log."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.http import AppRequest
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.models import Mailbox
from mailboxes.selectors import require_log_reviewer
from messenger.forms import ExtractForm, LogFilterForm
from messenger.log_control import LogQuery, describe, log_page, patient_extract
from messenger.spreadsheet import cell, excel_csv
from messenger.templatetags.stamps import stamp


@login_required
@require_http_methods(["GET", "POST"])
def log_control(request: AppRequest) -> HttpResponse:
    """The organisation's rows newest first; the filter is posted, as it may name a patient."""
    employment = require_log_reviewer(request.employment)
    organisation = employment.organisation
    names = list(
        Mailbox.objects.filter(organisation=organisation)
        .order_by("name")
        .values_list("name", flat=True)
    )
    form = LogFilterForm(request.POST or None, mailbox_names=names)
    page = None
    query = LogQuery()
    if request.method == "GET" or form.is_valid():
        if form.is_bound:
            query = form.query()
        page = log_page(organisation, query, request.POST.get("efter", ""))
        access_log(
            action=AccessLog.Action.LOG_SEARCH,
            user=request.user,
            organisation_name=organisation.name,
            patient_id=query.patient_id,
            detail=f"{query.summary()}: {len(page.rows)} rader",
        )
    lines = [(row, describe(row)) for row in page.rows] if page else []
    return render(
        request,
        "messenger/log_control.html",
        {"form": form, "page": page, "lines": lines, "organisation": organisation},
        status=200 if page is not None else 400,
    )


CSV_COLUMNS = ["Tid", "Organisation", "Person", "Händelse", "Brevlåda"]


@login_required
@require_http_methods(["GET", "POST"])
def extract(request: AppRequest) -> HttpResponse:
    """A patient's log extract for a period: a printable page, or CSV for Swedish Excel
    (UTF-8 with BOM, semicolons). Only the rows in the reviewer's organisation's mailboxes."""
    employment = require_log_reviewer(request.employment)
    organisation = employment.organisation
    form = ExtractForm(request.POST or None)
    if not form.is_bound or not form.is_valid():
        return render(
            request,
            "messenger/log_extract.html",
            {"form": form, "organisation": organisation},
            status=400 if form.is_bound else 200,
        )
    query = form.query()
    rows = [(row, describe(row)) for row in patient_extract(organisation, query)]
    as_csv = request.POST.get("format") == "csv"
    access_log(
        action=AccessLog.Action.LOG_EXTRACT,
        user=request.user,
        organisation_name=organisation.name,
        patient_id=query.patient_id,
        detail=f"{'CSV' if as_csv else 'utskrift'}, {query.summary()}: {len(rows)} rader",
    )
    if as_csv:
        # No patient in the file's name either.
        return excel_csv(
            f"logguttag-{timezone.localdate():%Y-%m-%d}.csv",
            CSV_COLUMNS,
            (
                [
                    stamp(row.at),
                    cell(row.organisation_name),
                    cell(row.user_name),
                    row.get_action_display(),
                    cell(row.mailbox_name),
                ]
                for row, _text in rows
            ),
        )
    return render(
        request,
        "messenger/log_extract.html",
        {
            "form": form,
            "organisation": organisation,
            "query": query,
            "rows": rows,
            "made_at": timezone.now(),
        },
    )
