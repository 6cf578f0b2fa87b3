from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AppRequest
from accounts.models import Employment
from mailboxes.models import Mailbox
from mailboxes.selectors import grant_employment
from messenger.models import Delivery


def acting_employment(request: AppRequest, row: Mailbox | Delivery) -> Employment:
    """The job the user acts in within the mailbox of `row`, fetched by get_mailbox_for_user or
    get_delivery_for_user: the employment its grant was given for, whatever organisation the
    switcher says the user works in now (R18). Every access-log row and signature of an action
    in a mailbox takes its organisation and profession from here."""
    return grant_employment(row, request.employments)


def same_site_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A link on another site must not open a thread in the user's name.

    Opening marks the thread read and may set "opened first" and write the access log: a
    page elsewhere could make a signed-in browser do that unseen. A navigation the browser
    marks cross-site (Sec-Fetch-Site) gets a page that asks for one click here instead; links
    typed, bookmarked or opened from a mail program arrive without the mark.
    """

    @wraps(view)
    def wrapped(request: AppRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return render(request, "messenger/cross_site.html", {"target": request.path})
        return view(request, *args, **kwargs)

    return wrapped
