from django.db import migrations

from messenger.categories import ensure_categories


def add_categories(apps, schema_editor):
    ensure_categories(apps.get_model("messenger", "Category"))


class Migration(migrations.Migration):
    dependencies = [("messenger", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
