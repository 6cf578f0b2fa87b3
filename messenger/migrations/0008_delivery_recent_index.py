"""The search's index: a mailbox's deliveries across all folders, newest first.

Built CONCURRENTLY, so outside a transaction (atomic = False). A plain CREATE INDEX holds a
lock that blocks every INSERT and UPDATE on the table while it builds: at region size the
delivery table holds a few hundred thousand rows a year, seconds of sends, replies and "mark as
read" that would wait or time out during a deploy. Concurrently the build takes longer and
writes go on. Should it fail half-way, PostgreSQL leaves an INVALID index behind: drop it
(DROP INDEX CONCURRENTLY delivery_recent_idx) and run the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mailboxes", "0005_access_notices"),
        ("messenger", "0007_legal_hold_and_message_purge"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="delivery",
            index=models.Index(
                fields=["mailbox", "-last_message_at", "-id"], name="delivery_recent_idx"
            ),
        ),
    ]
