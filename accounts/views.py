from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import agreement as agreement_texts
from accounts.forms import AgreementForm, RolesForm
from accounts.http import AppRequest
from accounts.middleware import SESSION_KEY
from accounts.models import AgreementAcceptance, Employment, Organisation
from accounts.selectors import (
    can_assign_roles,
    get_employment_for_role_admin,
    get_organisation_for_role_admin,
)
from accounts.services import agreement_accept, employment_set_roles, organisation_switch_record


@login_required
@require_POST
def switch_organisation(request: AppRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        raise Http404 from None
    employment = next(
        (e for e in request.employments if e.organisation_id == organisation_id), None
    )
    if employment is None:
        raise Http404
    organisation_switch_record(user=request.user, employment=employment)
    request.session[SESSION_KEY] = employment.organisation_id
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("messenger:home")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def keep_alive(request: AppRequest) -> HttpResponse:
    """The idle warning's "Fortsätt arbeta" (static/js/idle.js). A request like any other, so
    it counts as activity and the idle clock starts again (IdleTimeoutMiddleware)."""
    return HttpResponse(status=204)


def _safe_next(request: AppRequest, raw: str) -> str:
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()}):
        return raw
    return reverse("messenger:home")


@login_required
@require_http_methods(["GET", "POST"])
def agreement(request: AppRequest) -> HttpResponse:
    """Read and accept the current confidentiality agreement (R17)."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.method == "POST":
        form = AgreementForm(request.POST)
        if form.is_valid():
            try:
                agreement_accept(user=request.user, version=form.cleaned_data["version"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                request.session[agreement_texts.SESSION_KEY] = agreement_texts.CURRENT_VERSION
                return HttpResponseRedirect(next_url)
    else:
        if AgreementAcceptance.objects.filter(
            user=request.user, version=agreement_texts.CURRENT_VERSION
        ).exists():
            request.session[agreement_texts.SESSION_KEY] = agreement_texts.CURRENT_VERSION
            return HttpResponseRedirect(next_url)
        form = AgreementForm(initial={"version": agreement_texts.CURRENT_VERSION})
    return render(
        request,
        "accounts/agreement.html",
        {
            "form": form,
            "next": next_url,
            "version": agreement_texts.CURRENT_VERSION,
            "paragraphs": agreement_texts.current_text().split("\n\n"),
            "hide_navigation": True,
        },
    )


@login_required
@require_GET
def roles_index(request: AppRequest) -> HttpResponse:
    """System administrators pick an organisation; an organisation's superuser goes to theirs."""
    if request.user.is_superuser:
        organisations = Organisation.objects.all()
        return render(request, "accounts/roles_index.html", {"organisations": organisations})
    working = request.employment
    if working is None or not can_assign_roles(request.user, working, working.organisation_id):
        raise Http404
    return HttpResponseRedirect(reverse("accounts:roles", args=[working.organisation_id]))


@login_required
@require_GET
def roles(request: AppRequest, organisation_id: int) -> HttpResponse:
    organisation = get_organisation_for_role_admin(
        request.user, request.employment, organisation_id
    )
    employments = (
        Employment.objects.active()
        .filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    return render(
        request,
        "accounts/roles.html",
        {"organisation": organisation, "employments": employments},
    )


@login_required
@require_http_methods(["GET", "POST"])
def employment_roles(request: AppRequest, employment_id: int) -> HttpResponse:
    employment = get_employment_for_role_admin(request.user, request.employment, employment_id)
    if request.method == "POST":
        form = RolesForm(request.POST)
        if form.is_valid():
            try:
                employment_set_roles(
                    actor=request.user,
                    actor_employment=request.employment,
                    employment=employment,
                    roles=form.cleaned_data["roles"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Rollerna för %(name)s är sparade.")
                    % {"name": employment.user.display_name()},
                )
                return HttpResponseRedirect(
                    reverse("accounts:roles", args=[employment.organisation_id])
                )
    else:
        form = RolesForm(initial={"roles": employment.roles})
    return render(
        request, "accounts/employment_roles.html", {"employment": employment, "form": form}
    )
