from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts.http import AppRequest
from accounts.models import Role
from mailboxes.selectors import pending_requests_for
from messenger.selectors import navigation_for, news_unread_for, tour_pending


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
            # R20: the news this user has not marked read.
            "news": news_unread_for(request.user, timezone.now()),
            "show_tour": tour_pending(request.user),  # R23: until "Jag har förstått"
        },
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def nav(request: AppRequest) -> HttpResponse:
    """The navigation's mailbox list with unread counts, polled by htmx every 30 s; the header's
    notification badge comes along, swapped out of band.

    Most of the app's traffic, and mostly unchanged: answered with 304 Not Modified when the
    browser already holds what it would show. The ETag is a hash of the fragment itself, so
    everything it shows (names, counts, language) is in it and nothing can go stale unseen.
    For the browser to send If-None-Match at all, it must keep the last response: `no-store`,
    which every other signed-in page gets, forbids that. `no-cache, private` lets only this
    browser keep it, and never reuse it without asking first; the fragment holds mailbox names
    and counts, never patient data. Each poll still reaches the server and still checks the
    session, so a signed-out user gets the login redirect as before.
    """
    navigation = navigation_for(request.user)
    response = render(
        request,
        "messenger/nav_poll.html",
        {
            "nav_mailboxes": navigation.mailboxes,
            "unread_notices": navigation.unread_notices,
            "oob": True,
        },
    )
    set_response_etag(response)
    patch_cache_control(response, no_cache=True, private=True)
    answer = get_conditional_response(request, etag=response["ETag"], response=response)
    assert answer is not None  # given a response, it returns that one or a 304
    # On the 304 too: no-store there would make the browser drop what it revalidated.
    answer.no_store_exempt = True  # type: ignore[attr-defined]
    return answer
