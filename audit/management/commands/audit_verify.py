"""`manage.py audit_verify`: check the whole access log against its hash chain (R18)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import access_log_verify


class Command(BaseCommand):
    help = "Kontrollerar åtkomstloggens hashkedja och visar första brottet."

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = access_log_verify()
        self.stdout.write(
            f"{verdict.rows} loggrader, {verdict.links} i kedjan, kedjans topp {verdict.head}"
        )
        if verdict.broken is not None:
            raise CommandError(f"Kedjan är bruten vid {verdict.broken}")
        self.stdout.write("Kedjan håller.")
