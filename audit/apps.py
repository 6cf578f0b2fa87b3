from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The ground floor: the access log, which every other app writes to and which imports none
    of them (`audit` ← `accounts` ← `mailboxes` ← `messenger`). Each app registers its own models
    with django-auditlog in its ready(); threads and messages are left out, so their patient
    numbers and bodies do not live on in diffs after the one-year purge."""

    name = "audit"
    verbose_name = "Loggar"
