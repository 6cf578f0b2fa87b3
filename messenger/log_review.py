"""The systematic review of the access log (R18): a log reviewer draws a sample of their
organisation's reads, marks each row OK or Utreds with a note, and closes the review.

The access log itself is append-only: a review keeps its own rows (messenger.models.LogReview
and LogReviewItem), naming the log rows by id with a snapshot of what was judged. Starting a
review, marking a row and closing one are each written to the access log (LOG_REVIEW), the
marked row's patient in the row's own column, never in its detail.
"""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organisation, User
from audit.models import AccessLog
from audit.services import access_log, retention_cutoff
from mailboxes.models import swedish_holidays
from messenger.log_control import LogQuery, describe, organisation_rows
from messenger.models import LogReview, LogReviewItem

LOG_REVIEW_MAX_ROWS = 500  # a review a person can get through; larger draws are capped
RANDOM_MAX_DAYS = 366  # a random sample's period: ORDER BY random() never sorts the whole log
# Reads before 07:00 or from 18:00 Stockholm time, at weekends and on Swedish public holidays
# and eves are outside office hours.
OFFICE_OPENS = 7
OFFICE_CLOSES = 18
NOTE_MAX = 500  # LogReviewItem.note

Kind = LogReview.Kind
Verdict = LogReviewItem.Verdict


@dataclass(frozen=True)
class Sample:
    """What to draw: the kind, the period (both days included) and the kind's own criterion."""

    kind: str
    start: date
    end: date
    size: int | None = None  # RANDOM
    person: str = ""  # PERSON

    def summary(self) -> str:
        """The sample in the log's own words (a staff member's name may be in it, no patient)."""
        period = f"{self.start}–{self.end}"
        if self.kind == Kind.RANDOM:
            return f"slumpmässigt urval om {self.size} läsningar {period}"
        if self.kind == Kind.OFF_HOURS:
            return f"läsningar utanför kontorstid {period}"
        return f"läsningar av '{self.person}' {period}"


def _reads(organisation: Organisation, sample: Sample) -> QuerySet[AccessLog]:
    query = LogQuery(action=AccessLog.Action.VIEW_THREAD, start=sample.start, end=sample.end)
    return query.filtered(organisation_rows(organisation))


def draw(organisation: Organisation, sample: Sample) -> tuple[list[AccessLog], bool]:
    """The rows the sample draws, and whether more matched than a review takes (capped).

    RANDOM takes `size` of the period's reads by ORDER BY random() LIMIT size, a top-N sort over
    at most a year of the organisation's reads. The others take every matching read, oldest
    first, at most LOG_REVIEW_MAX_ROWS.
    """
    rows = _reads(organisation, sample)
    if sample.kind == Kind.RANDOM:
        # The form refuses these with a message; here they guard the query's cost.
        if not sample.size or not 1 <= sample.size <= LOG_REVIEW_MAX_ROWS:
            raise ValueError(f"a random sample is 1-{LOG_REVIEW_MAX_ROWS} rows")
        if (sample.end - sample.start).days >= RANDOM_MAX_DAYS:
            raise ValueError("a random sample's period is at most a year")
        return list(rows.order_by("?")[: sample.size]), False
    if sample.kind == Kind.OFF_HOURS:
        stockholm = ZoneInfo(settings.TIME_ZONE)
        rows = rows.annotate(
            local_hour=ExtractHour("at", tzinfo=stockholm),
            local_weekday=ExtractIsoWeekDay("at", tzinfo=stockholm),
            local_day=TruncDate("at", tzinfo=stockholm),
        ).filter(
            Q(local_hour__lt=OFFICE_OPENS)
            | Q(local_hour__gte=OFFICE_CLOSES)
            | Q(local_weekday__gte=6)  # Saturday, Sunday
            # Public holidays and eves: Good Friday, Midsummer Eve, Christmas Eve …
            | Q(local_day__in=swedish_holidays(sample.start, sample.end))
        )
    elif sample.kind == Kind.PERSON:
        rows = rows.filter(user_name__iexact=sample.person.strip())
    else:
        raise ValueError(f"no such sample: {sample.kind}")
    drawn = list(rows.order_by("at", "pk")[: LOG_REVIEW_MAX_ROWS + 1])
    return drawn[:LOG_REVIEW_MAX_ROWS], len(drawn) > LOG_REVIEW_MAX_ROWS


