from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.http import AppRequest
from audit.models import AccessLog
from audit.services import access_log_threads
from mailboxes.forms import AbsenceForm
from mailboxes.models import AccessGrant, Mailbox, MonitoringRoutine
from mailboxes.selectors import (
    checks_today,
    get_mailbox_for_user,
    grant_employment,
    grant_level,
    may_edit_routine,
)
from mailboxes.services import absence_set, grant_mark_used, mailbox_check_record
from messenger.forms import SearchForm
from messenger.models import Delivery, Thread
from messenger.selectors import (
    FOLDER_SLUGS,
    RESERVE_PRINT_LIMIT,
    SLUG_OF_FOLDER,
    folder_page,
    reserve_print,
    search_deliveries,
)
from messenger.services import trash_empty
from messenger.views.common import acting_employment, same_site_only


@login_required
@require_GET
@vary_on_headers("HX-Request")
def folder(request: AppRequest, pk: int) -> HttpResponse:
    box = get_mailbox_for_user(request.user, pk)
    grant_mark_used(user=request.user, mailbox=box)
    slug = request.GET.get("mapp", "inkorg")
    current = FOLDER_SLUGS.get(slug, Delivery.Folder.INBOX)
    page = folder_page(box, current, request.GET.get("efter", ""))
    # R24: who watches the mailbox and when, for everyone who works in it.
    routine = (
        MonitoringRoutine.objects.filter(mailbox=box).prefetch_related("monitors").first()
        if box.is_functional
        else None
    )
    checks = None
    if box.is_functional:
        if current == Delivery.Folder.INBOX and not box.is_closed:
            mailbox_check_record(user=request.user, mailbox=box, routine=routine)
        checks = checks_today(box)
    context = {
        "mailbox": box,
        "absence_form": _absence_form(request, box),
        "folder": current,
        "folder_slug": SLUG_OF_FOLDER[current],
        "folders": [(s, Delivery.Folder(f).label) for s, f in FOLDER_SLUGS.items()],
        "page": page,
        "can_send": grant_level(box) >= AccessGrant.Level.SEND and not box.is_closed,
        "routine": routine,
        "checks": checks,
        "can_edit_routine": not box.is_closed
        and may_edit_routine(request.user, request.employment, box),
    }
    template = "messenger/mailbox.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#folder-rows"
    return render(request, template, context)


WAITING_SHOWN = 100


@login_required
@require_GET
def waiting(request: AppRequest, pk: int) -> HttpResponse:
    """ "Väntar på svar": the mailbox's sent questions still unanswered, overdue first (R9)."""
    box = get_mailbox_for_user(request.user, pk)
    threads = Thread.objects.waiting_from(box)
    shown = list(threads.select_related("category", "recipient_mailbox")[: WAITING_SHOWN + 1])
    return render(
        request,
        "messenger/waiting.html",
        {
            "mailbox": box,
            "threads": shown[:WAITING_SHOWN],
            "more": threads.count() if len(shown) > WAITING_SHOWN else None,
            "now": timezone.now(),
            "can_send": grant_level(box) >= AccessGrant.Level.SEND and not box.is_closed,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def search(request: AppRequest, pk: int) -> HttpResponse:
    # The patient number travels in the POST body, never in the URL.
    box = get_mailbox_for_user(request.user, pk)
    results = None
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            results = search_deliveries(
                box,
                user=request.user,
                employment=acting_employment(request, box),
                patient_id=data["patient"],
                text=data["text"],
                category_id=data["category"].pk if data["category"] else None,
                state=data["state"],
            )
    else:
        form = SearchForm()
    template = "messenger/search.html"
    if request.htmx and request.method == "POST":
        template += "#search-results"
    return render(request, template, {"mailbox": box, "form": form, "results": results})


@login_required
@require_http_methods(["GET", "POST"])
def empty_trash(request: AppRequest, pk: int) -> HttpResponse:
    box = get_mailbox_for_user(request.user, pk, level=AccessGrant.Level.SEND)
    trashed = Delivery.objects.filter(mailbox=box, folder=Delivery.Folder.TRASH).count()
    if request.method == "POST":
        emptied = trash_empty(
            user=request.user, employment=acting_employment(request, box), mailbox=box
        )
        text = ngettext(
            "Papperskorgen är tömd (%(n)d ärende).",
            "Papperskorgen är tömd (%(n)d ärenden).",
            emptied,
        )
        messages.success(request, text % {"n": emptied})
        return redirect("messenger:mailbox", pk=box.pk)
    return render(request, "messenger/empty_trash.html", {"mailbox": box, "trashed": trashed})


def _absence_form(request: AppRequest, box: Mailbox) -> AbsenceForm | None:
    """Only the owner of a personal mailbox gets one; functional mailboxes have none (R13)."""
    if box.is_functional or box.owner_id != request.user.pk:
        return None
    return AbsenceForm(initial={"until": box.absence_until, "note": box.absence_note})


@login_required
@require_POST
def absence(request: AppRequest, pk: int) -> HttpResponse:
    box = get_mailbox_for_user(request.user, pk)
    form = AbsenceForm(request.POST)
    if form.is_valid():
        try:
            absence_set(
                user=request.user,
                mailbox=box,
                until=form.cleaned_data["until"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            if box.absence_until:
                messages.success(request, _("Din frånvaro är sparad."))
            else:
                messages.success(request, _("Du är markerad som tillbaka."))
    else:
        for field_errors in form.errors.values():
            for problem in field_errors:
                messages.error(request, str(problem))
    return redirect("messenger:mailbox", pk=box.pk)


@login_required
@require_GET
@same_site_only
def reserve_print_view(request: AppRequest, pk: int) -> HttpResponse:
    """The mailbox's open threads on paper for an outage (R21), a working document (R15).

    It shows the full patient numbers of many patients, so it writes one PRINT row for each
    thread listed, with its patient, like printing each thread: a patient's log extract shows
    this printout too. An empty printout writes one row without a patient.
    """
    box = get_mailbox_for_user(request.user, pk)
    with transaction.atomic():
        printout = reserve_print(box)
        employment = grant_employment(box, request.employments)
        listed = [(row.thread_id, row.patient_id) for row in printout.received + printout.waiting]
        access_log_threads(
            listed or [(None, "")],  # an empty printout is a print too
            action=AccessLog.Action.PRINT,
            user=request.user,
            organisation_name=employment.organisation.name if employment else "",
            mailbox=box,
            detail=f"Reservutskrift, {printout.count} ärenden",
        )
    routine = MonitoringRoutine.objects.filter(mailbox=box).first()
    return render(
        request,
        "messenger/reserve_print.html",
        {
            "mailbox": box,
            "routine": routine,
            "printout": printout,
            "limit": RESERVE_PRINT_LIMIT,
            "printed_at": timezone.now(),
        },
    )
