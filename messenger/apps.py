from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Meddelanden"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from messenger.models import Category, FaultReport, FaultReportEvent

        auditlog.register(Category)
        auditlog.register(FaultReport)
        auditlog.register(FaultReportEvent)
