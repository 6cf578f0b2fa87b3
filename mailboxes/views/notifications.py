"""A person's notifications and their choice of e-mail, per mailbox and kind of event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AppRequest
from accounts.models import Notification
from mailboxes.models import Mailbox
from mailboxes.notifications import email_choices, email_settings_save, kinds_for

SHOWN = 50


@login_required
@require_GET
def notification_list(request: AppRequest) -> HttpResponse:
    """The newest notices; those shown become read, so the header's badge empties."""
    notices = list(Notification.objects.filter(user=request.user)[:SHOWN])
    Notification.objects.unread().filter(pk__in=[n.pk for n in notices]).update(
        read_at=timezone.now()
    )
    return render(request, "mailboxes/notifications.html", {"notices": notices})


@login_required
@require_http_methods(["GET", "POST"])
def email_settings(request: AppRequest) -> HttpResponse:
    mailboxes = list(Mailbox.objects.granted_to(request.user).active().order_by("kind", "name"))
    status = 200
    if request.method == "POST":
        try:
            posted = [int(pk) for pk in request.POST.getlist("mailbox")]
        except ValueError:
            posted = [-1]
        chosen = {
            (pk, kind): f"{pk}-{kind}" in request.POST
            for pk in posted
            for kind in kinds_for(next((m for m in mailboxes if m.pk == pk), None))
        }
        try:
            email_settings_save(user=request.user, mailbox_ids=posted, chosen=chosen)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            status = 400
        else:
            messages.success(request, _("Dina val av e-post är sparade."))
            return HttpResponseRedirect(reverse("mailboxes:email_settings"))
    return render(
        request,
        "mailboxes/email_settings.html",
        {"rows": email_choices(request.user, mailboxes), "has_email": bool(request.user.email)},
        status=status,
    )
