from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from messenger.models import Thread
from messenger.services import PURGE_AFTER, threads_purge


class Command(BaseCommand):
    help = (
        "Removes threads whose last message is more than a year old (R16), as the nightly job "
        "does. Access-log rows stay. Safe to run again; --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, remove nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            due = Thread.objects.filter(last_message_at__lt=timezone.now() - PURGE_AFTER).count()
            self.stdout.write(f"{due} threads are more than a year old.")
            return
        self.stdout.write(self.style.SUCCESS(f"Removed {threads_purge()} threads."))
