import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Runs the whole application for development: migrates, loads the demo data, then serves "
        "the web app (DEBUG off unless DJANGO_DEBUG is set) with one Celery worker and one "
        "beat. The embedded PostgreSQL and Redis (when DATABASE_URL / REDIS_URL are unset) live "
        "as long as this command. Ctrl-C stops it all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Where the web app listens.")
        parser.add_argument("--no-seed", action="store_true", help="Skip seed_demo.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=1)
        if options["no_seed"]:
            pass
        elif settings.DEBUG:
            call_command("seed_demo")
        else:
            self.stdout.write("No demo data loaded: DEBUG is off (manage.py seed_demo --force).")
        # The children use the servers this process owns, through the environment.
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
        # The web app shows what its users will see, Swedish error pages and all, unless
        # DJANGO_DEBUG asks for Django's debug pages.
        env.setdefault("DJANGO_DEBUG", "false")
        # Links in e-mails lead to where this web app listens.
        env.setdefault("SITE_URL", f"http://{options['addr']}")
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", options["addr"]],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "messenger",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "messenger",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        children: dict[str, subprocess.Popen[bytes]] = {}
        # Each child leads its own process group, so stopping it stops its own children too
        # (runserver's reloader, the worker's pool).
        for name, command in commands.items():
            children[name] = subprocess.Popen(  # noqa: S603  (fixed argument lists)
                command, env=env, cwd=settings.BASE_DIR, start_new_session=True
            )
        self.stdout.write(
            self.style.SUCCESS(f"Funktionsbrevlådan: http://{options['addr']}/  (Ctrl-C stops)")
        )
        # Ctrl-C and SIGTERM both stop everything; SIGINT is set explicitly because a shell that
        # starts us in the background would have it ignored.
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            stopped = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping web, worker and beat…")
        finally:
            stop_all(children.values())


def _interrupt(signum: int, frame: Any) -> None:
    # A SIGTERM to the launcher stops everything as Ctrl-C does.
    raise KeyboardInterrupt


def stop_all(children: Any, grace: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
