from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AppRequest
from audit.models import AccessLog
from mailboxes.models import AccessGrant
from mailboxes.selectors import grant_level
from mailboxes.services import grant_mark_used
from messenger.forms import FollowUpForm, ForwardForm, JournalLinkForm, MoveForm, ReplyForm
from messenger.models import Delivery, ThreadEvent
from messenger.selectors import (
    SLUG_OF_FOLDER,
    absent_colleagues,
    forward_candidates,
    get_delivery_for_user,
    log_thread_access,
    thread_content,
)
from messenger.services import (
    delivery_mark_unread,
    delivery_move,
    delivery_open,
    journal_link_attach,
    may_link,
    may_link_medication_list,
    message_forward,
    message_reply,
    question_follow_up,
)
from messenger.views.common import acting_employment, same_site_only


def _render_thread(
    request: AppRequest,
    delivery: Delivery,
    *,
    reply_form: ReplyForm | None = None,
    link_form: JournalLinkForm | None = None,
    follow_up_form: FollowUpForm | None = None,
    link_attached: bool = False,
    status: int = 200,
) -> HttpResponse:
    can_send = grant_level(delivery) >= AccessGrant.Level.SEND and not delivery.mailbox.is_closed
    can_link = can_send and may_link(acting_employment(request, delivery), delivery.mailbox)
    thread = delivery.thread
    content = thread_content(thread)
    # R9: the asking side follows up an open question by phone, above all once it is overdue.
    asking = thread.has_open_question() and not thread.is_receiving_side(delivery.mailbox_id)
    context = {
        "mailbox": delivery.mailbox,
        "delivery": delivery,
        "thread": delivery.thread,
        "content": content,
        # Who else reads a reply here: every other mailbox holding the thread.
        "reply_goes_to": [
            h.mailbox.name for h in content.holders if h.mailbox_id != delivery.mailbox_id
        ],
        "link_attached": link_attached,
        "deadline": thread.deadline(timezone.now()),
        "can_send": can_send,
        "can_follow_up": can_send and asking,
        "follow_up_form": follow_up_form or FollowUpForm(),
        "can_link": can_link,
        "reply_form": reply_form or ReplyForm(),
        "link_form": link_form
        or JournalLinkForm(medication_list=may_link_medication_list(delivery.mailbox)),
        "folder_slug": SLUG_OF_FOLDER[delivery.folder],
        "folders": delivery.folder_choices(),
    }
    return render(request, "messenger/thread.html", context, status=status)


def _delivery(
    request: AppRequest,
    mailbox_pk: int,
    thread_pk: int,
    *,
    level: int = AccessGrant.Level.READ,
    log_as: str | None = None,
) -> Delivery:
    return get_delivery_for_user(
        request.user,
        mailbox_id=mailbox_pk,
        thread_id=thread_pk,
        level=level,
        log_as=log_as,
        employments=request.employments,
    )


def _back_to_thread(delivery: Delivery) -> HttpResponse:
    return redirect(
        "messenger:thread", mailbox_pk=delivery.mailbox_id, thread_pk=delivery.thread_id
    )


