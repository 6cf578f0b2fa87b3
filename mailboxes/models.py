from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User, hsa_id_validator


class MailboxQuerySet(models.QuerySet["Mailbox"]):
    def active(self) -> "MailboxQuerySet":
        return self.filter(closed_at__isnull=True)

    def functional(self) -> "MailboxQuerySet":
        return self.filter(kind=Mailbox.Kind.FUNCTIONAL)

    def granted_to(self, user: User) -> "MailboxQuerySet":
        """Mailboxes the user holds a grant for right now, whatever its level."""
        return self.filter(
            pk__in=AccessGrant.objects.current().filter(user=user).values("mailbox_id")
        )


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
        ]
        verbose_name = _("brevlåda")
        verbose_name_plural = _("brevlådor")

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_functional(self) -> bool:
        return self.kind == self.Kind.FUNCTIONAL


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
