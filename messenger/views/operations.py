"""The operators' page: how the background jobs last ran, and the outbox's backlog and failures."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AppRequest
from mailboxes.models import OutboxItem
from mailboxes.notifications import outbox_retry
from mailboxes.selectors import require_system_admin
from messenger.jobs import JOBS
from messenger.models import JobStatus

FAILURES_SHOWN = 50


@login_required
@require_GET
def operations(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    statuses = {status.name: status for status in JobStatus.objects.all()}
    backlog = OutboxItem.objects.pending().aggregate(count=Count("pk"), oldest=Min("due_at"))
    failures = OutboxItem.objects.failed().select_related("user").order_by("-failed_at")
    return render(
        request,
        "messenger/operations.html",
        {
            "jobs": [(job, statuses.get(job.name)) for job in JOBS.values()],
            "backlog": backlog,
            "failures": list(failures[:FAILURES_SHOWN]),
            "failure_count": failures.count(),
        },
    )


@login_required
@require_POST
def outbox_retry_failed(request: AppRequest) -> HttpResponse:
    require_system_admin(request.user)
    ids = OutboxItem.objects.failed().values_list("pk", flat=True)
    count = outbox_retry(item_ids=list(ids))
    messages.success(
        request,
        ngettext(
            "%(count)d utskick försöks igen inom en minut.",
            "%(count)d utskick försöks igen inom en minut.",
            count,
        )
        % {"count": count}
        if count
        else _("Det fanns inga misslyckade utskick."),
    )
    return HttpResponseRedirect(reverse("messenger:operations"))
