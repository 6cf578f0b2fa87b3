import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Employment, Organisation, User, hsa_id_validator


class MailboxQuerySet(models.QuerySet["Mailbox"]):
    def active(self) -> "MailboxQuerySet":
        return self.filter(closed_at__isnull=True)

    def functional(self) -> "MailboxQuerySet":
        return self.filter(kind=Mailbox.Kind.FUNCTIONAL)

    def granted_to(self, user: User) -> "MailboxQuerySet":
        """Mailboxes the user holds a usable grant for right now, whatever its level."""
        return self.filter(pk__in=AccessGrant.objects.usable_by(user).values("mailbox_id"))


# R2: the health centre's mailbox that municipalities write to.
HEALTH_CENTRE_NAME = re.compile(r"^Vc \S.* Allmänmedicinska mottagningen \(FBL\)$")


class Mailbox(models.Model):
    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("Funktionsbrevlåda")
        PERSONAL = "personal", _("Personlig brevlåda")

    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="mailboxes"
    )
    name = models.CharField(_("namn"), max_length=200, unique=True)
    hsa_id = models.CharField(_("HSA-id"), max_length=31, blank=True, validators=[hsa_id_validator])
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="personal_mailbox",
        help_text=_("Endast för personliga brevlådor."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Closing is permanent (R14): there is no field or service that reopens a mailbox.
    closed_at = models.DateTimeField(_("stängd"), null=True, blank=True)
    # Out-of-office, for personal mailboxes only: R13 forbids it on functional ones, and the
    # database refuses it there too.
    absence_until = models.DateField(_("frånvarande till och med"), null=True, blank=True)
    absence_note = models.CharField(_("frånvaromeddelande"), max_length=300, blank=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="personal", owner__isnull=False)
                | Q(kind="functional", owner__isnull=True),
                name="personal_mailbox_has_owner",
            ),
            models.UniqueConstraint(
                fields=["hsa_id"], condition=~Q(hsa_id=""), name="unique_mailbox_hsa_id"
            ),
            models.CheckConstraint(
                condition=Q(kind="personal") | Q(absence_until__isnull=True, absence_note=""),
                name="no_absence_on_functional_mailbox",
            ),
        ]
        verbose_name = _("brevlåda")
        verbose_name_plural = _("brevlådor")

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def is_absent(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.absence_until is not None and self.absence_until >= today

    @property
    def is_functional(self) -> bool:
        return self.kind == self.Kind.FUNCTIONAL

    @property
    def is_other_health_centre_mailbox(self) -> bool:
        """R2: one of a health centre's mailboxes other than the one municipalities write to.

        Reads `organisation`: select it with the mailbox.
        """
        return self.organisation.is_health_centre and not HEALTH_CENTRE_NAME.match(self.name)


class AddressList(models.Model):
    """A municipality's preset list of its health centres' mailboxes (R3)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="address_list"
    )
    mailboxes = models.ManyToManyField(Mailbox, through="AddressListEntry", related_name="+")

    class Meta:
        verbose_name = _("förvalslista")
        verbose_name_plural = _("förvalslistor")

    def __str__(self) -> str:
        return f"Förvalslista {self.organisation}"


class AddressListEntry(models.Model):
    address_list = models.ForeignKey(AddressList, on_delete=models.CASCADE, related_name="entries")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "mailbox__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["address_list", "mailbox"], name="mailbox_once_per_address_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address_list}: {self.mailbox}"


class AccessGrantQuerySet(models.QuerySet["AccessGrant"]):
    def usable_by(self, user: User) -> "AccessGrantQuerySet":
        """The user's current grants, while the user is active and still holds the employment
        each grant was given for.

        A nurse who leaves Karlstad for Arvika reads nothing more of Karlstad's mail, even
        before an approver gets round to ending her grants (they still show in the review).
        """
        return self.usable().filter(user=user)

    def usable(self) -> "AccessGrantQuerySet":
        """Current grants that work: the holder is active and still has the job they were for."""
        return self.current().filter(user__is_active=True, employment__ended_at__isnull=True)

    def current(self) -> "AccessGrantQuerySet":
        now = timezone.now()
        return self.filter(
            Q(valid_from__lte=now),
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            ended_at__isnull=True,
        )


class AccessGrant(models.Model):
    """A user's access to one mailbox. No current grant: the mailbox does not exist for them."""

    class Level(models.IntegerChoices):
        # Ordered: each level includes the ones below it.
        READ = 10, _("Läsa")
        SEND = 20, _("Läsa och skicka")
        MANAGE = 30, _("Hantera")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_grants"
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="grants")
    # The job the access is needed for: the grant lapses when that employment ends.
    employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="grants", verbose_name=_("anställning")
    )
    level = models.PositiveSmallIntegerField(_("nivå"), choices=Level.choices)
    valid_from = models.DateTimeField(_("gäller från"), default=timezone.now)
    valid_until = models.DateTimeField(_("gäller till"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.CharField(_("skäl till avslut"), max_length=300, blank=True)
    last_used_at = models.DateTimeField(_("senast använd"), null=True, blank=True)

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["mailbox__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "mailbox"],
                condition=Q(ended_at__isnull=True),
                name="one_open_grant_per_user_and_mailbox",
            ),
        ]
        indexes = [models.Index(fields=["user", "mailbox"])]
        verbose_name = _("behörighet")
        verbose_name_plural = _("behörigheter")

    def __str__(self) -> str:
        return f"{self.user} → {self.mailbox} ({self.get_level_display()})"

    def is_current(self) -> bool:
        now = timezone.now()
        return (
            self.ended_at is None
            and self.valid_from <= now
            and (self.valid_until is None or self.valid_until > now)
        )

    def last_day(self) -> "date | None":
        """The last day the grant holds ("till och med"): it lapses when the next day begins."""
        if self.valid_until is None:
            return None
        return timezone.localdate(self.valid_until - timedelta(microseconds=1))

    def last_activity(self) -> "datetime":
        return self.last_used_at or self.valid_from

    def needs_review(self, *, days: int) -> bool:
        """Unused for `days` days: the approvers should ask whether it is still needed (R17)."""
        return self.last_activity() < timezone.now() - timedelta(days=days)


class AccessRequestQuerySet(models.QuerySet["AccessRequest"]):
    def pending(self) -> "AccessRequestQuerySet":
        return self.filter(status=AccessRequest.Status.PENDING)


class AccessRequest(models.Model):
    """An application for access to one mailbox, and the approver's decision on it (R17)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar på beslut")
        APPROVED = "approved", _("Beviljad")
        DENIED = "denied", _("Avslagen")

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="access_requests")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    # The applicant, or an access approver applying on their behalf.
    # The applicant's job the access is needed for; the grant follows it.
    applicant_employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="+", verbose_name=_("anställning")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(_("nivå"), choices=AccessGrant.Level.choices)
    justification = models.TextField(_("motivering"), max_length=2000)
    requested_until = models.DateField(_("önskas till och med"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    risk_assessed = models.BooleanField(_("behovs- och riskanalys gjord"), default=False)
    risk_note = models.TextField(_("behovs- och riskbedömning"), max_length=2000, blank=True)
    decision_reason = models.CharField(_("motivering av beslutet"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    grant = models.OneToOneField(
        AccessGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
    )

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "mailbox"],
                condition=Q(status="pending"),
                name="one_pending_request_per_user_and_mailbox",
            ),
        ]
        verbose_name = _("behörighetsansökan")
        verbose_name_plural = _("behörighetsansökningar")

    def __str__(self) -> str:
        return f"{self.applicant} → {self.mailbox} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


def local_midnight(day: date) -> datetime:
    """The start of `day` in Stockholm: 23 or 25 hours before the next one on a clock change."""
    return timezone.make_aware(datetime.combine(day, time.min))


@functools.cache
def _swedish_calendar(year: int) -> holidays.HolidayBase:
    # Without "de_facto" the eves (midsommar-, jul-, nyårsafton) would be working days.
    return holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))


def swedish_holidays(start: date, end: date) -> list[date]:
    """The Swedish public holidays and eves (Midsummer, Christmas and New Year's Eve) from
    `start` to `end`, both included."""
    days: list[date] = []
    for year in range(start.year, end.year + 1):
        days.extend(day for day in _swedish_calendar(year) if start <= day <= end)
    return sorted(days)


def default_check_times() -> list[time]:
    return [time(10, 0), time(15, 0)]


@dataclass(frozen=True)
class CheckPeriod:
    """The stretch of a day a check counts for one check time: from `starts` (the previous check
    time's end, or midnight) up to `due`, the end of the check time's minute."""

    check_time: time
    starts: datetime
    due: datetime

    def label(self) -> str:
        return f"{self.check_time:%H:%M}"


class MonitoringRoutine(models.Model):
    """A functional mailbox's local routine (R5, R24): who watches it, when, and who covers."""

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, related_name="routine")
    monitors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="monitored_mailboxes",
        verbose_name=_("bevakare"),
    )
    # Times of day, Stockholm time, on the unit's working days; kept sorted.
    check_times = ArrayField(
        models.TimeField(), verbose_name=_("bevakas klockan"), default=default_check_times
    )
    # Days the unit is closed besides weekends and public holidays, such as a "klämdag".
    closed_days = ArrayField(
        models.DateField(), verbose_name=_("stängda dagar"), default=list, blank=True
    )
    emptied_by = models.CharField(_("tömmer gamla meddelanden"), max_length=300, blank=True)
    holiday_cover = models.CharField(_("bevakning vid semester"), max_length=300, blank=True)
    access_updated_by = models.CharField(
        _("uppdaterar behörigheter när personal byts"), max_length=300, blank=True
    )
    # The reserve routine (R21): how other units reach this one while the system is down.
    reserve_phone = models.CharField(_("telefon vid driftstopp"), max_length=40, blank=True)
    reserve_hours = models.CharField(_("nås vid driftstopp"), max_length=200, blank=True)
    reserve_instructions = models.TextField(
        _("gör så här vid driftstopp"), max_length=1000, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lokal rutin")
        verbose_name_plural = _("lokala rutiner")

    def __str__(self) -> str:
        return f"Rutin {self.mailbox}"

    def has_reserve(self) -> bool:
        return bool(self.reserve_phone or self.reserve_hours or self.reserve_instructions)

    def check_times_text(self) -> str:
        return ", ".join(f"{moment:%H:%M}" for moment in self.check_times)

    def closed_days_text(self) -> str:
        return ", ".join(f"{day:%Y-%m-%d}" for day in self.closed_days)

    def coming_closed_days(self) -> list[date]:
        today = timezone.localdate()
        return [day for day in self.closed_days if day >= today]

    def is_working_day(self, day: date) -> bool:
        """Whether the mailbox is to be checked on `day`: a weekday that is neither a Swedish
        public holiday or eve (Midsummer Eve, Christmas Eve, New Year's Eve) nor one of the
        routine's own closed days."""
        return _swedish_calendar(day.year).is_working_day(day) and day not in self.closed_days

    def check_periods(self, day: date) -> list[CheckPeriod]:
        """The day's check times, each with the stretch of time a check counts for it.

        A check time HH:MM is met by a check from the end of the previous check time's minute
        (or from midnight, for the first) up to the end of its own minute, HH:MM:59: with
        10:00 and 15:00, a check at 09:50 meets 10:00 and one at 10:00:30 does too, but one at
        10:01 counts only for 15:00. Times are Stockholm wall-clock times, also on the days
        the clocks change.
        """
        periods = []
        starts = local_midnight(day)
        for check_time in sorted(set(self.check_times)):
            due = timezone.make_aware(datetime.combine(day, check_time) + timedelta(minutes=1))
            periods.append(CheckPeriod(check_time=check_time, starts=starts, due=due))
            starts = due
        return periods

    def period_end(self, moment: datetime) -> datetime:
        """The end of the period `moment` falls in: the next check time's end, or after the
        day's last check time, the next midnight."""
        day = timezone.localdate(moment)
        for period in self.check_periods(day):
            if moment < period.due:
                return period.due
        return local_midnight(day + timedelta(days=1))


class MailboxCheck(models.Model):
    """Someone with access opened a functional mailbox's inbox: it was checked (R5).

    At most one row per person, mailbox and check period (see
    `MonitoringRoutine.check_periods`): the first opening in the period is the one that counts.
    """

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user_name = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)
    period_end = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "user", "period_end"], name="one_check_per_person_and_period"
            ),
        ]
        indexes = [
            # Today's checks of one mailbox (its page), and of all (the sweep).
            models.Index(fields=["mailbox", "at"], name="mailbox_check_mailbox_at_idx"),
            models.Index(fields=["at"], name="mailbox_check_at_idx"),
        ]
        verbose_name = _("bevakning")
        verbose_name_plural = _("bevakningar")

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.user_name} {self.at:%Y-%m-%d %H:%M}"


