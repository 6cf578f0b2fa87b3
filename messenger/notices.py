"""The active notices (R20) of the banner and the start page, kept in this process for 30 s.

The banner is on every page and the start page is the most visited: neither may cost a query
per page. Django's cache is not
configured here (the default is a per-process memory cache anyway) and Redis is Celery's broker:
a page must not depend on Redis being up. So a small module-level cache: the outage, maintenance
and news notices that have not ended and start within the cache's lifetime, fetched at most once
every 30 s per process; which of them is active is decided on each page from the clock. A
change made in this process clears it at once; other processes see it within 30 s.
"""

import threading
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.utils import timezone

from messenger.models import Notice

LIFETIME = timedelta(seconds=30)

_lock = threading.Lock()
_cached: tuple[datetime, list[Notice]] | None = None


def _fetch(now: datetime) -> list[Notice]:
    # Those starting within the lifetime too, so one that starts while cached still shows.
    return list(
        Notice.objects.filter(
            kind__in=[*Notice.BANNER_KINDS, Notice.Kind.NEWS], starts_at__lte=now + LIFETIME
        )
        .exclude(ends_at__lte=now)
        .order_by("starts_at", "pk")
    )


def _active(now: datetime) -> list[Notice]:
    global _cached
    with _lock:
        cached = _cached
        # The clock going back (a test travelling in time) fetches again, too.
        if cached is None or not cached[0] <= now < cached[0] + LIFETIME:
            try:
                fetched = _fetch(now)
            except DatabaseError:
                # Nothing, for the cache's lifetime: while the database is down, pages that
                # would show without it (the sign-in page) do not each wait for it in turn.
                _cached = (now, [])
                raise
            cached = _cached = (now, fetched)
    return [notice for notice in cached[1] if notice.is_active(now)]


def banner_notices(now: datetime | None = None) -> list[Notice]:
    """The active outage and maintenance notices, outages first."""
    active = [n for n in _active(now or timezone.now()) if n.kind in Notice.BANNER_KINDS]
    return sorted(active, key=lambda notice: notice.kind != Notice.Kind.OUTAGE)


def active_news(now: datetime | None = None) -> list[Notice]:
    """The active news, newest first; whether a user has read them is theirs to ask."""
    news = [n for n in _active(now or timezone.now()) if n.kind == Notice.Kind.NEWS]
    return sorted(news, key=lambda notice: (notice.starts_at, notice.pk), reverse=True)


def clear_notice_cache() -> None:
    global _cached
    with _lock:
        _cached = None
