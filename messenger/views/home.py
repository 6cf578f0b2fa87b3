from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.http import AppRequest
from accounts.models import Role
from mailboxes.selectors import pending_requests_for
from messenger.selectors import navigation_for


@login_required
@require_GET
def home(request: AppRequest) -> HttpResponse:
    navigation = navigation_for(request.user)
    employment = request.employment
    # An access approver's work waiting for them; nobody else pays for the query.
    pending = None
    if employment is not None and employment.has_role(Role.ACCESS_APPROVER):
        pending = pending_requests_for(employment).count()
    return render(
        request,
        "messenger/home.html",
        {
            "mailboxes": navigation.mailboxes,
            "nav_mailboxes": navigation.mailboxes,
            "unread_notices": navigation.unread_notices,
            "pending_requests": pending,
        },
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def nav(request: AppRequest) -> HttpResponse:
    """The navigation's mailbox list with unread counts, polled by htmx every 30 s; the header's
    notification badge comes along, swapped out of band."""
    navigation = navigation_for(request.user)
    return render(
        request,
        "messenger/nav_poll.html",
        {
            "nav_mailboxes": navigation.mailboxes,
            "unread_notices": navigation.unread_notices,
            "oob": True,
        },
    )
