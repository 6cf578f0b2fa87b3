"""The questions of one month, for the hourly statistics count (R19).

Built CONCURRENTLY, outside a transaction, as 0009: questions go on being asked during the
build. Should it fail half-way, drop the INVALID index it leaves (DROP INDEX CONCURRENTLY
question_asked_at_idx) and run the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messenger", "0014_statistics_figures"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="question",
            index=models.Index(fields=["asked_at"], name="question_asked_at_idx"),
        ),
    ]
