from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messenger.jobs import JOBS, job_run


class Command(BaseCommand):
    help = (
        "Runs every background job once, now, or only the ones named, and prints what each did. "
        "Safe to run while beat runs them too: each job claims its own work. --list shows the "
        "jobs and their schedule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Jobs to run (default: all).")
        parser.add_argument("--list", action="store_true", help="List the jobs, run nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for job in JOBS.values():
                self.stdout.write(f"{job.name:16} {job.schedule}")
            return
        names = options["names"] or list(JOBS)
        unknown = [name for name in names if name not in JOBS]
        if unknown:
            raise CommandError(
                f"Unknown job: {', '.join(unknown)}. The jobs are: {', '.join(JOBS)}. "
                "Nothing was run."
            )
        for name in names:
            status = job_run(name)
            self.stdout.write(f"{name}: {status.last_summary}")
