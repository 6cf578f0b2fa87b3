from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "mailboxes"
    verbose_name = "Brevlådor"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from mailboxes.models import (
            AccessGrant,
            AccessRequest,
            AddressListEntry,
            Mailbox,
            MonitoringRoutine,
        )

        auditlog.register(Mailbox)
        auditlog.register(AccessRequest)
        auditlog.register(MonitoringRoutine, m2m_fields={"monitors"})
        auditlog.register(AccessGrant, exclude_fields=["last_used_at"])
        auditlog.register(AddressListEntry)
