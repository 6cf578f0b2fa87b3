from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.http import AppRequest
from accounts.models import Role
from mailboxes.selectors import pending_requests_for
from messenger.selectors import mailboxes_with_unread


@login_required
@require_GET
def home(request: AppRequest) -> HttpResponse:
    mailboxes = list(mailboxes_with_unread(request.user))
    employment = request.employment
    # An access approver's work waiting for them; nobody else pays for the query.
    pending = None
    if employment is not None and employment.has_role(Role.ACCESS_APPROVER):
        pending = pending_requests_for(employment).count()
    return render(
        request,
        "messenger/home.html",
        {"mailboxes": mailboxes, "nav_mailboxes": mailboxes, "pending_requests": pending},
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def nav(request: AppRequest) -> HttpResponse:
    """The navigation's mailbox list with unread counts, polled by htmx every 30 s; the header's
    notification badge comes along, swapped out of band."""
    mailboxes = list(mailboxes_with_unread(request.user))
    return render(request, "messenger/nav_poll.html", {"nav_mailboxes": mailboxes, "oob": True})
