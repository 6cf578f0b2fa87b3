from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.catalogue import SyncResult, people_sync
from accounts.catalogue_file import CatalogueError, read_catalogue


class Command(BaseCommand):
    help = (
        "Makes the app's people match the region's catalogue extract FILE (CSV or JSON, one row "
        "per employment; see the README): adds people, their personal mailboxes and "
        "employments, updates names, professions and roles, ends employments no longer listed "
        "(their grants too), deactivates people no longer listed. One transaction; a bad file "
        "changes nothing and every bad line is named. Prints each change; safe to run again. "
        "--dry-run prints the same and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The catalogue extract, .csv or .json.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change, change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Kan inte läsa %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from None
        try:
            rows = read_catalogue(raw, path.name)
            with transaction.atomic():
                result = people_sync(rows=rows)
                if options["dry_run"]:
                    transaction.set_rollback(True)
        except CatalogueError as exc:
            raise CommandError(
                "\n".join(
                    [
                        _("Filen %(path)s har fel. Inget har ändrats.") % {"path": path},
                        *exc.problems,
                    ]
                )
            ) from None
        except ValidationError as exc:
            # The file's checks should have caught it; still, a message and nothing saved.
            raise CommandError(
                "\n".join([_("Inget har ändrats."), *(str(m) for m in exc.messages)])
            ) from None
        for change in result.changes:
            self.stdout.write(change)
        self.stdout.write(self.style.SUCCESS(summary(result, dry_run=options["dry_run"])))


def summary(result: SyncResult, *, dry_run: bool) -> str:
    counts = result.counts
    text = _(
        "%(changes)s ändringar. Personer: %(created)s nya, %(updated)s ändrade, "
        "%(reactivated)s återaktiverade, %(deactivated)s inaktiverade. Anställningar: "
        "%(added)s nya, %(changed)s ändrade, %(ended)s avslutade."
    ) % {
        "changes": len(result.changes),
        "created": counts["people_created"],
        "updated": counts["people_updated"],
        "reactivated": counts["people_reactivated"],
        "deactivated": counts["people_deactivated"],
        "added": counts["employments_added"],
        "changed": counts["employments_updated"],
        "ended": counts["employments_ended"],
    }
    if dry_run:
        text = _("Provkörning, inget har sparats: %(summary)s") % {"summary": text}
    return text
