"""Help and e-learning (R23): the guides, the self-test "Kom igång", the superuser's list of who
has done it, the start page's tour and the accessibility statement."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AppRequest
from accounts.models import Role
from mailboxes.selectors import require_role
from messenger.help import GUIDES, GUIDES_BY_SLUG, QUESTIONS
from messenger.selectors import self_test_staff
from messenger.services import self_test_complete, tour_dismiss


@login_required
@require_GET
def index(request: AppRequest) -> HttpResponse:
    return render(request, "help/index.html", {"guides": GUIDES})


@login_required
@require_GET
def guide(request: AppRequest, slug: str) -> HttpResponse:
    found = GUIDES_BY_SLUG.get(slug)
    if found is None:
        raise Http404
    language = "en" if (get_language() or "sv").startswith("en") else "sv"
    return render(
        request,
        "help/guide.html",
        {"guide": found, "body": f"help/{language}/{found.slug}.html", "guides": GUIDES},
    )


class SelfTestForm(forms.Form):
    """The five questions, one radio group each; every one must be answered."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for question in QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=question.text,
                choices=question.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Välj ett svar.")},
            )


@login_required
@require_http_methods(["GET", "POST"])
def self_test(request: AppRequest) -> HttpResponse:
    """Answered all right, the completion is saved once (R23); answered with some wrong, the
    page says which and why, and nothing is saved."""
    completion = getattr(request.user, "self_test_completion", None)
    form = SelfTestForm(request.POST or None)
    answered = False
    already = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            answered = True
            if all(form.cleaned_data[q.key] == q.right for q in QUESTIONS):
                completion, created = self_test_complete(request.user)
                already = not created
        else:
            status = 400
    rows = [
        {
            "question": q,
            "field": form[q.key],
            "right_label": dict(q.choices)[q.right],
            "correct": answered and form.cleaned_data[q.key] == q.right,
        }
        for q in QUESTIONS
    ]
    wrong = [row for row in rows if answered and not row["correct"]]
    return render(
        request,
        "help/self_test.html",
        {
            "form": form,
            "rows": rows,
            "answered": answered,
            "wrong": wrong,
            "completion": completion,
            "already": already,
        },
        status=status,
    )


@login_required
@require_GET
def self_test_staff_list(request: AppRequest) -> HttpResponse:
    """For the working organisation's superusers (R22): who has done the self-test, and when."""
    working = require_role(request.employment, Role.SUPERUSER)
    return render(
        request,
        "help/self_test_staff.html",
        {
            "organisation": working.organisation,
            "employments": self_test_staff(working.organisation),
        },
    )


@login_required
@require_POST
def tour_done(request: AppRequest) -> HttpResponse:
    tour_dismiss(request.user)
    messages.success(request, _("Introduktionen visas inte igen. Du hittar den under Hjälp."))
    return HttpResponseRedirect(reverse("messenger:home"))


@require_GET
def accessibility(request: AppRequest) -> HttpResponse:
    """The accessibility statement (tillgänglighetsredogörelse): public, as the law on
    accessibility to digital public services requires."""
    return render(request, "help/accessibility.html")
