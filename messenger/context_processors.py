from typing import Any

from django.http import HttpRequest

from accounts import agreement
from accounts.models import Notification
from messenger.selectors import mailboxes_with_unread


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
    # A callable, so the query runs only if a template shows the navigation; a view that already
    # has the list passes nav_mailboxes itself.
    return {
        "nav_mailboxes": lambda: list(mailboxes_with_unread(user)),
        "unread_notices": lambda: Notification.objects.unread().filter(user=user).count(),
    }
