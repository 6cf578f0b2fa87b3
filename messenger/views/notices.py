"""Notices about the system (R20): system administrators publish them; everyone signed in reads
them on /meddelanden/ (and news on the start page); feed readers get them as Atom.

The administration pages are 404 for everyone but system administrators, as the category list.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AppRequest
from mailboxes.selectors import require_system_admin, reserve_routines
from messenger.forms import NewNoticeForm, NoticeForm
from messenger.models import Notice
from messenger.selectors import notices_current_and_recent, notices_recent
from messenger.services import notice_create, notice_end, notice_mark_read, notice_update


@login_required
@require_GET
def admin_list(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    return render(
        request,
        "messenger/admin_notices.html",
        {"notices": Notice.objects.all(), "now": timezone.now()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def admin_new(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = NewNoticeForm(
        request.POST or None,
        initial={"kind": Notice.Kind.NEWS, "starts_at": timezone.localtime().replace(second=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            notice_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Driftmeddelandet är publicerat."))
            return redirect("messenger:admin_notices")
    return render(
        request,
        "messenger/notice_form.html",
        {"form": form, "notice": None},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def admin_edit(request: AppRequest, pk: int) -> HttpResponse:
    require_system_admin(request.user)
    notice = get_object_or_404(Notice, pk=pk)
    form = NoticeForm(
        request.POST or None,
        initial={
            "title": notice.title,
            "text": notice.text,
            "kind": notice.kind,
            "starts_at": timezone.localtime(notice.starts_at),
            "ends_at": notice.ends_at and timezone.localtime(notice.ends_at),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            notice_update(actor=request.user, notice=notice, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Driftmeddelandet är sparat."))
            return redirect("messenger:admin_notices")
    return render(
        request,
        "messenger/notice_form.html",
        {"form": form, "notice": notice, "now": timezone.now()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def admin_end(request: AppRequest, pk: int) -> HttpResponse:
    require_system_admin(request.user)
    notice = get_object_or_404(Notice, pk=pk)
    try:
        notice_end(actor=request.user, notice=notice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Driftmeddelandet är avslutat."))
    return redirect("messenger:admin_notices")


@login_required
@require_GET
def notice_list(request: AppRequest) -> HttpResponse:
    """Current and recent notices, for everyone signed in; the banner links here."""
    now = timezone.now()
    return render(
        request,
        "messenger/notices.html",
        {"notices": notices_current_and_recent(now), "now": now},
    )


@login_required
@require_POST
def mark_read(request: AppRequest, pk: int) -> HttpResponse:
    """Marks a news notice read for this user: it leaves their start page."""
    notice = get_object_or_404(Notice, pk=pk, kind=Notice.Kind.NEWS)
    notice_mark_read(user=request.user, notice=notice)
    return redirect("messenger:home")


class NoticeFeed(Feed):
    """The notices of the last 90 days as Atom, for feed readers (R20: everyone concerned
    subscribes).

    Public, without sign-in: feed readers cannot sign in, and a notice holds no patient data
    (forms and services refuse a personnummer) and names nobody, not even who wrote it. The
    agreement gate (R17) lets it through for the same reason (accounts.middleware).
    """

    feed_type = Atom1Feed

    def title(self) -> str:
        return _("Funktionsbrevlådan: driftmeddelanden")

    def subtitle(self) -> str:
        return _("Nyheter, planerat underhåll, driftstörningar och ROS-analyser.")

    def link(self) -> str:
        return reverse("messenger:notices")

    def items(self) -> Any:
        return notices_recent(timezone.now())

    def item_title(self, item: Notice) -> str:
        return f"{item.get_kind_display()}: {item.title}"

    def item_description(self, item: Notice) -> str:
        return f"{item.get_kind_display()}, {item.period}\n\n{item.text}"

    def item_link(self, item: Notice) -> str:
        return reverse("messenger:notices") + f"#meddelande-{item.pk}"

    def item_guid(self, item: Notice) -> str:
        return f"urn:funktionsbrevladan:notice:{item.pk}"

    def item_pubdate(self, item: Notice) -> Any:
        return item.created_at

    def item_updateddate(self, item: Notice) -> Any:
        return item.starts_at

    def item_categories(self, item: Notice) -> list[str]:
        return [item.kind]


notice_feed = require_GET(NoticeFeed())


@login_required
@require_GET
def reserve_list(request: AppRequest) -> HttpResponse:
    """The region's reserve routines (R21): how to reach each unit while the system is down.
    Linked from the outage banner; names and phone numbers only, so nothing is logged."""
    groups: dict[str, list[Any]] = {}
    for routine in reserve_routines():
        groups.setdefault(routine.mailbox.organisation.name, []).append(routine)
    return render(request, "messenger/reserve_list.html", {"groups": groups})
