from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Loggar"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.apps import apps

        from audit import receivers  # noqa: F401  (connects the signal receivers)

        # Change history for the administrative records. Threads and messages are left out:
        # their patient numbers and bodies must not live on in diffs after the one-year purge.
        auditlog.register(
            apps.get_model("accounts", "User"),
            exclude_fields=["password", "last_login"],
        )
        auditlog.register(apps.get_model("accounts", "Organisation"))
        auditlog.register(apps.get_model("accounts", "Employment"))
