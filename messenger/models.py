from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from mailboxes.models import Mailbox
from messenger.patients import mask_patient_id

REPLY_WINDOW = timedelta(hours=72)  # R9
MAX_REPLY_WINDOW_HOURS = 336  # two weeks: the longest reply window administrators may set (R7)


class Category(models.Model):
    """A heading from R7. System administrators edit the list; one that asks no action (as
    "För kännedom" does) has no reply window (R8)."""

    name = models.CharField(
        _("namn"),
        max_length=100,
        unique=True,
        error_messages={
            "blank": _("Ange kategorins namn."),
            "unique": _("Det finns redan en kategori med det namnet."),
        },
    )
    position = models.PositiveSmallIntegerField(default=0)
    requires_action = models.BooleanField(_("kräver åtgärd"), default=True)
    reply_window_hours = models.PositiveSmallIntegerField(
        _("svarstid i timmar"),
        null=True,
        blank=True,
        help_text=_("Tomt: 72 timmar."),
        validators=[
            MinValueValidator(1, _("Svarstiden måste vara minst 1 timme.")),
            MaxValueValidator(
                MAX_REPLY_WINDOW_HOURS, _("Svarstiden får vara högst 336 timmar (14 dygn).")
            ),
        ],
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("kategori")
        verbose_name_plural = _("kategorier")
        constraints = [
            models.CheckConstraint(
                condition=Q(reply_window_hours__range=(1, MAX_REPLY_WINDOW_HOURS))
                | Q(reply_window_hours__isnull=True),
                name="category_reply_window_range",
            ),
            models.CheckConstraint(
                condition=Q(requires_action=True) | Q(reply_window_hours__isnull=True),
                name="category_no_action_no_window",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.requires_action and self.reply_window_hours is not None:
            # Refused rather than dropped: the administrator may have meant to ask for action.
            raise ValidationError(
                {
                    "reply_window_hours": _(
                        "En kategori som inte kräver åtgärd har ingen svarstid. Töm fältet "
                        "eller markera att kategorin kräver åtgärd."
                    )
                }
            )

    def reply_window(self) -> timedelta | None:
        if not self.requires_action:
            return None
        if self.reply_window_hours:
            return timedelta(hours=self.reply_window_hours)
        return REPLY_WINDOW


class ThreadQuerySet(models.QuerySet["Thread"]):
    def waiting_from(self, mailbox: Mailbox) -> "ThreadQuerySet":
        """The mailbox's questions still waiting for an answer, the most overdue first."""
        return self.filter(
            sender_mailbox=mailbox,
            # Still held there: a thread the mailbox emptied from its trash is not its own.
            deliveries__mailbox=mailbox,
            reply_due_at__isnull=False,
            answered_at__isnull=True,
            followed_up_at__isnull=True,
        ).order_by("reply_due_at", "pk")

    def on_legal_hold(self) -> "ThreadQuerySet":
        return self.filter(legal_hold_at__isnull=False)

    def purgeable(self, cutoff: datetime) -> "ThreadQuerySet":
        """Threads the purge has work in (R16): a message or a history event from before
        `cutoff`, and no legal hold.

        Events count on their own: a forward ten days after the question ages ten days after
        it, when the purge may already have taken the question.
        A thread on hold keeps everything, its year-old messages too, until the hold is released.
        """
        return self.filter(legal_hold_at__isnull=True).filter(
            Q(pk__in=Message.objects.filter(sent_at__lt=cutoff).values("thread_id"))
            | Q(pk__in=ThreadEvent.objects.filter(at__lt=cutoff).values("thread_id"))
        )


class Thread(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("ämne"), max_length=200)
    # 12 digits, personnummer or samordningsnummer; never in a URL, a title or a log line.
    patient_id = models.CharField(_("patient"), max_length=12, db_index=True)
    sender_mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    recipient_mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reply_due_at = models.DateTimeField(_("svar senast"), null=True, blank=True)
    answered_at = models.DateTimeField(_("besvarad"), null=True, blank=True)
    # The current question's clock, copied from its Question row so that lists need no join:
    # reply_due_at and answered_at above, and when the asking side followed it up by phone.
    followed_up_at = models.DateTimeField(_("uppföljd per telefon"), null=True, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    # Who in the receiving mailbox opened the thread first, and when.
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Subject and every message body, kept up to date by the services, for Swedish full-text search.
    search_vector = SearchVectorField(null=True, editable=False)
    # Legal hold: a system administrator keeps the thread from the purge until released. On the
    # thread, not in a model of its own: one hold at a time, read by the purge without a join;
    # each hold and release is in the access log and the thread's history.
    legal_hold_at = models.DateTimeField(_("i bevarande sedan"), null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_hold_reason = models.CharField(_("skäl till bevarande"), max_length=300, blank=True)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            GinIndex(fields=["search_vector"], name="thread_search_idx"),
            # Search by patient: a patient's few threads, rather than a walk through the whole
            # mailbox asking each thread whose it is.
            models.Index(fields=["patient_id"], name="thread_patient_idx"),
            # "Väntar på svar": a mailbox's sent questions still open, by due time.
            models.Index(
                fields=["sender_mailbox", "reply_due_at"],
                condition=Q(
                    reply_due_at__isnull=False,
                    answered_at__isnull=True,
                    followed_up_at__isnull=True,
                ),
                name="thread_waiting_idx",
            ),
            models.Index(
                fields=["legal_hold_at"],
                condition=Q(legal_hold_at__isnull=False),
                name="thread_legal_hold_idx",
            ),
        ]
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")

    def __str__(self) -> str:
        return f"Ärende {self.pk}"

    def is_overdue(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.has_open_question() and now > self.reply_due_at  # type: ignore[operator]

    def has_open_question(self) -> bool:
        """A question is waiting: its clock runs until an answer or a follow-up by phone."""
        return (
            self.reply_due_at is not None
            and self.answered_at is None
            and self.followed_up_at is None
        )

    def deadline(self, now: datetime | None = None) -> "Deadline | None":
        """The current question's clock as the pages show it; None when nothing was ever asked
        that needs an answer ("För kännedom", R8)."""
        return Deadline.of_thread(self, now)

    def masked_patient(self) -> str:
        return mask_patient_id(self.patient_id)

    def is_on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None

    def is_receiving_side(self, mailbox_id: int) -> bool:
        """Whether a reply from this mailbox answers the thread (R9).

        The recipient's mailbox does, and so does a colleague's the receiving side forwarded the
        thread to, however many forwards away. A colleague the sender's side forwarded it to
        does not: the question is still waiting for the recipient.
        """
        if mailbox_id in (self.recipient_mailbox_id, self.sender_mailbox_id):
            return mailbox_id == self.recipient_mailbox_id
        came_from = dict(
            Delivery.objects.filter(thread=self, forwarded_from__isnull=False).values_list(
                "mailbox_id", "forwarded_from_id"
            )
        )
        seen: set[int] = set()
        current = came_from.get(mailbox_id)
        # Forwarding back and forth can make a loop in the records: it answers nothing.
        while current is not None and current not in seen:
            if current in (self.recipient_mailbox_id, self.sender_mailbox_id):
                return current == self.recipient_mailbox_id
            seen.add(current)
            current = came_from.get(current)
        return False


class Deadline:
    """R9: the recipient has 72 hours; the sender sees how much is left or how late it is."""

    def __init__(
        self,
        *,
        due: datetime,
        answered_at: datetime | None,
        now: datetime,
        followed_up_at: datetime | None = None,
    ) -> None:
        self.due = due
        self.answered_at = answered_at
        self.followed_up_at = followed_up_at
        self.now = now

    @classmethod
    def of_thread(cls, thread: Any, now: datetime | None = None) -> "Deadline | None":
        """The clock of a thread, or of a list's row of one (anything with the thread's
        reply_due_at, answered_at and followed_up_at); None when no answer is asked."""
        if thread.reply_due_at is None:
            return None
        return cls(
            due=thread.reply_due_at,
            answered_at=thread.answered_at,
            followed_up_at=thread.followed_up_at,
            now=now or timezone.now(),
        )

    @property
    def is_followed_up(self) -> bool:
        """The asking side took it up by phone instead: the clock stopped without an answer."""
        return self.answered_at is None and self.followed_up_at is not None

    @property
    def is_met(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.due

    @property
    def is_answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.due

    @property
    def is_overdue(self) -> bool:
        return self.answered_at is None and self.followed_up_at is None and self.now > self.due

    # Whole hours, and whole minutes for the last hour: "0 h kvar" would read as too late.
    @property
    def minutes_left(self) -> int:
        return max(0, int((self.due - self.now).total_seconds() // 60))

    @property
    def hours_left(self) -> int:
        return self.minutes_left // 60

    @property
    def minutes_late(self) -> int:
        end = self.answered_at or self.followed_up_at or self.now
        return max(0, int((end - self.due).total_seconds() // 60))

    @property
    def hours_late(self) -> int:
        return self.minutes_late // 60


class QuestionQuerySet(models.QuerySet["Question"]):
    def open(self) -> "QuestionQuerySet":
        return self.filter(answered_at__isnull=True, followed_up_at__isnull=True)

    def to_remind(self, now: datetime) -> "QuestionQuerySet":
        # Not once the time has run out (the job was down): the overdue alert says it all.
        return self.open().filter(remind_at__lte=now, due_at__gt=now, reminded_at__isnull=True)

    def to_alert(self, now: datetime) -> "QuestionQuerySet":
        return self.open().filter(due_at__lte=now, alerted_at__isnull=True)


class Question(models.Model):
    """One question's reply clock (R9): the recipient has the category's reply window to answer.

    A message from the asking side starts one when none is running; the receiving side's reply
    stops it, and so does the asking side's follow-up by phone (above all once it has run out:
    R9 puts the sender in charge then). The deadline
    job reminds the receiving mailbox at `remind_at` and alerts the asking side at `due_at`, each
    once: `reminded_at` and `alerted_at` say it was done.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_by_name = models.CharField(max_length=300)
    asked_from = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by_name = models.CharField(max_length=300, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by_name = models.CharField(max_length=300, blank=True)
    followed_up_note = models.CharField(_("anteckning"), max_length=500, blank=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [
            # The deadline job's two sweeps: each finds its due rows along an index of open
            # questions only, so a sweep with nothing to do costs the same at any size.
            models.Index(
                fields=["remind_at"],
                condition=Q(
                    reminded_at__isnull=True, answered_at__isnull=True, followed_up_at__isnull=True
                ),
                name="question_to_remind_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(
                    alerted_at__isnull=True, answered_at__isnull=True, followed_up_at__isnull=True
                ),
                name="question_to_alert_idx",
            ),
            # The hourly statistics count (R19) reads a month's questions.
            models.Index(fields=["asked_at"], name="question_asked_at_idx"),
        ]
        verbose_name = _("fråga")
        verbose_name_plural = _("frågor")

    def __str__(self) -> str:
        return f"Fråga {self.pk} i ärende {self.thread_id}"

    def deadline(self, now: datetime | None = None) -> Deadline:
        return Deadline(
            due=self.due_at,
            answered_at=self.answered_at,
            followed_up_at=self.followed_up_at,
            now=now or timezone.now(),
        )


class Message(models.Model):
    """One message in a thread. Immutable once sent: there is no edit, only a new message."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Snapshots: what the reader saw at the time, even after people change jobs.
    author_name = models.CharField(max_length=300)
    author_profession = models.CharField(max_length=100)
    author_organisation = models.CharField(max_length=200)
    sender_mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("meddelande"), max_length=10_000)
    sent_at = models.DateTimeField(default=timezone.now)
    # The compose form's one-time token: a double-clicked or re-posted form sends once.
    client_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["sent_at", "pk"]
        # The nightly purge finds year-old messages by this (R16).
        indexes = [models.Index(fields=["sent_at"], name="message_sent_at_idx")]
        verbose_name = _("meddelande")
        verbose_name_plural = _("meddelanden")

    def __str__(self) -> str:
        return f"Meddelande {self.pk}"


class Delivery(models.Model):
    """A thread as one mailbox holds it: its folder and read state there."""

    class Folder(models.TextChoices):
        INBOX = "inbox", _("Inkorg")
        SENT = "sent", _("Skickat")
        ARCHIVE = "archive", _("Arkiv")
        TRASH = "trash", _("Papperskorg")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="deliveries")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="deliveries")
    folder = models.CharField(max_length=10, choices=Folder.choices, default=Folder.INBOX)
    read_at = models.DateTimeField(null=True, blank=True)
    # A copy of the thread's, so a folder pages along one index on this table (keyset pagination).
    last_message_at = models.DateTimeField(default=timezone.now)
    forwarded_from = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "mailbox"], name="one_delivery_per_mailbox"),
        ]
        indexes = [
            models.Index(
                fields=["mailbox", "folder"],
                condition=Q(read_at__isnull=True),
                name="delivery_unread_idx",
            ),
            models.Index(
                fields=["mailbox", "folder", "-last_message_at", "-id"],
                name="delivery_folder_page_idx",
            ),
            # A search across the folders, newest first: it stops at the first page of matches.
            models.Index(fields=["mailbox", "-last_message_at", "-id"], name="delivery_recent_idx"),
        ]
        verbose_name = _("leverans")
        verbose_name_plural = _("leveranser")

    def __str__(self) -> str:
        return f"Ärende {self.thread_id} i {self.mailbox_id} ({self.folder})"

    def folder_choices(self) -> list[tuple[str, str | Promise]]:
        """The folders the thread may move to here: Skickat only in the mailbox that sent it."""
        return [
            (value, label)
            for value, label in self.Folder.choices
            if value != self.Folder.SENT or self.mailbox_id == self.thread.sender_mailbox_id
        ]


class JournalLink(models.Model):
    """A reference to a journal note or the medication list in the health centre's record (R11).

    Linked, never copied: the app keeps the title and the record system's reference only.
    """

    class Kind(models.TextChoices):
        JOURNAL_NOTE = "journal_note", _("Journalanteckning")
        MEDICATION_LIST = "medication_list", _("Läkemedelslista")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="journal_links")
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("rubrik"), max_length=200)
    reference = models.CharField(_("referens i journalsystemet"), max_length=200)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attached_by_name = models.CharField(max_length=300)
    attached_from = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="+")
    attached_at = models.DateTimeField(default=timezone.now)
    # The form's one-time token: a double-clicked "Bifoga länk" attaches once.
    client_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["attached_at", "pk"]
        verbose_name = _("journallänk")
        verbose_name_plural = _("journallänkar")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class JournalLinkRecipient(models.Model):
    """The ledger R11 asks for: which mailbox and which person a link was sent or forwarded to."""

    class Via(models.TextChoices):
        SENT = "sent", _("Skickad")
        FORWARDED = "forwarded", _("Vidarebefordrad")

    link = models.ForeignKey(JournalLink, on_delete=models.CASCADE, related_name="recipients")
    via = models.CharField(max_length=10, choices=Via.choices)
    mailbox_name = models.CharField(max_length=200)
    person_name = models.CharField(max_length=300, blank=True)
    by_name = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("mottagare av journallänk")
        verbose_name_plural = _("mottagare av journallänkar")

    def __str__(self) -> str:
        return f"{self.link_id} → {self.mailbox_name} {self.person_name}".strip()


class ThreadEvent(models.Model):
    """The thread's history beside its messages: forwards, journal links, follow-ups and holds."""

    class Kind(models.TextChoices):
        FORWARDED = "forwarded", _("Vidarebefordrat")
        LINK_ATTACHED = "link_attached", _("Journallänk bifogad")
        FOLLOWED_UP = "followed_up", _("Följt upp per telefon")
        LEGAL_HOLD = "legal_hold", _("Satt i bevarande")
        LEGAL_HOLD_RELEASED = "legal_hold_released", _("Bevarande hävt")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_name = models.CharField(max_length=300)
    from_mailbox_name = models.CharField(max_length=200)
    to_name = models.CharField(max_length=300, blank=True)
    comment = models.TextField(blank=True, max_length=2000)
    # The forward form's one-time token: a double-clicked "Vidarebefordra" forwards once.
    client_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        # The nightly purge finds year-old history by this (R16).
        indexes = [models.Index(fields=["at"], name="threadevent_at_idx")]
        verbose_name = _("händelse")
        verbose_name_plural = _("händelser")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class JobStatus(models.Model):
    """How a background job's last run went (messenger.jobs), for the operators' page."""

    name = models.CharField(max_length=50, unique=True)
    last_started_at = models.DateTimeField()
    last_finished_at = models.DateTimeField()
    last_ok = models.BooleanField()
    last_summary = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("jobbstatus")
        verbose_name_plural = _("jobbstatus")

    def __str__(self) -> str:
        return self.name


class StatisticsMonth(models.Model):
    """A month whose statistics (R19) are counted into MonthlyFigures, and when.

    Months more than two months back are counted once and kept: the purge (R16) removes their
    messages after a year, and the figures, which hold no patient data, outlive them.
    """

    month = models.DateField(unique=True)  # the first day of the month
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class MonthlyFigures(models.Model):
    """One organisation's figures for one month, counterpart and category (R19).

    Counts, never a patient, a subject or a text: the statistics page reads these rows through
    the organisation-and-month index instead of counting a year of messages per request.
    """

    month = models.DateField()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counterpart = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    sent = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)  # answered or overdue
    within = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    median = models.DurationField(null=True)
    forwarded = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "month", "counterpart", "category"],
                name="one_figures_row_per_cell",
            )
        ]
        # The job replaces a month; the region's page reads months of every organisation.
        indexes = [models.Index(fields=["month"], name="figures_month_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.organisation_id}/{self.counterpart_id}"


class LogReview(models.Model):
    """A log reviewer's systematic review of their organisation's access log (R18): a sample of
    reads, each row marked OK or to be investigated, then closed.

    Kept here rather than in `audit`: the access log is append-only and `audit` imports no
    other app, so what the reviewer judged lives beside it, in tables of its own.
    """

    class Kind(models.TextChoices):
        RANDOM = "random", _("Slumpmässigt urval")
        OFF_HOURS = "off_hours", _("Läsningar utanför kontorstid")
        PERSON = "person", _("En persons läsningar")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="log_reviews"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    period_start = models.DateField()
    period_end = models.DateField()  # the last day included
    sample_size = models.PositiveSmallIntegerField(null=True, blank=True)  # RANDOM only
    person_name = models.CharField(max_length=300, blank=True)  # PERSON only
    # More reads matched than a review takes (LOG_REVIEW_MAX_ROWS): the oldest were drawn.
    capped = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(max_length=200, blank=True)  # "18 OK, 2 utreds"

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "-started_at"], name="logreview_org_idx"),
        ]
        verbose_name = _("granskning av åtkomstloggen")
        verbose_name_plural = _("granskningar av åtkomstloggen")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class LogReviewItem(models.Model):
    """One access-log row drawn into a review, and the reviewer's verdict on it.

    The row is named by its id, not a foreign key: the retention job removes log rows after
    five years or more and must not be held up by a review. What the reviewer judged (the time,
    the sentence, the patient) is kept as a snapshot, so a review still reads after that.
    """

    class Verdict(models.TextChoices):
        UNMARKED = "", _("Inte granskad")
        OK = "ok", _("OK")
        INVESTIGATE = "utreds", _("Utreds")

    review = models.ForeignKey(LogReview, on_delete=models.CASCADE, related_name="items")
    entry_id = models.BigIntegerField()
    at = models.DateTimeField()
    text = models.TextField()  # messenger.log_control.describe(row) when it was drawn
    patient_id = models.CharField(max_length=12, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "entry_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "entry_id"], name="logreviewitem_once"),
        ]
        verbose_name = _("granskad loggrad")
        verbose_name_plural = _("granskade loggrader")

    def __str__(self) -> str:
        return f"rad {self.entry_id}: {self.verdict or '-'}"


