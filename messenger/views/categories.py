"""The category list (R7, R8), for system administrators. Others get 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AppRequest
from mailboxes.selectors import require_system_admin
from messenger.forms import CategoryEditForm, CategoryForm
from messenger.models import Category
from messenger.services import category_create, category_update


@login_required
@require_GET
def category_list(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    return render(
        request, "messenger/admin_categories.html", {"categories": Category.objects.all()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_new(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    form = CategoryForm(request.POST or None, initial={"requires_action": True})
    if request.method == "POST" and form.is_valid():
        try:
            category = category_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Kategorin %(name)s är skapad.") % {"name": category.name})
            return HttpResponseRedirect(reverse("messenger:admin_categories"))
    return render(request, "messenger/category_form.html", {"form": form, "category": None})


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: AppRequest, pk: int) -> HttpResponse:
    require_system_admin(request.user)
    ordered = list(Category.objects.all())
    category = next((c for c in ordered if c.pk == pk), None)
    if category is None:
        raise Http404
    form = CategoryEditForm(
        request.POST or None,
        initial={
            "name": category.name,
            "place": ordered.index(category) + 1,
            "requires_action": category.requires_action,
            "reply_window_hours": category.reply_window_hours,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            category = category_update(actor=request.user, category=category, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Kategorin %(name)s är sparad.") % {"name": category.name})
            return HttpResponseRedirect(reverse("messenger:admin_categories"))
    return render(
        request,
        "messenger/category_form.html",
        {"form": form, "category": category},
    )
