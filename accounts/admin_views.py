"""People, for the region's system administrators (R17, R25): find a person, add one with their
first employment and personal mailbox, end an employment. The nightly catalogue sync
(`manage.py sync_people`) does the same for everyone; these pages are for the case that cannot
wait. Everyone else gets 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.admin_forms import EmploymentEndForm, PersonForm, PersonSearchForm
from accounts.catalogue import employment_end, person_create
from accounts.http import AppRequest
from accounts.selectors import (
    PEOPLE_PAGE_SIZE,
    get_employment_for_admin,
    get_person_for_admin,
    people_for_admin,
)
from mailboxes.models import AccessGrant, Mailbox
from mailboxes.selectors import require_system_admin


@login_required
@require_GET
def people(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = PersonSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = people_for_admin(query)
    return render(
        request,
        "accounts/admin_people.html",
        {
            "form": form,
            "query": query,
            "people": found,
            "page_size": PEOPLE_PAGE_SIZE,
            "more": len(found) >= PEOPLE_PAGE_SIZE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_new(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = PersonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person = person_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(name)s är tillagd med sin personliga brevlåda.")
                % {"name": person.display_name()},
            )
            return HttpResponseRedirect(reverse("people:person", args=[person.pk]))
    return render(request, "accounts/admin_person_new.html", {"form": form})


@login_required
@require_GET
def person(request: AppRequest, pk: int) -> HttpResponse:
    person = get_person_for_admin(request.user, pk)
    employments = person.employments.select_related("organisation").order_by(
        "ended_at", "-started_at"
    )
    return render(
        request,
        "accounts/admin_person.html",
        {
            "person": person,
            "employments": employments,
            "mailbox": Mailbox.objects.filter(owner=person).first(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def employment_end_view(request: AppRequest, pk: int) -> HttpResponse:
    employment = get_employment_for_admin(request.user, pk)
    form = EmploymentEndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            employment_end(
                actor=request.user, employment=employment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Anställningen vid %(organisation)s är avslutad, och dess behörigheter.")
                % {"organisation": employment.organisation.name},
            )
            return HttpResponseRedirect(reverse("people:person", args=[employment.user_id]))
    grants = (
        AccessGrant.objects.filter(employment=employment, ended_at__isnull=True)
        .select_related("mailbox")
        .order_by("mailbox__name")
    )
    return render(
        request,
        "accounts/admin_employment_end.html",
        {"employment": employment, "grants": grants, "form": form},
    )
