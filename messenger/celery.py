import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messenger.settings")

app = Celery("messenger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, in one place. Due times live in PostgreSQL; these only sweep them.
app.conf.beat_schedule = {
    # Say in the log that beat and the workers are alive, so an operator sees a stuck queue.
    "heartbeat": {"task": "messenger.tasks.heartbeat", "schedule": 60.0},
}
