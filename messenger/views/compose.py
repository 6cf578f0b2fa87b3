from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AppRequest
from mailboxes.models import AccessGrant
from mailboxes.selectors import get_mailbox_for_user
from messenger.forms import ComposeForm
from messenger.models import Message
from messenger.selectors import preset_recipients, search_recipients
from messenger.services import thread_start
from messenger.views.common import acting_employment


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: AppRequest, pk: int) -> HttpResponse:
    sender = get_mailbox_for_user(request.user, pk, level=AccessGrant.Level.SEND)
    employment = acting_employment(request, sender)
    if sender.is_closed:
        messages.error(request, _("Brevlådan är stängd. Inga meddelanden kan skickas från den."))
        return redirect("messenger:mailbox", pk=sender.pk)
    form = ComposeForm(request.POST or None, sender=sender)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token = data["client_token"]
        already = Message.objects.filter(client_token=token).exists()
        try:
            thread = thread_start(
                author=request.user,
                employment=employment,
                sender_mailbox=sender,
                recipient_mailbox=data["recipient"],
                category=data["category"],
                subject=data["subject"],
                patient_id=data["patient"],
                body=data["body"],
                client_token=token,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if already:
                messages.info(request, _("Meddelandet var redan skickat. Det skickades en gång."))
            else:
                messages.success(
                    request,
                    _("Meddelandet är skickat till %(to)s.") % {"to": thread.recipient_mailbox},
                )
            return redirect("messenger:thread", mailbox_pk=sender.pk, thread_pk=thread.pk)
    preset = preset_recipients(employment, sender)
    chosen = getattr(form, "cleaned_data", {}).get("recipient")
    return render(
        request,
        "messenger/compose.html",
        {
            "mailbox": sender,
            "form": form,
            "preset": preset,
            "chosen": chosen.pk if chosen else None,
            # A mailbox picked from the global list stays picked when the form comes back.
            "found": [chosen] if chosen and chosen not in preset else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def recipients(request: AppRequest, pk: int) -> HttpResponse:
    """htmx: the global address list, searched as the user types a mailbox name."""
    sender = get_mailbox_for_user(request.user, pk, level=AccessGrant.Level.SEND)
    query = request.GET.get("q", "")[:100]
    # A mailbox already chosen from an earlier search stays chosen and on the list.
    chosen = request.GET.get("recipient", "")
    chosen_pk = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 18 else None
    found = search_recipients(query, sender, keep=chosen_pk)
    return render(
        request,
        "messenger/compose.html#recipient-results",
        {"found": found, "query": query, "chosen": chosen_pk},
    )
