"""The background jobs, by name: what beat runs on its schedule and `manage.py run_jobs` runs now.

Each job is a service that finds its own work in PostgreSQL, so running one twice, or by hand
between two scheduled runs, does nothing twice. Every run leaves its outcome in JobStatus, for the
operators' page.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.throttle import sign_in_counters_prune
from audit.services import access_log_retention, access_log_seal, access_log_verify
from mailboxes.notifications import notices_prune, notify_system_admins, outbox_send
from mailboxes.services import mailbox_checks_sweep
from messenger.log_review import log_reviews_prune
from messenger.models import JobStatus
from messenger.services import deadlines_sweep, messages_purge
from messenger.statistics import statistics_refresh

logger = logging.getLogger(__name__)


class AccessLogBroken(Exception):
    """The nightly check found the access log changed behind the app's back."""


def access_log_check() -> dict[str, object]:
    """Verify the access log's chain (R18); when it is broken, alarm the system administrators
    (once a day) and fail, so the operators' page shows it too. The chain's head is written
    into the job's outcome each night, outside the table it vouches for."""
    verdict = access_log_verify()
    if verdict.broken is not None:
        notify_system_admins(
            event=f"log-broken-{timezone.localdate().isoformat()}",
            text=(
                f"Åtkomstloggen är ändrad utanför appen: {verdict.broken}. Kör manage.py "
                "audit_verify och utred vem som har ändrat databasen."
            ),
            url=reverse("messenger:operations"),
        )
        raise AccessLogBroken(str(verdict.broken))
    return {"rows": verdict.rows, "links": verdict.links, "head": verdict.head[:16]}


def access_log_retire() -> dict[str, int]:
    """The access log's rows past AUDIT_RETENTION_YEARS, and the log reviews of periods that
    ended before then, whose rows copy the log's."""
    years = settings.AUDIT_RETENTION_YEARS
    return {**access_log_retention(years=years), **log_reviews_prune(years=years)}


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str  # in plain words, for run_jobs --list, the README and the operators' page
    run: Callable[[], object]


JOBS: dict[str, Job] = {
    job.name: job
    for job in [
        Job("deadlines", "varje minut", lambda: deadlines_sweep()),
        Job("outbox", "varje minut", lambda: outbox_send()),
        Job("mailbox_checks", "varje minut", lambda: mailbox_checks_sweep()),
        Job("statistics", "varje timme, 05 minuter över", lambda: statistics_refresh()),
        Job("purge", "varje natt 02:30", lambda: asdict(messages_purge())),
        Job("prune_notices", "varje natt 02:45", lambda: notices_prune()),
        Job("prune_sign_in", "varje natt 02:50", lambda: sign_in_counters_prune()),
        Job("audit_seal", "varje minut", lambda: access_log_seal()),
        Job("audit_verify", "varje natt 03:15", access_log_check),
        Job("audit_retention", "varje år 1 februari 03:30", lambda: access_log_retire()),
    ]
}


def describe(result: object) -> str:
    """A job's result in one line: `reminders=2 alerts=0` for a dict of counts."""
    if isinstance(result, dict):
        return " ".join(f"{key}={value}" for key, value in result.items())
    return str(result)


def job_run(name: str) -> JobStatus:
    """Run one job now and record how it went. A failure is recorded, then raised again."""
    job = JOBS[name]
    started = timezone.now()
    try:
        result = job.run()
    except Exception as error:
        _record(name, started=started, ok=False, summary=f"{type(error).__name__}: {error}")
        logger.exception("job %s failed", name)
        raise
    return _record(name, started=started, ok=True, summary=describe(result))


def _record(name: str, *, started: datetime, ok: bool, summary: str) -> JobStatus:
    status, _created = JobStatus.objects.update_or_create(
        name=name,
        defaults={
            "last_started_at": started,
            "last_finished_at": timezone.now(),
            "last_ok": ok,
            "last_summary": Truncator(summary).chars(500),
        },
    )
    return status
