import os

from celery import Celery
from celery.schedules import crontab

from messenger.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")

app = Celery("messenger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often the every-minute jobs run; tests that drive a real beat make it shorter.
EVERY_MINUTE = env_int("JOB_INTERVAL_SECONDS", 60, minimum=1)

# Every periodic job, in one place. Due times live in PostgreSQL; these only sweep them.
app.conf.beat_schedule = {
    # R9: remind the receiving mailbox before a question's reply time runs out, and alert the
    # asking side when it has run out unanswered.
    "deadlines": {
        "task": "messenger.tasks.run_job",
        "args": ("deadlines",),
        "schedule": EVERY_MINUTE,
    },
    # Deliver the notifications and e-mails waiting in the outbox; retry the failed ones.
    "outbox": {"task": "messenger.tasks.run_job", "args": ("outbox",), "schedule": EVERY_MINUTE},
    # R5: alarm the monitors and superusers of a mailbox whose check time passed unchecked.
    "mailbox_checks": {
        "task": "messenger.tasks.run_job",
        "args": ("mailbox_checks",),
        "schedule": EVERY_MINUTE,
    },
    # R19: count the statistics of this month and the two before (and any month not counted
    # yet), so the statistics page reads counted rows instead of a year of messages.
    "statistics": {
        "task": "messenger.tasks.run_job",
        "args": ("statistics",),
        "schedule": crontab(minute=5),
    },
    # Say in the log that beat and the workers are alive, so an operator sees a stuck queue.
    "heartbeat": {"task": "messenger.tasks.heartbeat", "schedule": 60.0},
    # R16: every night at 02:30, remove messages more than a year old, also from threads still
    # in use, and each thread left without a message. Threads on legal hold are left alone.
    "purge": {
        "task": "messenger.tasks.run_job",
        "args": ("purge",),
        "schedule": crontab(hour=2, minute=30),
    },
    # Every night at 02:45, remove delivered outbox rows after a month, and read notifications
    # and mailbox checks after a year.
    "prune_notices": {
        "task": "messenger.tasks.run_job",
        "args": ("prune_notices",),
        "schedule": crontab(hour=2, minute=45),
    },
    # Every night at 02:50, forget the sign-in throttle's counts with no try for a day.
    "prune_sign_in": {
        "task": "messenger.tasks.run_job",
        "args": ("prune_sign_in",),
        "schedule": crontab(hour=2, minute=50),
    },
    # R18: chain the access log's new rows into its hash chain.
    "audit_seal": {
        "task": "messenger.tasks.run_job",
        "args": ("audit_seal",),
        "schedule": EVERY_MINUTE,
    },
    # R18: every night at 03:15, check the whole access log against its hashes; alarm the
    # system administrators if anything was changed behind the app's back.
    "audit_verify": {
        "task": "messenger.tasks.run_job",
        "args": ("audit_verify",),
        "schedule": crontab(hour=3, minute=15),
    },
    # R18: every 1 February at 03:30, remove access-log rows older than AUDIT_RETENTION_YEARS.
    "audit_retention": {
        "task": "messenger.tasks.run_job",
        "args": ("audit_retention",),
        "schedule": crontab(month_of_year=2, day_of_month=1, hour=3, minute=30),
    },
}
