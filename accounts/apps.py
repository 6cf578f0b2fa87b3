from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Konton och organisationer"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts import receivers  # noqa: F401  (connects the signal receivers)
        from accounts.models import Employment, Organisation, User

        # Change history for the administrative records. The password hash stays out, being a
        # secret, and so does the time of the last sign-in, which the access log has already.
        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(Organisation)
        auditlog.register(Employment)
