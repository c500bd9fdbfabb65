from django.db import migrations, models
from django.db.models import F


def mark_earlier_requests_notified(apps, schema_editor):
    """Requests made before these fields existed were acknowledged when they arrived; the sweep
    must not write to their requesters again."""
    TakedownRequest = apps.get_model("moderation", "TakedownRequest")
    TakedownRequest.objects.update(
        acknowledged_at=F("created_at"), staff_notified_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="takedownrequest",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="takedownrequest",
            name="staff_notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_earlier_requests_notified, migrations.RunPython.noop),
    ]
