from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Exists, OuterRef
from django.utils import timezone

from messenger.models import Message, Thread
from messenger.services import PURGE_AFTER, messages_purge


class Command(BaseCommand):
    help = (
        "Removes messages more than a year old (R16), also from threads still in use, and each "
        "thread left without a message, as the nightly job does. Threads on legal hold and "
        "access-log rows stay. Safe to run again; --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, remove nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            cutoff = timezone.now() - PURGE_AFTER
            threads = Thread.objects.purgeable(cutoff)
            messages = Message.objects.filter(thread__in=threads, sent_at__lt=cutoff).count()
            emptied = threads.exclude(
                Exists(Message.objects.filter(thread=OuterRef("pk"), sent_at__gte=cutoff))
            ).count()
            self.stdout.write(
                f"{messages} messages are more than a year old; "
                f"{emptied} threads would be left empty and removed."
            )
            return
        purged = messages_purge()
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {purged.messages} messages and {purged.threads} threads left empty."
            )
        )
