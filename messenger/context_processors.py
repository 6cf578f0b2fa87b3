from functools import cache
from typing import Any

from django.http import HttpRequest

from accounts import agreement
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
