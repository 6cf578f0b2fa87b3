from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "messenger"
    verbose_name = "Meddelanden"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from messenger.models import Category, FaultReport, FaultReportEvent, Notice

        auditlog.register(Category)
        auditlog.register(Notice)
        auditlog.register(FaultReport)
        auditlog.register(FaultReportEvent)
