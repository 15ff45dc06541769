from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """A failing event is retried with back-off before its projector is marked failed (projections.runner)."""

    dependencies = [("projections", "0002_global_order")]

    operations = [
        migrations.AddField(
            model_name="projectioncheckpoint",
            name="error_position",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="projectioncheckpoint", name="error_count", field=models.IntegerField(default=0)
        ),
        migrations.AddField(
            model_name="projectioncheckpoint", name="retry_at", field=models.DateTimeField(blank=True, null=True)
        ),
    ]
