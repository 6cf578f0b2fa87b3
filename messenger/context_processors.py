import logging
from functools import cache
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest

from accounts import agreement
from messenger.models import Notice
from messenger.notices import banner_notices
from messenger.selectors import navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    # No user at all when a request is refused before authentication (a bad Host header).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if request.session.get(agreement.SESSION_KEY, 0) < agreement.CURRENT_VERSION:
        # R17: not even the mailboxes' names before the agreement is accepted, on the pages
        # the agreement gate does not stand in front of either: a 404, a refused form, the
        # agreement page itself.
        return {"hide_navigation": True}
    # Callables, so the query runs only if a template shows the navigation, and once for both;
    # a view that already has the navigation passes nav_mailboxes and unread_notices itself.
    navigation = cache(lambda: navigation_for(user))
    return {
        "nav_mailboxes": lambda: navigation().mailboxes,
        "unread_notices": lambda: navigation().unread_notices,
    }


def notice_banner(request: HttpRequest) -> dict[str, Any]:
    """The active outage and maintenance notices (R20) for base.html's banner, on every page,
    the sign-in page too (where an outage of the sign-in matters most): a notice holds no
    patient data, and the Atom feed publishes it anyway. A callable, so a page that does not
    render base.html pays nothing; cached in the process for 30 s (messenger.notices), so most
    pages pay no query either."""
    return {"notice_banner": _banner}


def _banner() -> list[Notice]:
    # The sign-in page needed no database before it had a banner: with the database down it
    # still shows, without the banner, rather than failing.
    try:
        return banner_notices()
    except DatabaseError:
        logging.getLogger(__name__).warning("notice banner left out: the database did not answer")
        return []
