"""Access requests, decisions, review and ending of grants (R17, R24)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AppRequest
from accounts.models import Notification
from mailboxes.forms import APPROVE, AccessRequestForm, DecisionForm, GrantEndForm
from mailboxes.models import AccessGrant, AccessRequest
from mailboxes.selectors import (
    get_grant_for_approver,
    get_own_grant,
    get_request_for_approver,
    grants_for_review,
    pending_requests_for,
    require_approver,
)
from mailboxes.services import (
    access_request_approve,
    access_request_create,
    access_request_deny,
    grant_end,
)


@login_required
@require_GET
def my_access(request: AppRequest) -> HttpResponse:
    """The user's grants, requests and access notifications; shown notifications become read."""
    user = request.user
    grants = (
        AccessGrant.objects.current()
        .filter(user=user, mailbox__kind="functional")
        .select_related("mailbox__organisation")
    )
    access_requests = AccessRequest.objects.filter(applicant=user).select_related("mailbox")[:20]
    notifications = list(Notification.objects.filter(user=user)[:10])
    Notification.objects.unread().filter(user=user).update(read_at=timezone.now())
    return render(
        request,
        "mailboxes/my_access.html",
        {"grants": grants, "access_requests": access_requests, "notifications": notifications},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: AppRequest) -> HttpResponse:
    form = AccessRequestForm(request.POST or None, user=request.user, employment=request.employment)
    if request.method == "POST" and form.is_valid():
        try:
            access_request_create(
                applicant=form.chosen_applicant(),
                requested_by=request.user,
                requested_by_employment=request.employment,
                mailbox=form.cleaned_data["mailbox"],
                level=form.cleaned_data["level"],
                justification=form.cleaned_data["justification"],
                requested_until=form.cleaned_data["requested_until"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Ansökan är skickad till behörighetsbeställarna för %(mailbox)s.")
                % {"mailbox": form.cleaned_data["mailbox"].name},
            )
            return HttpResponseRedirect(reverse("mailboxes:my_access"))
    return render(request, "mailboxes/request_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def grant_give_up(request: AppRequest, pk: int) -> HttpResponse:
    grant = get_own_grant(request.user, pk)
    if request.method == "GET":
        # Asked first: giving a grant back cannot be undone without a new application.
        return render(request, "mailboxes/grant_give_up.html", {"grant": grant})
    try:
        grant_end(grant=grant, actor=request.user, actor_employment=request.employment, reason="")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Du har lämnat tillbaka behörigheten till %(mailbox)s.")
            % {"mailbox": grant.mailbox.name},
        )
    return HttpResponseRedirect(reverse("mailboxes:my_access"))


@login_required
@require_GET
def approvals(request: AppRequest) -> HttpResponse:
    employment = require_approver(request.employment)
    return render(
        request,
        "mailboxes/approvals.html",
        {"employment": employment, "access_requests": pending_requests_for(employment)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_decide(request: AppRequest, pk: int) -> HttpResponse:
    employment = require_approver(request.employment)
    access_request = get_request_for_approver(employment, pk)
    requested_until = access_request.requested_until
    if requested_until is not None and requested_until < timezone.localdate():
        requested_until = None  # passed while the request waited: not a date to offer
    form = DecisionForm(
        request.POST or None,
        decision=request.POST.get("decision"),
        initial={"valid_until": requested_until},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if form.decision == APPROVE:
                access_request_approve(
                    access_request=access_request,
                    approver=request.user,
                    approver_employment=employment,
                    risk_assessed=data["risk_assessed"],
                    risk_note=data["risk_note"],
                    reason=data["reason"],
                    valid_until=data["valid_until"],
                )
                done = _("Ansökan är beviljad.")
            else:
                access_request_deny(
                    access_request=access_request,
                    approver=request.user,
                    approver_employment=employment,
                    risk_assessed=data["risk_assessed"],
                    risk_note=data["risk_note"],
                    reason=data["reason"],
                )
                done = _("Ansökan är avslagen.")
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, done)
            return HttpResponseRedirect(reverse("mailboxes:approvals"))
    return render(
        request,
        "mailboxes/request_decide.html",
        {"access_request": access_request, "form": form},
    )


@login_required
@require_GET
def grant_review(request: AppRequest) -> HttpResponse:
    employment = require_approver(request.employment)
    days = settings.GRANT_REVIEW_DAYS
    grants = list(grants_for_review(employment))
    now = timezone.now()
    rows = [
        {
            "grant": g,
            "age_days": (now - g.valid_from).days,
            # Unused for long, or the job it was given for has ended: ask whether to end it.
            "flagged": g.needs_review(days=days) or g.employment.ended_at is not None,
        }
        for g in grants
    ]
    rows.sort(key=lambda r: not r["flagged"])
    return render(
        request,
        "mailboxes/grant_review.html",
        {
            "employment": employment,
            "rows": rows,
            "days": days,
            "flagged_count": sum(1 for r in rows if r["flagged"]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def grant_end_view(request: AppRequest, pk: int) -> HttpResponse:
    employment = require_approver(request.employment)
    grant = get_grant_for_approver(employment, pk)
    form = GrantEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant_end(
                grant=grant,
                actor=request.user,
                actor_employment=employment,
                reason=form.cleaned_data["reason"],
                from_date=form.cleaned_data["from_date"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Behörigheten för %(name)s till %(mailbox)s är avslutad.")
                % {"name": grant.user.display_name(), "mailbox": grant.mailbox.name},
            )
            return HttpResponseRedirect(reverse("mailboxes:grant_review"))
    return render(request, "mailboxes/grant_end.html", {"grant": grant, "form": form})
