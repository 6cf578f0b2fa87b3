from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db.models import Max
from django.dispatch import receiver
from django.utils.translation import ngettext

from accounts import agreement
from accounts.models import AgreementAcceptance, Notification


@receiver(user_logged_in)
def remember_agreement_and_announce_notifications(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    accepted = AgreementAcceptance.objects.filter(user=user).aggregate(v=Max("version"))["v"]
    session[agreement.SESSION_KEY] = accepted or 0
    unread = Notification.objects.unread().filter(user=user).count()
    if unread:
        messages.info(
            request,
            ngettext(
                "Du har %(count)d ny avisering under Aviseringar.",
                "Du har %(count)d nya aviseringar under Aviseringar.",
                unread,
            )
            % {"count": unread},
            fail_silently=True,
        )