class Notice(models.Model):
    """A notice about the system itself (R20): news, planned maintenance, an outage or a
    risk and consequence analysis (ROS), published by system administrators.

    Never patient data: forms refuse a personnummer in title and text, and the Atom feed and
    the notices page show them to anyone who reads them.
    """

    class Kind(models.TextChoices):
        NEWS = "news", _("Nyhet")
        MAINTENANCE = "maintenance", _("Planerat underhåll")
        OUTAGE = "outage", _("Driftstörning")
        ROS = "ros", _("Risk- och sårbarhetsanalys (ROS)")

    # The kinds that show as a banner on every page while active.
    BANNER_KINDS = (Kind.MAINTENANCE, Kind.OUTAGE)

    title = models.CharField(_("rubrik"), max_length=150)
    text = models.TextField(_("text"), max_length=2000)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField(_("börjar"))
    # No end: news that does not expire (or an outage whose end nobody knows yet).
    ends_at = models.DateTimeField(_("slutar"), null=True, blank=True)
    # One token per rendered form: a double click publishes once.
    client_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="notice_ends_after_start",
            ),
        ]
        verbose_name = _("driftmeddelande")
        verbose_name_plural = _("driftmeddelanden")

    def __str__(self) -> str:
        return self.title

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @property
    def period(self) -> str:
        """ "2026-11-22 14:05–16:00" in Stockholm time; the end's date only when it differs."""
        start = timezone.localtime(self.starts_at)
        shown = f"{start:%Y-%m-%d %H:%M}"
        if self.ends_at is None:
            return f"{shown}–"
        end = timezone.localtime(self.ends_at)
        if end.date() == start.date():
            return f"{shown}–{end:%H:%M}"
        return f"{shown}–{end:%Y-%m-%d %H:%M}"


