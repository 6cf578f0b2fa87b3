"""Grants and requests name the employment the access is needed for; a grant lapses with it."""

import django.db.models.deletion
from django.db import migrations, models


def _job_for(employment_model, user_id: int, organisation_id: int):
    """The user's job in the mailbox's organisation, else any ongoing one, else their latest."""
    jobs = employment_model.objects.filter(user_id=user_id)
    job = (
        jobs.filter(organisation_id=organisation_id, ended_at__isnull=True).first()
        or jobs.filter(ended_at__isnull=True).first()
        or jobs.order_by("-ended_at").first()
    )
    if job is None:
        raise RuntimeError(
            f"User {user_id} has an access grant or request but no employment: add one first."
        )
    return job


def name_the_employments(apps, schema_editor):
    employment_model = apps.get_model("accounts", "Employment")
    for model_name, user_field in (("AccessGrant", "user_id"), ("AccessRequest", "applicant_id")):
        model = apps.get_model("mailboxes", model_name)
        field = "employment" if model_name == "AccessGrant" else "applicant_employment"
        for row in model.objects.select_related("mailbox").filter(**{f"{field}__isnull": True}):
            job = _job_for(employment_model, getattr(row, user_field), row.mailbox.organisation_id)
            setattr(row, field, job)
            row.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("mailboxes", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessgrant",
            name="employment",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="grants",
                to="accounts.employment",
                verbose_name="anställning",
            ),
        ),
        migrations.AddField(
            model_name="accessrequest",
            name="applicant_employment",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.employment",
                verbose_name="anställning",
            ),
        ),
        migrations.RunPython(name_the_employments, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accessgrant",
            name="employment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="grants",
                to="accounts.employment",
                verbose_name="anställning",
            ),
        ),
        migrations.AlterField(
            model_name="accessrequest",
            name="applicant_employment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.employment",
                verbose_name="anställning",
            ),
        ),
    ]
