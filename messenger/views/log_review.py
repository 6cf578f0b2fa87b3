"""The systematic review of the access log (R18), for log reviewers: draw a sample of the
organisation's reads, mark each row OK or Utreds, close the review. Everyone else gets 404, and
so does another organisation's review. What is done here is logged by messenger.log_review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AppRequest
from audit.models import AccessLog
from audit.services import access_log
from mailboxes.selectors import require_log_reviewer
from messenger.forms import LogReviewMarkForm, LogReviewStartForm
from messenger.log_review import (
    LOG_REVIEW_MAX_ROWS,
    log_review_close,
    log_review_mark,
    log_review_start,
    reviews_of,
)
from messenger.models import LogReview, LogReviewItem


def _review(request: AppRequest, pk: int) -> LogReview:
    """The reviewer's organisation's review, or 404 (for another organisation's too)."""
    employment = require_log_reviewer(request.employment)
    return get_object_or_404(
        LogReview.objects.select_related("organisation", "started_by", "closed_by"),
        pk=pk,
        organisation=employment.organisation,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request: AppRequest) -> HttpResponse:
    """The organisation's reviews, open and closed, and the form that starts one."""
    employment = require_log_reviewer(request.employment)
    organisation = employment.organisation
    form = LogReviewStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review = log_review_start(
            organisation=organisation, user=request.user, sample=form.sample()
        )
        if review is None:
            form.add_error(
                None,
                _("Urvalet gav inga läsningar i perioden. Ingen granskning är startad."),
            )
        else:
            if review.capped:
                messages.warning(
                    request,
                    _(
                        "Fler läsningar stämde med urvalet än en granskning rymmer: de "
                        "%(max)s äldsta är med."
                    )
                    % {"max": LOG_REVIEW_MAX_ROWS},
                )
            return redirect("messenger:log_review", pk=review.pk)
    return render(
        request,
        "messenger/log_reviews.html",
        {"form": form, "organisation": organisation, "reviews": reviews_of(organisation)},
        status=400 if form.errors else 200,
    )


def _render_review(
    request: AppRequest,
    review: LogReview,
    bound: tuple[LogReviewItem, LogReviewMarkForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = []
    for item in review.items.select_related("marked_by"):
        if bound is not None and bound[0].pk == item.pk:
            form = bound[1]
        else:
            form = LogReviewMarkForm(
                prefix=f"rad{item.pk}", initial={"verdict": item.verdict, "note": item.note}
            )
        rows.append((item, form))
    unmarked = sum(1 for item, _form in rows if not item.verdict)
    # The page shows the rows' patients in full: opening it is a read of the log (R18).
    access_log(
        action=AccessLog.Action.LOG_REVIEW,
        user=request.user,
        organisation_name=review.organisation.name,
        detail=f"Öppnade granskning {review.pk} ({len(rows)} rader)",
    )
    return render(
        request,
        "messenger/log_review.html",
        {"review": review, "rows": rows, "unmarked": unmarked},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def review_detail(request: AppRequest, pk: int) -> HttpResponse:
    """One review: its rows as drawn, each with its verdict or the form to give one."""
    return _render_review(request, _review(request, pk))


@login_required
@require_POST
def review_mark(request: AppRequest, pk: int, item_pk: int) -> HttpResponse:
    """Mark one row OK or Utreds. A bad note is shown again with its message, nothing saved."""
    review = _review(request, pk)
    item = get_object_or_404(LogReviewItem, pk=item_pk, review=review)
    if review.is_closed:
        messages.error(request, _("Granskningen är avslutad och kan inte ändras."))
        return redirect("messenger:log_review", pk=review.pk)
    form = LogReviewMarkForm(request.POST, prefix=f"rad{item.pk}")
    if form.is_valid():
        try:
            log_review_mark(
                item=item,
                user=request.user,
                verdict=form.cleaned_data["verdict"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _render_review(request, review, bound=(item, form), status=400)
    return redirect(f"{reverse('messenger:log_review', kwargs={'pk': review.pk})}#rad{item.pk}")


@login_required
@require_POST
def review_close(request: AppRequest, pk: int) -> HttpResponse:
    """Close the review: refused while a row is unmarked or when it is closed already."""
    review = _review(request, pk)
    try:
        review = log_review_close(review=review, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("messenger:log_review", pk=review.pk)
    messages.success(
        request, _("Granskningen är avslutad: %(outcome)s.") % {"outcome": review.outcome}
    )
    return redirect("messenger:log_reviews")