class NoticeRead(models.Model):
    """That a user has marked a news notice read: it no longer shows on their start page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_reads"
    )
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "notice"], name="noticeread_once"),
        ]
        verbose_name = _("läst driftmeddelande")
        verbose_name_plural = _("lästa driftmeddelanden")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.notice_id}"


class FaultReport(models.Model):
    """A fault report (Felanmälan, R22): it goes to the reporter's organisation's superusers
    first, who answer it, close it, or escalate it to the region's system administrators.

    The text refuses personnummer (checked in the service): support is not patient care, and
    superusers and administrators read it without a grant to any mailbox.
    """

    class Status(models.TextChoices):
        NEW = "new", _("Ny")
        ANSWERED = "answered", _("Besvarad")
        ESCALATED = "escalated", _("Skickad till regionen")
        CLOSED = "closed", _("Avslutad")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fault_reports"
    )
    # The reporter's working organisation when reporting: its superusers answer first.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="fault_reports"
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("brevlåda"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    what_happened = models.TextField(_("vad hände"), max_length=2000)
    happened_at = models.DateTimeField(_("när hände det"), default=timezone.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # Set when superusers escalate: from then on the region's administrators see it too.
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    client_token = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="faultreport_org_idx"),
        ]
        verbose_name = _("felanmälan")
        verbose_name_plural = _("felanmälningar")

    def __str__(self) -> str:
        return f"Felanmälan {self.pk} ({self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class FaultReportEvent(models.Model):
    """An answer, an escalation or a closing of a fault report: the thread the reporter sees."""

    class Kind(models.TextChoices):
        ANSWER = "answer", _("Svar")
        ESCALATION = "escalation", _("Skickad till regionen")
        CLOSE = "close", _("Avslutad")

    report = models.ForeignKey(FaultReport, on_delete=models.CASCADE, related_name="events")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("händelse i felanmälan")
        verbose_name_plural = _("händelser i felanmälningar")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class SelfTestCompletion(models.Model):
    """A person has answered all five questions of the self-test "Kom igång" right (R23).

    One row a person, ever: the unique user is what keeps a second completion, or two posts at
    the same moment, from saving anything twice. Their organisation's superusers see it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="self_test_completion",
    )
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("genomfört självtest")
        verbose_name_plural = _("genomförda självtest")

    def __str__(self) -> str:
        return f"{self.user} {self.completed_at:%Y-%m-%d %H:%M}"


class TourDismissal(models.Model):
    """A person has closed the start page's first-sign-in tour with "Jag har förstått" (R23).

    A model of its own rather than a field on User: the accounts app knows nothing of help, and
    the tour is shown exactly while a person has no row here.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tour_dismissal",
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} {self.dismissed_at:%Y-%m-%d %H:%M}"
