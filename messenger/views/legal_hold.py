"""Legal hold, for system administrators: threads the purge leaves alone (R16). Others get 404.

The administrator names a thread by its number and holds no grant to its mailboxes, so these
pages show neither patient nor subject and write nothing patient-related to the access log.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AppRequest
from mailboxes.selectors import require_system_admin
from messenger.forms import LegalHoldForm
from messenger.selectors import threads_on_legal_hold
from messenger.services import thread_legal_hold, thread_legal_release


@login_required
@require_http_methods(["GET", "POST"])
def holds(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = LegalHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = thread_legal_hold(
                actor=request.user,
                thread_id=form.cleaned_data["thread_number"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Ärende %(number)s är i bevarande och gallras inte förrän det hävs.")
                % {"number": thread.pk},
            )
            return redirect("messenger:legal_holds")
    return render(
        request,
        "messenger/legal_holds.html",
        {"form": form, "threads": threads_on_legal_hold()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def release(request: AppRequest, thread_pk: int) -> HttpResponse:
    require_system_admin(request.user)
    try:
        thread_legal_release(actor=request.user, thread_id=thread_pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Bevarandet av ärende %(number)s är hävt. Gamla meddelanden gallras från nästa natt.")
            % {"number": thread_pk},
        )
    return redirect("messenger:legal_holds")