class MissedCheck(models.Model):
    """A check time that passed on a working day without a check; its people were told."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    check_time = models.TimeField()
    alarmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Leads with the day: the sweep reads only today's.
            models.UniqueConstraint(
                fields=["day", "mailbox", "check_time"], name="one_alarm_per_check_time"
            ),
        ]
        verbose_name = _("missad bevakning")
        verbose_name_plural = _("missade bevakningar")

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.day:%Y-%m-%d} {self.check_time:%H:%M}"


class NotificationKind(models.TextChoices):
    """What a notification tells of. Never more: no patient, subject or text (flow 6)."""

    NEW_MESSAGE = "new_message", _("Nytt meddelande")
    REMINDER = "reminder", _("Påminnelse om svarstid")
    OVERDUE = "overdue", _("Svarstiden har gått ut")
    CHECK_MISSED = "check_missed", _("Brevlådan har inte bevakats")
    # A decision on one's own access (R17), told in the app only: its text is the decision's.
    ACCESS = "access", _("Beslut om behörighet")
    # The access log's chain is broken (R18): for the region's system administrators only.
    LOG_ALARM = "log_alarm", _("Larm om åtkomstloggen")
    # A fault report came in, was answered, closed or escalated (R22): in the app only.
    SUPPORT = "support", _("Felanmälan")


class EmailSetting(models.Model):
    """A person's own choice of e-mail for one kind of event in one mailbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_settings"
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "mailbox", "kind"], name="one_email_setting_per_kind"
            )
        ]
        verbose_name = _("e-postinställning")
        verbose_name_plural = _("e-postinställningar")

    def __str__(self) -> str:
        return f"{self.user_id} {self.mailbox_id} {self.kind} {self.enabled}"

    @staticmethod
    def default(mailbox: Mailbox, kind: str) -> bool:
        """Without a choice of one's own: e-mail for new messages in one's personal mailbox,
        and for every reminder, overdue alert and missed check."""
        if kind == NotificationKind.NEW_MESSAGE:
            return not mailbox.is_functional
        return True


class OutboxQuerySet(models.QuerySet["OutboxItem"]):
    def pending(self) -> "OutboxQuerySet":
        return self.filter(sent_at__isnull=True, failed_at__isnull=True)

    def due(self, now: datetime) -> "OutboxQuerySet":
        return self.pending().filter(due_at__lte=now)

    def failed(self) -> "OutboxQuerySet":
        return self.filter(failed_at__isnull=False)


class OutboxItem(models.Model):
    """A notification or e-mail not yet delivered (flow 4).

    Written in the transaction of the event it tells of, so it exists exactly when the event
    does; the outbox job delivers it later, and nothing a user does waits on that. The key is
    one per event, recipient and channel: an event noticed twice still tells each person once.
    """

    class Channel(models.TextChoices):
        APP = "app", _("I appen")
        EMAIL = "email", _("E-post")

    key = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    # Snapshots of what the notice may name: the mailbox, the category, a phone number or a
    # time. Never the patient, the subject or the text.
    mailbox_name = models.CharField(max_length=200)
    category_name = models.CharField(max_length=100, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
                name="outbox_pending_idx",
            ),
        ]
        verbose_name = _("utkorgspost")
        verbose_name_plural = _("utkorgsposter")

    def __str__(self) -> str:
        return self.key
