import base64
import hashlib

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice

hsa_id_validator = RegexValidator(
    r"^SE[0-9]{10}-[A-Za-z0-9]+$",
    _("Ange ett HSA-id: SE, tio siffror, bindestreck och bokstäver eller siffror."),
    code="invalid_hsa_id",
)


class User(AbstractUser):
    """A person who logs in. Never deleted (audit rows name them): deactivate instead.

    `hsa_id` is the person's id in the region's catalogue (HSA). Single sign-on and the nightly
    catalogue sync match people by it alone, never by name or e-mail.
    """

    hsa_id = models.CharField(
        _("HSA-id"),
        max_length=31,
        unique=True,
        null=True,
        blank=True,
        validators=[hsa_id_validator],
    )

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommun")
        HEALTH_CENTRE = "health_centre", _("Vårdcentral")
        REGION_UNIT = "region_unit", _("Regionenhet")

    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("namn"), max_length=200, unique=True)
    hsa_id = models.CharField(
        _("HSA-id"), max_length=31, unique=True, validators=[hsa_id_validator]
    )
    region = models.CharField(_("region"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")

    def __str__(self) -> str:
        return self.name

    @property
    def is_health_centre(self) -> bool:
        return self.kind == self.Kind.HEALTH_CENTRE

    @property
    def is_municipality(self) -> bool:
        return self.kind == self.Kind.MUNICIPALITY


class Role(models.TextChoices):
    STAFF = "staff", _("Personal")
    SUPERUSER = "superuser", _("Superanvändare")
    ACCESS_APPROVER = "access_approver", _("Behörighetsbeställare")
    LOG_REVIEWER = "log_reviewer", _("Loggkontrollant")
    STATISTICS_READER = "statistics_reader", _("Statistikläsare")


class EmploymentQuerySet(models.QuerySet["Employment"]):
    def active(self) -> "EmploymentQuerySet":
        return self.filter(ended_at__isnull=True)


class Employment(models.Model):
    """A user's work for one organisation (R18: one person, several organisations)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="employments")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="employments"
    )
    profession = models.CharField(_("yrke"), max_length=100)
    roles = ArrayField(
        models.CharField(max_length=30, choices=Role.choices), default=list, blank=True
    )
    started_at = models.DateTimeField(_("från"), auto_now_add=True)
    ended_at = models.DateTimeField(_("till"), null=True, blank=True)

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_employment_per_organisation",
            ),
        ]
        verbose_name = _("anställning")
        verbose_name_plural = _("anställningar")

    def __str__(self) -> str:
        return f"{self.user} – {self.organisation} ({self.profession})"

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def get_roles_display(self) -> list[str]:
        return [str(Role(r).label) for r in Role.values if r in self.roles]


class AgreementAcceptance(models.Model):
    """A user accepted one version of the confidentiality agreement (R17). Never deleted."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="agreement_acceptances")
    version = models.PositiveIntegerField(_("version"))
    accepted_at = models.DateTimeField(_("godkänd"), default=timezone.now)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="accept_each_version_once"),
        ]
        verbose_name = _("godkänd sekretessförbindelse")
        verbose_name_plural = _("godkända sekretessförbindelser")

    def __str__(self) -> str:
        return f"{self.user} v{self.version} {self.accepted_at:%Y-%m-%d}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A short in-app notice to one user, e.g. an access decision. Never holds patient data."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="notifications")
    text = models.CharField(_("text"), max_length=300)
    # Where the notice leads (a path in the app) and what kind of event it tells of, if any.
    url = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("avisering")
        verbose_name_plural = _("aviseringar")

    def __str__(self) -> str:
        return self.text


class SignInCounter(models.Model):
    """Sign-in attempts counted for one key of the sign-in throttle (accounts/throttle.py): a
    username from one client address, or a client address alone.

    The key is an HMAC of what it counts, never the username or address typed: a password typed
    into the username field must not end up in the database.
    """

    key = models.CharField(max_length=64, primary_key=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("inloggningsräknare")
        verbose_name_plural = _("inloggningsräknare")

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.attempts}"


def recovery_code_digest(user_id: int, code: str) -> str:
    """What is stored of a recovery code: 96 bits of its SHA-256, salted with the user's id.

    The codes carry 80 random bits each, so a fast hash is enough (as for session keys and API
    tokens): a copy of the database gives nobody a code they could type. The digest fits
    django-otp's 16-character token column.
    """
    normalised = "".join(code.split()).replace("-", "").lower()
    digest = hashlib.sha256(f"{user_id}:{normalised}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


class RecoveryCodeDevice(StaticDevice):
    """django-otp's static device for one-time recovery codes, with the codes stored hashed.

    django-otp keeps static tokens in plain text; this proxy stores and compares digests
    instead, and keeps django-otp's consume-once and throttling behaviour.
    """

    class Meta:
        proxy = True

    def verify_token(self, token: str) -> bool:
        return bool(super().verify_token(recovery_code_digest(self.user_id, token)))
