"""Check times become times of day, routines get closed days, and checks and missed check times
are recorded (R5, R24).

The old free text ("08:00 och 13:00", "08 och 13") is read for HH:MM and HH tokens; a routine
where none is found gets the default, 10:00 and 15:00.
"""

import re
from datetime import time

import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import mailboxes.models

TOKEN = re.compile(r"(?<![\d:.])(\d{1,2})(?:[:.](\d{2}))?(?![\d:.])")


def parse_check_times(text: str) -> list[time]:
    found = set()
    for hour, minute in TOKEN.findall(text):
        if int(hour) < 24 and int(minute or 0) < 60:
            found.add(time(int(hour), int(minute or 0)))
    return sorted(found) or mailboxes.models.default_check_times()


def text_to_times(apps, schema_editor):
    MonitoringRoutine = apps.get_model("mailboxes", "MonitoringRoutine")
    for routine in MonitoringRoutine.objects.all():
        routine.check_time_list = parse_check_times(routine.check_times)
        routine.save(update_fields=["check_time_list"])


def times_to_text(apps, schema_editor):
    MonitoringRoutine = apps.get_model("mailboxes", "MonitoringRoutine")
    for routine in MonitoringRoutine.objects.all():
        routine.check_times = " och ".join(f"{t:%H:%M}" for t in routine.check_time_list)
        routine.save(update_fields=["check_times"])


class Migration(migrations.Migration):
    dependencies = [
        ("mailboxes", "0003_notifications_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringroutine",
            name="check_time_list",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TimeField(),
                default=mailboxes.models.default_check_times,
                size=None,
                verbose_name="bevakas klockan",
            ),
        ),
        migrations.RunPython(text_to_times, times_to_text),
        migrations.RemoveField(model_name="monitoringroutine", name="check_times"),
        migrations.RenameField(
            model_name="monitoringroutine", old_name="check_time_list", new_name="check_times"
        ),
        migrations.AddField(
            model_name="monitoringroutine",
            name="closed_days",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.DateField(),
                blank=True,
                default=list,
                size=None,
                verbose_name="stängda dagar",
            ),
        ),
        migrations.CreateModel(
            name="MailboxCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("user_name", models.CharField(max_length=300)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("period_end", models.DateTimeField()),
                (
                    "mailbox",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="checks",
                        to="mailboxes.mailbox",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "bevakning",
                "verbose_name_plural": "bevakningar",
                "ordering": ["at", "pk"],
                "indexes": [
                    models.Index(fields=["mailbox", "at"], name="mailbox_check_mailbox_at_idx"),
                    models.Index(fields=["at"], name="mailbox_check_at_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("mailbox", "user", "period_end"),
                        name="one_check_per_person_and_period",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MissedCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("check_time", models.TimeField()),
                ("alarmed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "mailbox",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="mailboxes.mailbox",
                    ),
                ),
            ],
            options={
                "verbose_name": "missad bevakning",
                "verbose_name_plural": "missade bevakningar",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "mailbox", "check_time"), name="one_alarm_per_check_time"
                    )
                ],
            },
        ),
    ]
