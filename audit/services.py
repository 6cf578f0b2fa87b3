from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AccessLog

# A crawler walking mailbox and thread ids must not fill the log: at most this many DENIED rows
# per user within any DENIED_LOG_WINDOW; past that, nothing more until the oldest falls out.
DENIED_LOG_LIMIT = 10
DENIED_LOG_WINDOW = timedelta(minutes=10)


def access_log(
    *,
    action: str,
    user: Any = None,
    organisation_name: str = "",
    mailbox_name: str = "",
    mailbox: Any = None,
    mailbox_organisation_name: str = "",
    thread_id: int | None = None,
    patient_id: str = "",
    detail: str = "",
    actor_name: str = "",
) -> AccessLog:
    """Write one access-log row. Call it inside the transaction of the read or write it records.

    Given `mailbox` (with its organisation loaded), the row names it and its owning organisation;
    without one, `mailbox_organisation_name` alone may say whose log control sees the row.
    `actor_name` names a doer that is no user, such as the catalogue sync (`sync_people`).
    """
    [row] = access_log_threads(
        [(thread_id, patient_id)],
        action=action,
        user=user,
        organisation_name=organisation_name,
        mailbox_name=mailbox_name,
        mailbox=mailbox,
        mailbox_organisation_name=mailbox_organisation_name,
        detail=detail,
        actor_name=actor_name,
    )
    return row


def access_log_threads(
    threads: Sequence[tuple[int | None, str]],
    *,
    action: str,
    user: Any = None,
    organisation_name: str = "",
    mailbox_name: str = "",
    mailbox: Any = None,
    mailbox_organisation_name: str = "",
    detail: str = "",
    actor_name: str = "",
) -> list[AccessLog]:
    """One row for each (thread id, patient) of a page that shows many patients at once, in one
    INSERT, so a patient's log extract finds every page that showed their number."""
    if mailbox is not None:
        mailbox_name = mailbox.name
        mailbox_organisation_name = mailbox.organisation.name
    # A name of 150 + 150 characters is one more than the column holds: cut, never fail.
    user_name = (user.display_name() if user is not None and user.pk else actor_name)[:300]
    return AccessLog.objects.bulk_create(
        AccessLog(
            action=action,
            user_id_snapshot=getattr(user, "pk", None),
            user_name=user_name,
            organisation_name=organisation_name,
            mailbox_name=mailbox_name,
            mailbox_organisation_name=mailbox_organisation_name,
            thread_id_snapshot=thread_id,
            patient_id=patient_id,
            detail=detail[:500],
        )
        for thread_id, patient_id in threads
    )


def access_denied_log(
    *,
    user: Any,
    organisation_name: str,
    mailbox_id: int,
    thread_id: int | None = None,
    mailbox_organisation_name: str = "",
) -> AccessLog | None:
    """Write that a door refused the user the mailbox or thread asked for (Patientdatalagen's log
    control), unless the user has had DENIED_LOG_LIMIT such rows within DENIED_LOG_WINDOW.

    The detail names the ids from the URL and nothing else: not the mailbox's name, not whether
    it exists, never a patient. The row tells no more than the address the user typed did.

    The limit is one look at the partial index on this user's DENIED rows, then the insert,
    without a lock: two refusals of the same user at the same moment may both see room for one
    more and both write. That overshoots by at most the user's concurrent requests, a few rows,
    which is acceptable; a lock would cost every refusal for nothing a crawler could exploit.
    """
    since = timezone.now() - DENIED_LOG_WINDOW
    with transaction.atomic():
        # Counted no further than the limit, unsorted: a few entries of the partial index.
        recent = AccessLog.objects.filter(
            action=AccessLog.Action.DENIED, user_id_snapshot=user.pk, at__gt=since
        ).order_by()[:DENIED_LOG_LIMIT]
        if recent.count() >= DENIED_LOG_LIMIT:
            return None
        detail = f"brevlåda {mailbox_id}"
        if thread_id is not None:
            detail += f", ärende {thread_id}"
        return access_log(
            action=AccessLog.Action.DENIED,
            user=user,
            organisation_name=organisation_name,
            mailbox_organisation_name=mailbox_organisation_name,
            thread_id=thread_id,
            detail=detail,
        )


# The hash chain (issue 10, R18). The formulas are SQL, in migration 0005; these run them.

SEAL_BATCH = 5_000
GENESIS = "0" * 64  # what the first link follows


def access_log_seal(*, batch: int = SEAL_BATCH) -> dict[str, int]:
    """Chain every row written since the last run (the `audit_seal` job, every minute).

    In batches, each its own transaction, so a backlog never holds one long lock. Another
    sealer running at the same moment is left to it.
    """
    sealed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT audit_seal(%s)", [batch])
            count: int = cursor.fetchone()[0]
        if count < 0:
            return {"sealed": sealed, "busy": 1}
        sealed += count
        if count < batch:
            return {"sealed": sealed}


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: the row, and what is wrong with it."""

    entry_id: int
    at: datetime | None
    problem: str

    def __str__(self) -> str:
        when = f" ({timezone.localtime(self.at):%Y-%m-%d %H:%M})" if self.at else ""
        return f"rad {self.entry_id}{when}: {self.problem}"


@dataclass(frozen=True)
class Verdict:
    rows: int
    links: int
    head: str  # the newest link's hash: written down each night, outside the table
    broken: Break | None


_CONTENT_CHANGED = """
    SELECT id, at FROM audit_accesslog
    WHERE content_hash IS DISTINCT FROM audit_hash(audit_accesslog_content(audit_accesslog))
    ORDER BY id LIMIT 1
