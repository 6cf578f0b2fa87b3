"""Mailbox administration for system administrators (R3, R5, R14, R24), and the local routine
for the superusers of the mailbox's organisation too. Others get 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AppRequest
from accounts.models import Organisation
from mailboxes.forms import (
    AddressListAddForm,
    MailboxCloseForm,
    MailboxEditForm,
    MailboxForm,
    RoutineForm,
)
from mailboxes.models import (
    AddressList,
    AddressListEntry,
    Mailbox,
    MonitoringRoutine,
    default_check_times,
)
from mailboxes.selectors import (
    get_mailbox_for_admin,
    get_mailbox_for_routine_editor,
    grant_holder_ids,
    require_system_admin,
)
from mailboxes.services import (
    address_list_add,
    address_list_remove,
    mailbox_close,
    mailbox_create,
    mailbox_update,
    routine_update,
)


@login_required
@require_GET
def mailbox_list(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    mailboxes = Mailbox.objects.functional().select_related("organisation")
    return render(request, "mailboxes/admin_mailboxes.html", {"mailboxes": mailboxes})


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_new(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = mailbox_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Brevlådan %(name)s är skapad.") % {"name": mailbox.name})
            return HttpResponseRedirect(reverse("mailboxes:admin_mailbox", args=[mailbox.pk]))
    return render(request, "mailboxes/mailbox_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: AppRequest, pk: int) -> HttpResponse:
    mailbox = get_mailbox_for_admin(request.user, pk)
    routine = MonitoringRoutine.objects.filter(mailbox=mailbox).first()
    if request.method == "POST":
        if mailbox.is_closed:
            raise Http404
        form = MailboxEditForm(request.POST)
        if form.is_valid():
            try:
                mailbox_update(actor=request.user, mailbox=mailbox, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Brevlådans uppgifter är sparade."))
                return HttpResponseRedirect(reverse("mailboxes:admin_mailbox", args=[pk]))
    else:
        form = MailboxEditForm(
            initial={"name": mailbox.name, "hsa_id": mailbox.hsa_id, "phone": mailbox.phone}
        )
    monitors = list(routine.monitors.all()) if routine else []
    holders = set(grant_holder_ids(mailbox))
    return render(
        request,
        "mailboxes/mailbox_edit.html",
        {
            "mailbox": mailbox,
            "form": form,
            "routine": routine,
            "monitors": monitors,
            # R5: only authorised staff monitor. A grant that ended since the routine was
            # written leaves a monitor who can no longer open the mailbox.
            "monitors_without_grant": [u for u in monitors if u.pk not in holders],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def routine_edit(request: AppRequest, pk: int) -> HttpResponse:
    """The local routine, for system administrators and the mailbox organisation's superusers."""
    mailbox = get_mailbox_for_routine_editor(request.user, request.employment, pk)
    if mailbox.is_closed:
        raise Http404
    # A GET writes nothing: the routine row is made by routine_update on the first save.
    routine = MonitoringRoutine.objects.filter(mailbox=mailbox).first()
    initial = (
        {
            "monitors": list(routine.monitors.all()),
            "check_times": routine.check_times,
            "closed_days": routine.closed_days,
            "emptied_by": routine.emptied_by,
            "holiday_cover": routine.holiday_cover,
            "access_updated_by": routine.access_updated_by,
            "reserve_phone": routine.reserve_phone,
            "reserve_hours": routine.reserve_hours,
            "reserve_instructions": routine.reserve_instructions,
        }
        if routine is not None
        else {"check_times": default_check_times()}
    )
    form = RoutineForm(request.POST or None, initial=initial, mailbox=mailbox)
    back = _routine_back_url(request, mailbox)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            routine_update(
                actor=request.user,
                actor_employment=request.employment,
                mailbox=mailbox,
                monitors=list(data["monitors"]),
                check_times=data["check_times"],
                closed_days=data["closed_days"],
                emptied_by=data["emptied_by"],
                holiday_cover=data["holiday_cover"],
                access_updated_by=data["access_updated_by"],
                reserve_phone=data["reserve_phone"],
                reserve_hours=data["reserve_hours"],
                reserve_instructions=data["reserve_instructions"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Den lokala rutinen är sparad."))
            return HttpResponseRedirect(back)
    return render(
        request, "mailboxes/routine_form.html", {"mailbox": mailbox, "form": form, "back": back}
    )


def _routine_back_url(request: AppRequest, mailbox: Mailbox) -> str:
    """Administrators return to the mailbox's administration; a superuser to the mailbox, or
    the start page if they have no access to the mailbox itself."""
    if request.user.is_superuser:
        return reverse("mailboxes:admin_mailbox", args=[mailbox.pk])
    if Mailbox.objects.granted_to(request.user).filter(pk=mailbox.pk).exists():
        return reverse("messenger:mailbox", args=[mailbox.pk])
    return reverse("messenger:home")


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_close_view(request: AppRequest, pk: int) -> HttpResponse:
    mailbox = get_mailbox_for_admin(request.user, pk)
    if mailbox.is_closed:
        raise Http404
    form = MailboxCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox_close(actor=request.user, mailbox=mailbox, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Brevlådan %(name)s är stängd för alltid.") % {"name": mailbox.name}
            )
            return HttpResponseRedirect(reverse("mailboxes:admin_mailbox", args=[pk]))
    return render(request, "mailboxes/mailbox_close.html", {"mailbox": mailbox, "form": form})


@login_required
@require_GET
def address_lists(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    municipalities = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
    return render(request, "mailboxes/address_lists.html", {"municipalities": municipalities})


def _address_list_for_admin(request: AppRequest, organisation_id: int) -> AddressList:
    require_system_admin(request.user)
    organisation = Organisation.objects.filter(
        pk=organisation_id, kind=Organisation.Kind.MUNICIPALITY
    ).first()
    if organisation is None:
        raise Http404
    address_list, _created = AddressList.objects.get_or_create(organisation=organisation)
    return address_list


@login_required
@require_http_methods(["GET", "POST"])
def address_list_edit(request: AppRequest, organisation_id: int) -> HttpResponse:
    address_list = _address_list_for_admin(request, organisation_id)
    form = AddressListAddForm(request.POST or None, address_list=address_list)
    if request.method == "POST" and form.is_valid():
        try:
            address_list_add(
                actor=request.user, address_list=address_list, mailbox=form.cleaned_data["mailbox"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(mailbox)s är tillagd på förvalslistan.")
                % {"mailbox": form.cleaned_data["mailbox"].name},
            )
            return HttpResponseRedirect(
                reverse("mailboxes:admin_address_list", args=[organisation_id])
            )
    entries = address_list.entries.select_related("mailbox")
    return render(
        request,
        "mailboxes/address_list_edit.html",
        {"address_list": address_list, "entries": entries, "form": form},
    )


@login_required
@require_POST
def address_list_entry_remove(request: AppRequest, organisation_id: int, pk: int) -> HttpResponse:
    address_list = _address_list_for_admin(request, organisation_id)
    entry = (
        AddressListEntry.objects.select_related("mailbox", "address_list__organisation")
        .filter(pk=pk, address_list=address_list)
        .first()
    )
    if entry is None:
        raise Http404
    address_list_remove(actor=request.user, entry=entry)
    messages.success(
        request, _("%(name)s är borttagen från förvalslistan.") % {"name": entry.mailbox.name}
    )
    return HttpResponseRedirect(reverse("mailboxes:admin_address_list", args=[organisation_id]))