def log_review_start(*, organisation: Organisation, user: User, sample: Sample) -> LogReview | None:
    """Draw the sample and start a review of it; None, and no review, if it drew no rows.

    Either way the draw is itself logged: it is a search of the log.
    """
    with transaction.atomic():
        rows, capped = draw(organisation, sample)
        if not rows:
            access_log(
                action=AccessLog.Action.LOG_REVIEW,
                user=user,
                organisation_name=organisation.name,
                detail=f"Drog {sample.summary()}: 0 rader, ingen granskning startad",
            )
            return None
        review = LogReview.objects.create(
            organisation=organisation,
            started_by=user,
            kind=sample.kind,
            period_start=sample.start,
            period_end=sample.end,
            sample_size=sample.size if sample.kind == Kind.RANDOM else None,
            person_name=sample.person.strip() if sample.kind == Kind.PERSON else "",
            capped=capped,
        )
        LogReviewItem.objects.bulk_create(
            LogReviewItem(
                review=review,
                entry_id=row.pk,
                at=row.at,
                text=describe(row),
                patient_id=row.patient_id,
            )
            for row in rows
        )
        cap = f", de {LOG_REVIEW_MAX_ROWS} äldsta av fler" if capped else ""
        access_log(
            action=AccessLog.Action.LOG_REVIEW,
            user=user,
            organisation_name=organisation.name,
            detail=f"Startade granskning {review.pk}: {sample.summary()}: {len(rows)} rader{cap}",
        )
    return review


def _locked_open(review_id: int) -> LogReview:
    """The review, locked against a mark and a close at the same moment; refused if closed."""
    review = LogReview.objects.select_for_update().select_related("organisation").get(pk=review_id)
    if review.is_closed:
        raise ValidationError(_("Granskningen är avslutad och kan inte ändras."), code="closed")
    return review


def log_review_mark(*, item: LogReviewItem, user: User, verdict: str, note: str) -> None:
    """Mark a row of an open review OK or Utreds, with a note; it may be marked again until
    the review is closed."""
    if verdict not in (Verdict.OK, Verdict.INVESTIGATE):
        raise ValidationError(_("Välj OK eller Utreds."), code="verdict")
    if len(note) > NOTE_MAX:
        raise ValidationError(_("Anteckningen får vara högst 500 tecken."), code="note")
    with transaction.atomic():
        review = _locked_open(item.review_id)
        item.verdict = verdict
        item.note = note
        item.marked_by = user
        item.marked_at = timezone.now()
        item.save(update_fields=["verdict", "note", "marked_by", "marked_at"])
        access_log(
            action=AccessLog.Action.LOG_REVIEW,
            user=user,
            organisation_name=review.organisation.name,
            patient_id=item.patient_id,
            detail=f"Granskning {review.pk}: markerade loggrad {item.entry_id} som "
            f"{'OK' if verdict == Verdict.OK else 'utreds'}",
        )


def outcome_of(ok: int, investigate: int) -> str:
    return f"{ok} OK, {investigate} utreds"


def log_review_close(*, review: LogReview, user: User) -> LogReview:
    """Close a review whose every row is marked, with its outcome ("18 OK, 2 utreds")."""
    with transaction.atomic():
        review = _locked_open(review.pk)
        by_verdict = review.items.order_by().values("verdict").annotate(n=Count("pk"))
        counts = {row["verdict"]: row["n"] for row in by_verdict}
        unmarked = counts.get(Verdict.UNMARKED, 0)
        if unmarked:
            raise ValidationError(
                ngettext(
                    "%(count)d rad är inte markerad än. Markera varje rad OK eller Utreds innan "
                    "granskningen avslutas.",
                    "%(count)d rader är inte markerade än. Markera varje rad OK eller Utreds "
                    "innan granskningen avslutas.",
                    unmarked,
                )
                % {"count": unmarked},
                code="unmarked",
            )
        review.outcome = outcome_of(counts.get(Verdict.OK, 0), counts.get(Verdict.INVESTIGATE, 0))
        review.closed_at = timezone.now()
        review.closed_by = user
        review.save(update_fields=["outcome", "closed_at", "closed_by"])
        access_log(
            action=AccessLog.Action.LOG_REVIEW,
            user=user,
            organisation_name=review.organisation.name,
            detail=f"Avslutade granskning {review.pk}: {review.outcome}",
        )
    return review


def reviews_of(organisation: Organisation) -> QuerySet[LogReview]:
    """The organisation's reviews, newest first, with their rows counted by verdict."""
    return (
        LogReview.objects.filter(organisation=organisation)
        .select_related("started_by", "closed_by")
        .annotate(
            rows=Count("items"),
            ok=Count("items", filter=Q(items__verdict=Verdict.OK)),
            investigate=Count("items", filter=Q(items__verdict=Verdict.INVESTIGATE)),
        )
        .order_by("-started_at", "-pk")
    )


def log_reviews_prune(*, years: int) -> dict[str, int]:
    """Remove the reviews of periods that ended more than `years` ago (the yearly retention job,
    with the access log's own years): their rows copy the log's, patients included, and must
    not outlive it. An open review is kept, however old, until someone closes it."""
    cutoff = timezone.localdate(retention_cutoff(years))
    old = LogReview.objects.filter(period_end__lt=cutoff, closed_at__isnull=False)
    _count, by_model = old.delete()
    return {"reviews_removed": by_model.get(LogReview._meta.label, 0)}
