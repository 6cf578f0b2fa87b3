from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.services import access_denied_log
from mailboxes.models import Mailbox
from mailboxes.selectors import Refused


class RefusedAccessLogMiddleware:
    """Writes each refused mailbox or thread URL to the access log as a denied attempt (R18).

    The doors (get_mailbox_for_user, get_delivery_for_user) raise Refused; it is logged here
    rather than where it is raised, for two reasons:

    - It outlives the view's transaction. The thread view opens the delivery inside
      `transaction.atomic()`, and the 404 rolls back everything written in it, so a row written
      by the door would vanish. process_exception runs after the exception has left the view and
      every atomic block in it (ATOMIC_REQUESTS included), so the row is committed on its own.
    - Exactly once per request. A request ends at its first refusal, whichever door or doors the
      view goes through (get_delivery_for_user calls get_mailbox_for_user first), and every view,
      today's and tomorrow's, is covered without a line of its own.

    Returning None lets Django answer as for any Http404: the same page and status as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if not isinstance(exception, Refused) or not request.user.is_authenticated:
            return None
        # The organisation the user works in right now (WorkingOrganisationMiddleware): no
        # grant's employment to go by, as the door said no.
        employment = getattr(request, "employment", None)
        # The mailbox's owner sees the attempt in its log control too (none for an id that
        # names no mailbox). The row is the reviewers' to read; the user still learns nothing.
        owner = (
            Mailbox.objects.filter(pk=exception.mailbox_id)
            .values_list("organisation__name", flat=True)
            .first()
        )
        access_denied_log(
            user=request.user,
            organisation_name=employment.organisation.name if employment is not None else "",
            mailbox_organisation_name=owner or "",
            mailbox_id=exception.mailbox_id,
            thread_id=exception.thread_id,
        )
        return None
