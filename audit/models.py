from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessLog(models.Model):
    """Who read or did what with patient data (PDL), and business events such as a grant decision.

    Rows carry snapshots rather than foreign keys, so they outlive users, mailboxes and the
    messages that the one-year purge removes (kept at least five years, HSLF-FS 2016:40).
    """

    class Action(models.TextChoices):
        VIEW_THREAD = "view_thread", _("Läste ärende")
        SEARCH = "search", _("Sökte")
        PRINT = "print", _("Skrev ut")
        SEND = "send", _("Skickade")
        REPLY = "reply", _("Svarade")
        FORWARD = "forward", _("Vidarebefordrade")
        LINK = "link", _("Bifogade journallänk")
        EMPTY_TRASH = "empty_trash", _("Tömde papperskorgen")
        PURGE = "purge", _("Gallrade meddelanden äldre än ett år")
        LOGIN = "login", _("Loggade in")
        LOGIN_FAILED = "login_failed", _("Misslyckad inloggning")
        LOGOUT = "logout", _("Loggade ut")
        PASSWORD_CHANGE = "password_change", _("Bytte lösenord")
        OTP_SETUP = "otp_setup", _("Ändrade tvåstegsverifiering")
        OTP_RESET = "otp_reset", _("Återställde någons tvåstegsverifiering")
        SSO_REFUSED = "sso_refused", _("Nekad inloggning via SSO")
        SWITCH_ORGANISATION = "switch_organisation", _("Bytte organisation")
        ADMIN = "admin", _("Administration")
        FOLLOW_UP = "follow_up", _("Följde upp per telefon")
        LEGAL_HOLD = "legal_hold", _("Satte ärende i bevarande")
        LEGAL_HOLD_RELEASE = "legal_hold_release", _("Hävde bevarande av ärende")
        LOG_SEARCH = "log_search", _("Sökte i åtkomstloggen")
        LOG_EXTRACT = "log_extract", _("Tog ut logg för en patient")
        DENIED = "denied", _("Nekad åtkomst")
        LOG_REVIEW = "log_review", _("Granskade åtkomstloggen")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    user_id_snapshot = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_name = models.CharField(max_length=300, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    mailbox_name = models.CharField(max_length=200, blank=True)
    # Whose log control sees the row (R18): the organisation that owns the mailbox read, which may
    # differ from the reader's (organisation_name) for people employed in two places.
    mailbox_organisation_name = models.CharField(max_length=200, blank=True, db_index=True)
    thread_id_snapshot = models.BigIntegerField(null=True, blank=True)
    patient_id = models.CharField(max_length=12, blank=True, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    # The SHA-256 of the row's content, id included, written by PostgreSQL as the row goes in
    # (the trigger audit_accesslog_hash, migration 0005): whatever inserts a row, the app or a
    # bulk load, the row carries it, at no extra round trip. Never set by the app.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # Log control (R18): an organisation's rows newest first, as read in its mailboxes
            # and as done by its own staff.
            models.Index(
                fields=["mailbox_organisation_name", "-at", "-id"], name="accesslog_mailbox_org_idx"
            ),
            models.Index(fields=["organisation_name", "-at", "-id"], name="accesslog_org_idx"),
            # "This user's refused attempts since T", asked before every DENIED row is written
            # (the rate limit in audit.services.access_denied_log): only those rows, so it
            # stays small however large the log grows.
            models.Index(
                fields=["user_id_snapshot", "at"],
                condition=models.Q(action="denied"),
                name="accesslog_denied_user_at_idx",
            ),
        ]
        verbose_name = _("åtkomstlogg")
        verbose_name_plural = _("åtkomstloggar")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_name} {self.get_action_display()}"


class AccessLogSeal(models.Model):
    """One link of the hash chain over the access log: a row's content hash chained to the link
    before it, in the order the rows were sealed.

    Rows are sealed after they commit, by the `audit_seal` job, a minute at most after they were
    written: a request never waits for a lock on the chain's head, and a row whose transaction
    rolls back never breaks the chain. `hash` is SHA-256 of "prev_hash:entry id:content hash".
    Append-only, as the log itself (migration 0005).
    """

    seq = models.BigAutoField(primary_key=True)
    entry = models.OneToOneField(
        AccessLog, on_delete=models.DO_NOTHING, related_name="seal", editable=False
    )
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("länk i loggens kedja")
        verbose_name_plural = _("länkar i loggens kedja")

    def __str__(self) -> str:
        return f"{self.seq}: rad {self.entry_id} {self.hash[:12]}"


class AccessLogUnsealed(models.Model):
    """An access-log row not yet in the chain: written by the insert trigger, in the row's own
    transaction, and taken away by the sealing job as it seals the row."""

    entry_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"rad {self.entry_id}, inte i kedjan än"