"""
# A link whose hash is not its own, or that does not follow the link before it. The first
# remaining link's prev_hash is taken as given: the retention job removed what it followed.
_LINK_BROKEN = """
    SELECT s.entry_id, l.at, l.id IS NULL AS gone
    FROM (
        SELECT seq, entry_id, prev_hash, hash, lag(hash) OVER (ORDER BY seq) AS before
        FROM audit_accesslogseal
    ) s
    LEFT JOIN audit_accesslog l ON l.id = s.entry_id
    WHERE l.id IS NULL
       OR s.hash <> audit_hash(s.prev_hash || ':' || s.entry_id || ':' || l.content_hash)
       OR s.prev_hash <> coalesce(s.before, s.prev_hash)
    ORDER BY s.seq LIMIT 1
"""
# A row neither chained nor waiting to be: taken out of the queue behind the app's back.
_UNCHAINED = """
    SELECT l.id, l.at FROM audit_accesslog l
    WHERE NOT EXISTS (SELECT 1 FROM audit_accesslogseal s WHERE s.entry_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM audit_accesslogunsealed q WHERE q.entry_id = l.id)
    ORDER BY l.id LIMIT 1
"""


def access_log_verify() -> Verdict:
    """Check every row's content against its hash, and every link against the one before.

    Three passes of PostgreSQL over the tables, no row leaves the server: at two million rows,
    seconds. Returns the first break found (the earliest row) or none.
    """
    breaks: list[Break] = []
    with connection.cursor() as cursor:
        cursor.execute(_CONTENT_CHANGED)
        if row := cursor.fetchone():
            breaks.append(Break(row[0], row[1], "innehållet stämmer inte med radens hash"))
        cursor.execute(_LINK_BROKEN)
        if row := cursor.fetchone():
            problem = "raden saknas" if row[2] else "länken följer inte kedjan"
            breaks.append(Break(row[0], row[1], problem))
        cursor.execute(_UNCHAINED)
        if row := cursor.fetchone():
            breaks.append(Break(row[0], row[1], "raden finns varken i kedjan eller i kön"))
        cursor.execute(
            "SELECT (SELECT count(*) FROM audit_accesslog), (SELECT count(*) FROM"
            " audit_accesslogseal), (SELECT hash FROM audit_accesslogseal ORDER BY seq DESC"
            " LIMIT 1)"
        )
        rows, links, head = cursor.fetchone()
    first = min(breaks, key=lambda b: b.entry_id) if breaks else None
    return Verdict(rows=rows, links=links, head=head or GENESIS, broken=first)


def retention_cutoff(years: int) -> datetime:
    """The moment before which rows may go: `years` before PostgreSQL's now, never fewer than
    five (the trigger holds to five whatever is asked)."""
    if years < MIN_RETENTION_YEARS:
        raise ValueError(f"the access log is kept at least {MIN_RETENTION_YEARS} years")
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() - make_interval(years => %s)", [years])
        cutoff: datetime = cursor.fetchone()[0]
    return cutoff


MIN_RETENTION_YEARS = 5
RETENTION_BATCH = 10_000


def access_log_retention(*, years: int) -> dict[str, int]:
    """Remove the rows older than `years` (the `audit_retention` job, yearly), chain links
    first, oldest first, in batches.

    Only rows that are chained and come before every link that stays go, so the chain still
    verifies from its first remaining link. A summary row says what went.
    """
    cutoff = retention_cutoff(years)
    removed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # The trigger lets this transaction delete rows older than the cut-off, no others.
            cursor.execute("SELECT set_config('audit.retention_cutoff', %s::text, true)", [cutoff])
            cursor.execute(
                """
                WITH keep_from AS (
                    SELECT coalesce(min(s.seq), (SELECT max(seq) + 1 FROM audit_accesslogseal))
                        AS seq
                    FROM audit_accesslogseal s JOIN audit_accesslog l ON l.id = s.entry_id
                    WHERE l.at >= %s
                ), doomed AS (
                    SELECT s.seq, s.entry_id FROM audit_accesslogseal s, keep_from k
                    WHERE s.seq < k.seq ORDER BY s.seq LIMIT %s
                ), links AS (
                    DELETE FROM audit_accesslogseal WHERE seq IN (SELECT seq FROM doomed)
                    RETURNING entry_id
                )
                SELECT array_agg(entry_id) FROM links
                """,
                [cutoff, RETENTION_BATCH],
            )
            entries = cursor.fetchone()[0] or []
            cursor.execute("DELETE FROM audit_accesslog WHERE id = ANY(%s)", [entries])
        removed += len(entries)
        if len(entries) < RETENTION_BATCH:
            break
    if removed:
        access_log(
            action=AccessLog.Action.ADMIN,
            actor_name="Gallring av åtkomstloggen",
            detail=f"Tog bort {removed} loggrader äldre än "
            f"{timezone.localtime(cutoff):%Y-%m-%d} ({years} år).",
        )
    return {"removed": removed}
