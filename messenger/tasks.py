import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Beat's pulse: the worker logs it, so an operator can see the queue is moving."""
    stamp = timezone.now().isoformat(timespec="seconds")
    logger.info("heartbeat %s", stamp)
    return stamp
