from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "mailboxes"
    verbose_name = "Brevlådor"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from mailboxes.models import AccessGrant, AddressListEntry, Mailbox

        auditlog.register(Mailbox)
        auditlog.register(AccessGrant, exclude_fields=["last_used_at"])
        auditlog.register(AddressListEntry)
