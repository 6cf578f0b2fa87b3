from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mailboxes.models import Mailbox
from messenger.patients import mask_patient_id

REPLY_WINDOW = timedelta(hours=72)  # R9


class Category(models.Model):
    """A heading from R7. Administrators may edit the list; "För kännedom" asks no action (R8)."""

    name = models.CharField(_("namn"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    requires_action = models.BooleanField(_("kräver åtgärd"), default=True)
    reply_window_hours = models.PositiveSmallIntegerField(
        _("svarstid i timmar"), null=True, blank=True, help_text=_("Tomt: 72 timmar.")
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("kategori")
        verbose_name_plural = _("kategorier")

    def __str__(self) -> str:
        return self.name

    def reply_window(self) -> timedelta | None:
        if not self.requires_action:
            return None
        if self.reply_window_hours:
            return timedelta(hours=self.reply_window_hours)
        return REPLY_WINDOW


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
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")

    def __str__(self) -> str:
        return f"Ärende {self.pk}"

    def is_overdue(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.reply_due_at is not None and self.answered_at is None and now > self.reply_due_at
        )

    def masked_patient(self) -> str:
        return mask_patient_id(self.patient_id)


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

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("meddelande")
        verbose_name_plural = _("meddelanden")

    def __str__(self) -> str:
        return f"Meddelande {self.pk}"


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def unread(self) -> "DeliveryQuerySet":
        return self.filter(read_at__isnull=True)


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
    first_read_at = models.DateTimeField(null=True, blank=True)
    first_read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    forwarded_from = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = DeliveryQuerySet.as_manager()

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
        ]
        verbose_name = _("leverans")
        verbose_name_plural = _("leveranser")

    def __str__(self) -> str:
        return f"Ärende {self.thread_id} i {self.mailbox_id} ({self.folder})"
