from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.http import AppRequest
from accounts.models import Employment


def working_employment(request: AppRequest) -> Employment:
    """The organisation the user works in now; someone with none can do nothing here."""
    if request.employment is None:
        raise Http404
    return request.employment


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
