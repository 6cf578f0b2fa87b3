import logging

from celery import shared_task
from django.utils import timezone

from messenger import jobs

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Beat's pulse: the worker logs it, so an operator can see the queue is moving."""
    stamp = timezone.now().isoformat(timespec="seconds")
    logger.info("heartbeat %s", stamp)
    return stamp


@shared_task(acks_late=True)
def run_job(name: str) -> str:
    """One of messenger.jobs, on beat's schedule. Each finds its own work in PostgreSQL and
    marks it done in the same transaction, so a task delivered twice does nothing twice."""
    status = jobs.job_run(name)
    logger.info("job %s: %s", name, status.last_summary)
    return status.last_summary
