"""Search by patient's index: the threads of one patient.

Built CONCURRENTLY, outside a transaction, for the reason 0008 gives: writes to the thread table
go on during the build. Should it fail half-way, drop the INVALID index it leaves (DROP INDEX
CONCURRENTLY thread_patient_idx) and run the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messenger", "0008_delivery_recent_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="thread",
            index=models.Index(fields=["patient_id"], name="thread_patient_idx"),
        ),
    ]