@login_required
@require_GET
@same_site_only
def thread(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    # One transaction: the access-log row, the read mark and the grant's last use together.
    with transaction.atomic():
        delivery = _delivery(request, mailbox_pk, thread_pk, log_as=AccessLog.Action.VIEW_THREAD)
        delivery_open(user=request.user, delivery=delivery)
        grant_mark_used(user=request.user, mailbox=delivery.mailbox)
    return _render_thread(request, delivery)


@login_required
@require_POST
def reply(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    delivery = _delivery(request, mailbox_pk, thread_pk, level=AccessGrant.Level.SEND)
    employment = acting_employment(request, delivery)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            message_reply(
                author=request.user,
                employment=employment,
                delivery=delivery,
                body=form.cleaned_data["body"],
                client_token=form.cleaned_data["client_token"],
            )
        except ValidationError as error:
            if error.code == "thread_gone":
                messages.error(request, error.message)
                return redirect("messenger:mailbox", pk=delivery.mailbox_id)
            form.add_error(None, error)
        else:
            messages.success(request, _("Svaret är skickat."))
            return _back_to_thread(delivery)
    log_thread_access(request.user, employment, delivery, action=AccessLog.Action.VIEW_THREAD)
    return _render_thread(request, delivery, reply_form=form, status=400)


@login_required
@require_POST
def attach_link(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    delivery = _delivery(request, mailbox_pk, thread_pk, level=AccessGrant.Level.SEND)
    employment = acting_employment(request, delivery)
    # Those who may not link at all are refused by the service (403), whatever they chose.
    form = JournalLinkForm(
        request.POST,
        medication_list=may_link_medication_list(delivery.mailbox)
        or not may_link(employment, delivery.mailbox),
    )
    status = 400
    attached = False
    if form.is_valid():
        try:
            journal_link_attach(
                actor=request.user,
                employment=employment,
                delivery=delivery,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                reference=form.cleaned_data["reference"],
                client_token=form.cleaned_data["client_token"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 403  # R11: the server refuses municipal staff, not only the page
        else:
            if not request.htmx:
                messages.success(request, _("Länken är bifogad."))
                return _back_to_thread(delivery)
            # htmx swaps in only the links part of this page: a reply being written stays.
            attached = True
    log_thread_access(request.user, employment, delivery, action=AccessLog.Action.VIEW_THREAD)
    if attached:
        return _render_thread(request, delivery, link_attached=True)
    # htmx shows the form's errors only from a 200.
    return _render_thread(request, delivery, link_form=form, status=200 if request.htmx else status)


@login_required
@require_POST
def follow_up(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    delivery = _delivery(request, mailbox_pk, thread_pk, level=AccessGrant.Level.SEND)
    employment = acting_employment(request, delivery)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            question_follow_up(
                actor=request.user,
                employment=employment,
                delivery=delivery,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Uppföljningen per telefon är sparad. Inga fler larm."))
            return _back_to_thread(delivery)
    log_thread_access(request.user, employment, delivery, action=AccessLog.Action.VIEW_THREAD)
    return _render_thread(request, delivery, follow_up_form=form, status=400)


@login_required
@require_POST
def move(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    # Folders are the unit's shared state: a read-only grant looks but does not sort.
    delivery = _delivery(request, mailbox_pk, thread_pk, level=AccessGrant.Level.SEND)
    form = MoveForm(request.POST, delivery=delivery)
    if not form.is_valid():
        messages.error(request, _("Mappen finns inte."))
        return _back_to_thread(delivery)
    folder = form.cleaned_data["folder"]
    delivery_move(delivery=delivery, folder=folder)
    messages.success(
        request,
        _("”%(subject)s” ligger nu i %(folder)s.")
        % {"subject": delivery.thread.subject, "folder": Delivery.Folder(folder).label},
    )
    return redirect("messenger:mailbox", pk=delivery.mailbox_id)


@login_required
@require_POST
def mark_unread(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    delivery = _delivery(request, mailbox_pk, thread_pk, level=AccessGrant.Level.SEND)
    delivery_mark_unread(delivery=delivery)
    messages.success(request, _("Ärendet är markerat som oläst."))
    return redirect("messenger:mailbox", pk=delivery.mailbox_id)


@login_required
@require_http_methods(["GET", "POST"])
def forward(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    # The page shows the subject and birth date: a view of the thread, logged as one.
    delivery = _delivery(
        request,
        mailbox_pk,
        thread_pk,
        level=AccessGrant.Level.SEND,
        log_as=AccessLog.Action.VIEW_THREAD if request.method == "GET" else None,
    )
    employment = acting_employment(request, delivery)
    form = ForwardForm(
        request.POST or None,
        candidates=forward_candidates(delivery.mailbox.organisation, request.user),
    )
    if request.method == "POST" and form.is_valid():
        colleague = form.cleaned_data["colleague"]
        token = form.cleaned_data["client_token"]
        already = ThreadEvent.objects.filter(client_token=token).exists()
        try:
            message_forward(
                actor=request.user,
                employment=employment,
                delivery=delivery,
                colleague=colleague,
                comment=form.cleaned_data["comment"],
                colleague_told=form.cleaned_data["colleague_told"],
                client_token=token,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if already:
                messages.info(
                    request,
                    _("Ärendet var redan vidarebefordrat. Det vidarebefordrades en gång."),
                )
            else:
                messages.success(
                    request,
                    _("Ärendet är vidarebefordrat till %(name)s.")
                    % {"name": colleague.display_name()},
                )
            return _back_to_thread(delivery)
    if request.method == "POST":
        # Shown again with its errors, the page is a view of the thread like the GET.
        log_thread_access(request.user, employment, delivery, action=AccessLog.Action.VIEW_THREAD)
    return render(
        request,
        "messenger/forward.html",
        {
            "mailbox": delivery.mailbox,
            "delivery": delivery,
            "thread": delivery.thread,
            "form": form,
            "absent": absent_colleagues(delivery.mailbox.organisation, request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
@same_site_only
def print_view(request: AppRequest, mailbox_pk: int, thread_pk: int) -> HttpResponse:
    delivery = _delivery(request, mailbox_pk, thread_pk, log_as=AccessLog.Action.PRINT)
    return render(
        request,
        "messenger/print.html",
        {
            "mailbox": delivery.mailbox,
            "thread": delivery.thread,
            "content": thread_content(delivery.thread),
            "printed_at": timezone.now(),
        },
    )
